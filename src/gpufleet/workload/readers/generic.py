"""Reader of gpufleet's generic job CSV: submit_s, duration_s, gpus and optional team and class.

Columns (header required, any order):
  submit_s    seconds from any origin (>= 0; rows need not be sorted)
  duration_s  run seconds at full speed (> 0; 0 is skipped and counted)
  gpus        whole GPUs (>= 1; 0 is skipped and counted)
  team        optional; mapped through team_map, empty -> the default team
  class       optional; inference | training | research | best-effort, mapped through class_map
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gpufleet.errors import InputError, Problem
from gpufleet.tables import PRIORITY_CLASSES
from gpufleet.workload.jobs import JobBatch
from gpufleet.workload.readers._csv import integers, line_numbers, numbers, read_csv_strings, strings

REQUIRED = ("submit_s", "duration_s", "gpus")
OPTIONAL = ("team", "class")


def _column_or(df_col: np.ndarray, mapping: dict[str, str], default: str) -> np.ndarray:
    out = np.array([mapping.get(v, v) if v else default for v in df_col.tolist()], dtype=object)
    return out


def read_generic(
    path: Path,
    team_map: dict[str, str],
    class_map: dict[str, str],
    default_team: str,
    default_class: str,
    workload: str = "",
) -> JobBatch:
    where = str(path)
    df = read_csv_strings(path, REQUIRED, OPTIONAL, fmt="generic")
    submit = numbers(df, "submit_s", where)
    duration = numbers(df, "duration_s", where)
    gpus = integers(df, "gpus", where)
    n = len(df)
    team = (
        _column_or(strings(df, "team", where, allow_empty=True), team_map, default_team)
        if "team" in df.columns
        else np.full(n, default_team, dtype=object)
    )
    klass = (
        _column_or(strings(df, "class", where, allow_empty=True), class_map, default_class)
        if "class" in df.columns
        else np.full(n, default_class, dtype=object)
    )
    bad = ~np.isin(klass.astype(str), PRIORITY_CLASSES)
    if bad.any():
        lines = line_numbers(df, bad)
        raise InputError(
            [
                Problem(
                    f"{where}:{int(ln)}", "class", f"expected one of {', '.join(PRIORITY_CLASSES)}, got {v!r}"
                )
                for ln, v in zip(lines[:10], klass[bad][:10].tolist(), strict=False)
            ]
        )
    skipped: dict[str, int] = {}
    keep = np.ones(n, dtype=bool)
    for reason, mask in (("zero_gpus", gpus == 0), ("zero_duration", duration == 0)):
        hit = mask & keep
        if hit.any():
            skipped[reason] = int(hit.sum())
            keep &= ~hit
    sub = submit[keep]
    first = float(sub.min()) if len(sub) else 0.0
    return JobBatch.build(
        sub - first, duration[keep], gpus[keep], team[keep], klass[keep], workload=workload, skipped=skipped
    )
