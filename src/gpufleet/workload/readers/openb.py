"""Reader of Alibaba openb pod lists (cluster-trace-gpu-v2023): GPU pods as jobs, qos -> class."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gpufleet.scenario.limits import MAX_TRACE_GPUS
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

REQUIRED = (
    "name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase",
    "creation_time", "deletion_time", "scheduled_time",
)  # fmt: skip


def read_openb(
    path: Path,
    team_map: dict[str, str],
    class_map: dict[str, str],
    default_team: str,
    default_class: str,
    workload: str = "",
) -> JobBatch:
    """GPU pods of an openb pod list as jobs: submit = creation, run = deletion - scheduled.

    Skipped and counted: pods with no GPU (`zero_gpu`), pods never scheduled (`never_scheduled`,
    empty scheduled_time). Kept and counted in `adjusted`: a fractional GPU (gpu_milli < 1000 on one
    GPU) rounded up to one GPU. qos -> class (class_map) and team (team_map). Times are seconds from
    the trace's start; origin: the first accepted submit.
    """
    where = str(path)
    df = read_csv_strings(path, REQUIRED, fmt="openb")
    gpus = integers(df, "num_gpu", where, max_value=MAX_TRACE_GPUS)
    milli = numbers(df, "gpu_milli", where)
    created = numbers(df, "creation_time", where)
    check_span(df, created, "creation_time", where)
    deleted = numbers(df, "deletion_time", where)
    check_span(df, deleted, "deletion_time", where)
    scheduled = numbers(df, "scheduled_time", where, allow_empty=True)
    qos = strings(df, "qos", where)
    keep, skipped = skip_rows(len(df), (("zero_gpu", gpus == 0), ("never_scheduled", np.isnan(scheduled))))
    run = deleted - scheduled
    backwards = keep & (run < 0)
    if backwards.any():
        raise bad_rows(df, backwards, where, "deletion_time", "before scheduled_time", quote=False)
    early = keep & (scheduled < created)
    if early.any():
        raise bad_rows(df, early, where, "scheduled_time", "before creation_time", quote=False)
    hit = keep & (run == 0)
    if hit.any():
        skipped["zero_duration"] = int(hit.sum())
        keep &= ~hit
    adjusted: dict[str, int] = {}
    fractional = keep & (gpus == 1) & (milli < 1000)
    if fractional.any():
        adjusted["fractional_gpu_rounded_up"] = int(fractional.sum())
    submit = created[keep]
    first = float(submit.min()) if len(submit) else 0.0
    return JobBatch.build(
        submit - first,
        run[keep],
        gpus[keep],
        mapped(qos[keep], team_map, default_team),
        mapped(qos[keep], class_map, default_class),
        workload=workload,
        skipped=skipped,
        adjusted=adjusted,
    )
