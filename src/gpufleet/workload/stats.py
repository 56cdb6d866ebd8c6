"""Statistics of a job batch: counts, skips, job sizes, duration percentiles, GPU-hours, arrivals by hour."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gpufleet.workload.jobs import JobBatch

PERCENTILES = (10, 25, 50, 75, 90, 99)


def hour_of_day(batch: JobBatch) -> npt.NDArray[np.int64]:
    """Hour (0-23) of each submit: on the trace's clock when it has a dated origin, else from time 0."""
    offset = 0.0
    if batch.origin is not None:
        o = batch.origin
        offset = o.hour * 3600.0 + o.minute * 60.0 + o.second + o.microsecond / 1e6
    return (np.floor(np.mod(batch.submit_s + offset, 86400.0) / 3600.0).astype(np.int64)) % 24


@dataclass(frozen=True, slots=True)
class TraceStats:
    workload: str
    rows_read: int  # jobs accepted + rows skipped
    jobs: int
    skipped: dict[str, int]
    adjusted: dict[str, int]
    jobs_by_gpus: dict[int, int]
    gpu_hours_by_gpus: dict[int, float]
    duration_s: dict[str, float]  # p10 ... p99, mean, max
    gpu_hours: float
    span_s: float  # first to last submit
    first_submit_utc: str | None
    arrivals_by_hour: list[int]  # 24 counts
    hour_clock: str  # "trace clock (UTC as written)" or "hours from the first submit"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["jobs_by_gpus"] = {str(k): v for k, v in self.jobs_by_gpus.items()}
        d["gpu_hours_by_gpus"] = {str(k): v for k, v in self.gpu_hours_by_gpus.items()}
        return d


def trace_stats(batch: JobBatch) -> TraceStats:
    n = len(batch)
    sizes, counts = np.unique(batch.gpus, return_counts=True)
    gpu_h: list[float] = []
    if n:
        gpu_h = np.bincount(np.searchsorted(sizes, batch.gpus), weights=batch.gpu_seconds / 3600.0).tolist()
    dur: dict[str, float] = {}
    if n:
        for p in PERCENTILES:
            dur[f"p{p}"] = float(np.percentile(batch.duration_s, p))
        dur["mean"] = float(batch.duration_s.mean())
        dur["max"] = float(batch.duration_s.max())
    return TraceStats(
        workload=batch.workload,
        rows_read=n + sum(batch.skipped.values()),
        jobs=n,
        skipped=dict(batch.skipped),
        adjusted=dict(batch.adjusted),
        jobs_by_gpus={int(s): int(c) for s, c in zip(sizes, counts, strict=True)},
        gpu_hours_by_gpus={int(s): float(h) for s, h in zip(sizes, gpu_h, strict=True)},
        duration_s=dur,
        gpu_hours=batch.gpu_hours(),
        span_s=float(batch.submit_s[-1] - batch.submit_s[0]) if n else 0.0,
        first_submit_utc=batch.origin.isoformat() if batch.origin is not None else None,
        arrivals_by_hour=np.bincount(hour_of_day(batch), minlength=24).astype(int).tolist(),
        hour_clock="trace clock" if batch.origin is not None else "hours from the first submit",
    )
