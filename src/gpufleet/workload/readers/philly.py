"""Reader of the Philly job trace (philly.csv): submit time, run seconds, GPUs, virtual cluster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from gpufleet.scenario.limits import MAX_TRACE_GPUS, MAX_TRACE_SECONDS
from gpufleet.workload.jobs import JobBatch
from gpufleet.workload.readers._csv import (
    bad_rows,
    check_span,
    integers,
    mapped,
    numbers,
    read_csv_strings,
    skip_rows,
    strings,
)  # fmt: skip

REQUIRED = ("timestamp", "duration", "num_gpus", "cluster")
OPTIONAL = ("gpu_time",)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def read_philly(
    path: Path,
    team_map: dict[str, str],
    class_map: dict[str, str],
    default_team: str,
    default_class: str,
    workload: str = "",
) -> JobBatch:
    """Jobs of a Philly trace; virtual cluster -> team (team_map) and class (class_map).

    Rows need not be sorted. Jobs with 0 GPUs or 0 seconds are skipped and counted; a missing,
    unparsable or negative value is an error naming the line. Time origin: the first submit.
    """
    import pandas as pd

    where = str(path)
    df = read_csv_strings(path, REQUIRED, OPTIONAL, fmt="philly")
    text = df["timestamp"].astype(str).str.strip()
    stamps = pd.to_datetime(text, format=TIME_FORMAT, errors="coerce")
    bad = stamps.isna().to_numpy()
    if bad.any():
        raise bad_rows(df, bad, where, "timestamp", "expected YYYY-MM-DD HH:MM:SS")
    check_span(
        df, stamps.to_numpy(dtype="datetime64[s]").astype(np.int64).astype(np.float64), "timestamp", where
    )
    duration = numbers(df, "duration", where, max_value=MAX_TRACE_SECONDS)
    gpus = integers(df, "num_gpus", where, max_value=MAX_TRACE_GPUS)
    if "gpu_time" in df.columns:
        numbers(df, "gpu_time", where)
    cluster = strings(df, "cluster", where)
    keep, skipped = skip_rows(len(df), (("zero_gpus", gpus == 0), ("zero_duration", duration == 0)))
    seconds = stamps.to_numpy(dtype="datetime64[s]").astype(np.int64).astype(np.float64)[keep]
    if len(seconds) == 0:
        return JobBatch.build([], [], [], [], [], workload=workload, skipped=skipped)
    first = float(seconds.min())
    origin = dt.datetime.fromtimestamp(first, tz=dt.UTC)
    return JobBatch.build(
        seconds - first,
        duration[keep],
        gpus[keep],
        mapped(cluster[keep], team_map, default_team),
        mapped(cluster[keep], class_map, default_class),
        workload=workload,
        skipped=skipped,
        origin=origin,
    )
