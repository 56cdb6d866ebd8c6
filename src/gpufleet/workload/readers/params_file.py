"""Synthetic-stream parameters as YAML files: save a fit, load one back (the file I/O of synthetic.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from gpufleet.errors import InputError
from gpufleet.scenario.source import MAX_TEXT_CHARS, parse_yaml, too_big_message
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
    if p.stat().st_size > MAX_TEXT_CHARS:
        raise InputError(too_big_message(p.stat().st_size), where=str(p))
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text ({exc.reason}): expected a parameters YAML file", where=str(p)
        ) from None
    data, _ = parse_yaml(text, str(p))  # bounded: aliases, nesting; errors name file:line
    if not isinstance(data, dict):
        raise InputError("expected a mapping of synthetic parameters", where=str(p))
    try:
        return params_from_dict(data)
    except ValueError as exc:
        raise InputError(str(exc), where=str(p)) from None
