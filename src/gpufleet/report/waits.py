"""Waits from the jobs table: each job's wait, censored at the horizon, and the queue at event resolution.

The queue the engine samples per reporting step (`queue`) holds step averages: a burst of jobs that
waits an hour reads as 1/24 of its size on a daily step. The true queue is a step function that changes
only when a job is submitted or starts, so its peak is exact from the jobs table: a job waits over
[submit, first start), or [submit, end) if it failed before starting, or [submit, horizon) if it never
started. Waits after a requeue (a failure or preemption sends a running job back to the queue) are not
placed in time: the jobs table keeps only their total (`wait_s` minus the first wait), so the curve
leaves them out and `requeue_wait` reports how much that is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gpufleet.report.timeline import horizon_end_of
from gpufleet.tables import RunTables

SECONDS_PER_HOUR = 3600.0


def job_waits(jobs: pd.DataFrame, horizon: pd.Timestamp) -> pd.DataFrame:
    """Per job: wait_h (total queued time, up to the horizon for a job still waiting) and censored.

    A job still queued at the horizon has not finished waiting: its wait is counted up to the horizon
    (horizon − submit for one that never started) and marked censored, so percentiles are lower bounds.
    """
    submit = pd.to_datetime(jobs["submit"], utc=True)
    start = pd.to_datetime(jobs["start"], utc=True)
    end = pd.to_datetime(jobs["end"], utc=True)
    never = start.isna()
    stop = end.where(end.notna(), horizon)
    first_wait = ((start.where(~never, stop)) - submit).dt.total_seconds().to_numpy(np.float64)
    recorded = jobs["wait_s"].to_numpy(np.float64, na_value=np.nan)
    wait_s = np.where(never.to_numpy() | np.isnan(recorded), first_wait, recorded)
    censored = (jobs["state"].astype(str) == "queued").to_numpy()
    return pd.DataFrame(
        {
            "class": jobs["class"].astype(str).to_numpy(),
            "wait_h": np.maximum(wait_s, 0.0) / SECONDS_PER_HOUR,
            "censored": censored,
        },
        index=jobs.index,
    )


def _first_wait_intervals(jobs: pd.DataFrame, horizon: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    submit = pd.to_datetime(jobs["submit"], utc=True)
    start = pd.to_datetime(jobs["start"], utc=True)
    end = pd.to_datetime(jobs["end"], utc=True)
    stop = start.where(start.notna(), end.where(end.notna(), horizon))
    return submit, stop.where(stop <= horizon, horizon)


def _naive(times: pd.Series) -> npt.NDArray[np.datetime64]:
    out: npt.NDArray[np.datetime64] = times.dt.tz_localize(None).to_numpy()
    return out


def queue_curve(jobs: pd.DataFrame, horizon: pd.Timestamp) -> pd.DataFrame:
    """The queue as a step function: at each `time` from which it holds, `queued_jobs` and `queued_gpus`.

    Intervals are half-open, so a job submitted and started at the same instant never counts, and at
    equal times starts are applied before the value is read.
    """
    submit, stop = _first_wait_intervals(jobs, horizon)
    waits = (stop > submit).to_numpy()
    if not waits.any():
        return pd.DataFrame(
            {"time": pd.Series(dtype="datetime64[us, UTC]"), "queued_jobs": [], "queued_gpus": []}
        )
    gpus = jobs["gpus"].to_numpy(np.float64)[waits]
    # as naive UTC datetime64: a tz-aware column's to_numpy() would build one Timestamp per row
    times = np.concatenate([_naive(submit)[waits], _naive(stop)[waits]])
    d_jobs = np.concatenate([np.ones(len(gpus)), -np.ones(len(gpus))])
    d_gpus = np.concatenate([gpus, -gpus])
    frame = pd.DataFrame({"time": times, "queued_jobs": d_jobs, "queued_gpus": d_gpus})
    out = frame.groupby("time", sort=True).sum().cumsum().reset_index()
    out["time"] = pd.to_datetime(out["time"], utc=True)
    return out


@dataclass(frozen=True, slots=True)
class Peak:
    """The largest value of a queue curve and the first instant it was reached (None: nothing waited)."""

    value: float
    at: pd.Timestamp | None
    jobs: float  # jobs waiting at that instant (for a GPU peak) or GPUs (for a job peak)


def peak(curve: pd.DataFrame, column: str, other: str) -> Peak:
    if curve.empty or float(curve[column].max()) <= 0:
        return Peak(0.0, None, 0.0)
    i = int(curve[column].to_numpy().argmax())
    return Peak(
        float(curve[column].iloc[i]), pd.Timestamp(curve["time"].iloc[i]), float(curve[other].iloc[i])
    )


@dataclass(frozen=True, slots=True)
class QueuePeaks:
    """Peaks of the queue at event resolution, for all job classes together and per class."""

    gpus: Peak  # most GPUs asked for by waiting jobs at once (with the jobs waiting then)
    jobs: Peak  # most jobs waiting at once (with the GPUs they asked for)
    gpus_by_class: dict[str, Peak]
    requeue_jobs: int  # jobs whose waits after a requeue are not in the curve
    requeue_wait_gpu_hours: float  # GPUs x those waits


def queue_peaks(tables: RunTables, horizon: pd.Timestamp | None = None) -> QueuePeaks:
    """Peak queued GPUs and jobs at event resolution, from the jobs table."""
    jobs = tables.jobs
    h = horizon if horizon is not None else horizon_end_of(tables)
    if h is None or jobs.empty:
        none = Peak(0.0, None, 0.0)
        return QueuePeaks(none, none, {}, 0, 0.0)
    curve = queue_curve(jobs, h)
    by_class = {}
    for cls, g in jobs.groupby(jobs["class"].astype(str), sort=True):
        by_class[str(cls)] = peak(queue_curve(g, h), "queued_gpus", "queued_jobs")
    submit, stop = _first_wait_intervals(jobs, h)
    first = (stop - submit).dt.total_seconds().to_numpy(np.float64)
    recorded = jobs["wait_s"].to_numpy(np.float64, na_value=np.nan)
    started = jobs["start"].notna().to_numpy()
    extra = np.where(started & ~np.isnan(recorded), np.maximum(recorded - first, 0.0), 0.0)
    extra[extra < 1.0] = 0.0  # rounding of the engine's clock
    gpus = jobs["gpus"].to_numpy(np.float64)
    return QueuePeaks(
        gpus=peak(curve, "queued_gpus", "queued_jobs"),
        jobs=peak(curve, "queued_jobs", "queued_gpus"),
        gpus_by_class=by_class,
        requeue_jobs=int((extra > 0).sum()),
        requeue_wait_gpu_hours=float((extra * gpus).sum() / SECONDS_PER_HOUR),
    )
