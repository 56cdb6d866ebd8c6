"""Synthetic-stream parameters as YAML files: save a fit, load one back (the file I/O of synthetic.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from gpufleet.errors import InputError
from gpufleet.workload.synthetic import SyntheticParams, params_from_dict, params_to_dict

HEADER = (
    "# gpufleet synthetic job-stream parameters (gpufleet.workload.synthetic): job sizes, durations\n"
    "# by size group (log-seconds quantiles), hour-of-day shares and rescaled inter-arrival gaps.\n"
)


def save_params(params: SyntheticParams, path: str | Path) -> None:
    """Write the parameters as YAML; a path that cannot be written (no such folder, a folder) is bad input."""
    text = yaml.safe_dump(params_to_dict(params), sort_keys=False, width=110, default_flow_style=None)
    try:
        Path(path).write_text(HEADER + text, encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        raise InputError(f"cannot write the parameters file: {exc.strerror}", where=str(path)) from None


def load_params(path: str | Path) -> SyntheticParams:
    p = Path(path)
    if not p.is_file():
        raise InputError("no such parameters file", where=str(p))
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark is not None else str(p)
        raise InputError(f"not valid YAML: {exc}", where=where) from None
    if not isinstance(data, dict):
        raise InputError("expected a mapping of synthetic parameters", where=str(p))
    try:
        return params_from_dict(data)
    except ValueError as exc:
        raise InputError(str(exc), where=str(p)) from None
