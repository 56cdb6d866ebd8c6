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
import numpy.typing as npt

from gpufleet.scenario.limits import MAX_TRACE_GPUS, MAX_TRACE_SECONDS
from gpufleet.tables import PRIORITY_CLASSES
from gpufleet.workload.jobs import JobBatch
from gpufleet.workload.readers._csv import (
    bad_rows,
    check_span,
    integers,
    numbers,
    read_csv_strings,
    skip_rows,
    strings,
)

REQUIRED = ("submit_s", "duration_s", "gpus")
OPTIONAL = ("team", "class")


def _column_or(
    values: npt.NDArray[np.object_], mapping: dict[str, str], default: str
) -> npt.NDArray[np.object_]:
    """Cells mapped through `mapping`; a cell it lacks stays as written (the file names teams and classes
    itself, unlike philly and openb), an empty one takes the default."""
    return np.array([mapping.get(v, v) if v else default for v in values.tolist()], dtype=object)


def read_generic(
    path: Path,
    team_map: dict[str, str],
    class_map: dict[str, str],
    default_team: str,
    default_class: str,
    workload: str = "",
) -> JobBatch:
    """Jobs of a generic CSV (columns above); 0 GPUs or 0 seconds skipped and counted."""
    where = str(path)
    df = read_csv_strings(path, REQUIRED, OPTIONAL, fmt="generic")
    submit = numbers(df, "submit_s", where)
    check_span(df, submit, "submit_s", where)
    duration = numbers(df, "duration_s", where, max_value=MAX_TRACE_SECONDS)
    gpus = integers(df, "gpus", where, max_value=MAX_TRACE_GPUS)
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
        expected = f"expected one of {', '.join(PRIORITY_CLASSES)}"
        raise bad_rows(df, bad, where, "class", expected)  # the cell: class_map values were checked
    keep, skipped = skip_rows(n, (("zero_gpus", gpus == 0), ("zero_duration", duration == 0)))
    sub = submit[keep]
    first = float(sub.min()) if len(sub) else 0.0
    return JobBatch.build(
        sub - first, duration[keep], gpus[keep], team[keep], klass[keep], workload=workload, skipped=skipped
    )
