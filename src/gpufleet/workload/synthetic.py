"""Fitted parameters of a synthetic job stream, fitting them on a trace, and their YAML form.

The model, fitted on a trace (JobBatch):
- job size: the empirical distribution of GPU counts;
- duration given size: quantiles of log(duration) per size group (sizes with few jobs pooled with
  their neighbours), on a grid dense at both tails, p_i = (1 - cos(pi i / (K - 1))) / 2;
- arrivals: a daily cycle of hour-of-day shares (24, summing to 1) and, in time rescaled by that
  cycle, a renewal process whose gaps follow the trace's rescaled inter-arrival quantiles (mean 1):
  bursts of submissions survive, the cycle is kept;
- offered load: jobs per day and the model's mean GPU-seconds per job (exact for the sampler), and
  the source fleet's GPU count when known, so offered load per GPU can be kept on another fleet.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from gpufleet.catalog.load import field_errors, load_builtin_stream
from gpufleet.catalog.workload_model import SyntheticParamsFile
from gpufleet.units import SECONDS_PER_DAY
from gpufleet.workload.jobs import JobBatch
from gpufleet.workload.stats import hour_of_day

F64 = npt.NDArray[np.float64]


def quantile_grid(points: int) -> F64:
    """Probabilities of the quantile grid, dense at both tails: (1 - cos(pi i / (K - 1))) / 2."""
    return np.asarray((1.0 - np.cos(np.pi * np.arange(points) / (points - 1))) / 2.0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class DurationGroup:
    """Durations of jobs whose GPU count lies in [min_gpus, max_gpus]: log-seconds quantiles."""

    min_gpus: int
    max_gpus: int
    jobs: int
    log_quantiles: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SyntheticParams:
    name: str
    source: str  # where the figures come from, in words
    sources: tuple[str, ...]  # catalog source keys
    confidence: str
    jobs: int  # jobs the fit saw
    span_s: float  # first to last submit of the fitted trace
    jobs_per_day: float  # the trace's arrival rate over its span
    gpu_seconds_per_job: float  # mean of the fitted model (exact for the sampler)
    trace_gpu_seconds_per_job: float  # the trace's own mean (its offered load per job)
    source_gpus: float | None  # GPUs of the source fleet, when known
    hour_shares: tuple[float, ...]  # 24, sum 1
    sizes: tuple[int, ...]
    size_probs: tuple[float, ...]
    groups: tuple[DurationGroup, ...]
    gap_quantiles: tuple[float, ...]  # rescaled inter-arrival gaps, mean 1
    quantile_points: int

    @property
    def offered_gpus(self) -> float:
        """Mean GPUs the source's jobs asked for over its span (its offered load, in GPUs)."""
        return self.jobs_per_day * self.trace_gpu_seconds_per_job / SECONDS_PER_DAY

    @property
    def load_per_gpu(self) -> float | None:
        """Offered load per GPU of the source fleet (None when its size is unknown)."""
        return None if not self.source_gpus else self.offered_gpus / self.source_gpus

    def group_index(self) -> npt.NDArray[np.int64]:
        """For each entry of `sizes`, the index of its duration group."""
        out = np.zeros(len(self.sizes), dtype=np.int64)
        for i, s in enumerate(self.sizes):
            for g, grp in enumerate(self.groups):
                if grp.min_gpus <= s <= grp.max_gpus:
                    out[i] = g
        return out


def _mean_exp_piecewise_linear(probs: F64, q: F64) -> float:
    """E[exp(Q(U))] for U uniform and Q linear between the grid points: exact per segment."""
    dp = np.diff(probs)
    dq = np.diff(q)
    e0, e1 = np.exp(q[:-1]), np.exp(q[1:])
    flat = np.abs(dq) < 1e-12
    seg = np.where(flat, e0, (e1 - e0) / np.where(flat, 1.0, dq))
    return float(np.sum(seg * dp))


def _mean_piecewise_linear(probs: F64, q: F64) -> float:
    return float(np.sum(np.diff(probs) * (q[:-1] + q[1:]) / 2.0))


def model_gpu_seconds_per_job(
    sizes: tuple[int, ...], probs: tuple[float, ...], groups: tuple[DurationGroup, ...], points: int
) -> float:
    grid = quantile_grid(points)
    means = [_mean_exp_piecewise_linear(grid, np.asarray(g.log_quantiles)) for g in groups]
    total = 0.0
    for s, p in zip(sizes, probs, strict=True):
        g = next(i for i, grp in enumerate(groups) if grp.min_gpus <= s <= grp.max_gpus)
        total += p * s * means[g]
    return total


def _group_bounds(
    sizes: npt.NDArray[np.int64], counts: npt.NDArray[np.int64], min_jobs: int
) -> list[tuple[int, int, int]]:
    """Contiguous size ranges holding at least `min_jobs` jobs each: (min, max, jobs)."""
    bounds: list[tuple[int, int, int]] = []
    start: int | None = None
    acc = 0
    for s, c in zip(sizes.tolist(), counts.tolist(), strict=True):
        start = s if start is None else start
        acc += c
        if acc >= min_jobs:
            bounds.append((start, s, acc))
            start, acc = None, 0
    if acc:  # the largest sizes had too few jobs: pool them with the group before
        if bounds:
            a, _, n = bounds.pop()
            bounds.append((a, int(sizes[-1]), n + acc))
        else:
            bounds.append((int(sizes[0]), int(sizes[-1]), acc))
    return bounds


def _groups(
    batch: JobBatch, sizes: npt.NDArray[np.int64], counts: npt.NDArray[np.int64], min_jobs: int, grid: F64
) -> tuple[DurationGroup, ...]:
    logd = np.log(batch.duration_s)
    out = []
    for a, b, n in _group_bounds(sizes, counts, min_jobs):
        mask = (batch.gpus >= a) & (batch.gpus <= b)
        q = np.quantile(logd[mask], grid)
        out.append(DurationGroup(a, b, n, tuple(float(x) for x in q)))
    return tuple(out)


def cycle_position_days(t_s: F64, hour_shares: F64, clock_offset_s: float = 0.0) -> F64:
    """Time rescaled by the daily cycle, in days: integral of 24 x share(hour) over [0, t].

    One calendar day always maps to one rescaled day; within a day, busy hours stretch.
    """
    t = np.asarray(t_s, dtype=np.float64) + clock_offset_s
    weights = 24.0 * np.asarray(hour_shares, dtype=np.float64)
    cum = np.concatenate([[0.0], np.cumsum(weights) / 24.0])  # rescaled days at each hour boundary
    day = np.floor(t / SECONDS_PER_DAY)
    within = t - day * SECONDS_PER_DAY
    h = np.minimum((within // 3600.0).astype(np.int64), 23)
    frac = (within - h * 3600.0) / 3600.0
    pos = day + cum[h] + frac * weights[h] / 24.0
    t0 = clock_offset_s
    d0 = np.floor(t0 / SECONDS_PER_DAY)
    w0 = t0 - d0 * SECONDS_PER_DAY
    h0 = min(int(w0 // 3600.0), 23)
    pos0 = d0 + cum[h0] + (w0 - h0 * 3600.0) / 3600.0 * weights[h0] / 24.0
    return np.asarray(pos - pos0, dtype=np.float64)


def fit(
    batch: JobBatch,
    name: str = "",
    source: str = "",
    source_gpus: float | None = None,
    min_group_jobs: int = 200,
    quantile_points: int = 201,
) -> SyntheticParams:
    """Fit the synthetic model on a trace (at least two jobs with positive durations)."""
    n = len(batch)
    if n < 2:
        raise ValueError("fitting needs at least two jobs")
    if bool(np.any(batch.duration_s <= 0)):
        raise ValueError("fitting needs positive durations")
    grid = quantile_grid(quantile_points)
    sizes, counts = np.unique(batch.gpus, return_counts=True)
    probs = counts / counts.sum()
    groups = _groups(batch, sizes, counts, min_group_jobs, grid)
    hours = hour_of_day(batch)
    shares = np.bincount(hours, minlength=24) / n
    offset = 0.0
    if batch.origin is not None:
        o = batch.origin
        offset = o.hour * 3600.0 + o.minute * 60.0 + o.second
    pos = cycle_position_days(batch.submit_s, shares, offset)
    gaps = np.diff(pos)
    gq = np.quantile(gaps, grid)
    mean_gap = _mean_piecewise_linear(grid, gq)
    gq = gq / mean_gap if mean_gap > 0 else np.ones_like(gq)
    span = float(batch.submit_s[-1] - batch.submit_s[0])
    size_t = tuple(int(s) for s in sizes)
    prob_t = tuple(float(p) for p in probs)
    return SyntheticParams(
        name=name,
        source=source,
        sources=(),
        confidence="estimate",
        jobs=n,
        span_s=span,
        jobs_per_day=(n - 1) / span * SECONDS_PER_DAY if span > 0 else float(n),
        gpu_seconds_per_job=model_gpu_seconds_per_job(size_t, prob_t, groups, quantile_points),
        trace_gpu_seconds_per_job=float(batch.gpu_seconds.mean()),
        source_gpus=source_gpus,
        hour_shares=tuple(float(s) for s in shares),
        sizes=size_t,
        size_probs=prob_t,
        groups=groups,
        gap_quantiles=tuple(float(x) for x in gq),
        quantile_points=quantile_points,
    )


# ------------------------------------------------------------------------------------- YAML form


def _r(x: float) -> float:
    return float(f"{x:.6g}")


def params_to_dict(p: SyntheticParams) -> dict[str, Any]:
    """A plain dict (YAML-ready, numbers to 6 significant digits) of the parameters."""
    return {
        "name": p.name,
        "source": p.source,
        "sources": list(p.sources),
        "confidence": p.confidence,
        "jobs": p.jobs,
        "span_s": _r(p.span_s),
        "jobs_per_day": _r(p.jobs_per_day),
        "gpu_seconds_per_job": _r(p.trace_gpu_seconds_per_job),
        "source_gpus": p.source_gpus,
        "hour_shares": [_r(x) for x in p.hour_shares],
        "sizes": list(p.sizes),
        "size_probs": [_r(x) for x in p.size_probs],
        "quantile_points": p.quantile_points,
        "duration_groups": [
            {
                "min_gpus": g.min_gpus,
                "max_gpus": g.max_gpus,
                "jobs": g.jobs,
                "log_duration_s_quantiles": [_r(x) for x in g.log_quantiles],
            }
            for g in p.groups
        ],
        "gap_quantiles": [_r(x) for x in p.gap_quantiles],
    }


def params_from_dict(d: dict[str, Any]) -> SyntheticParams:
    """Parameters from their dict form (a parameters file); ValueError naming the field when something
    is off (the checks: catalog.workload_model.SyntheticParamsFile)."""
    try:
        return params_from_file(SyntheticParamsFile.model_validate(d))
    except ValidationError as exc:
        raise ValueError("; ".join(field_errors(exc))) from None


def params_from_file(f: SyntheticParamsFile) -> SyntheticParams:
    """The sampler's parameters from a validated file: shares normalised, the model's mean GPU-seconds
    per job computed (the file's own figure is the trace's)."""
    probs_arr = np.asarray(f.size_probs, dtype=np.float64)
    shares_arr = np.asarray(f.hour_shares, dtype=np.float64)
    groups = tuple(
        DurationGroup(g.min_gpus, g.max_gpus, g.jobs, tuple(g.log_duration_s_quantiles))
        for g in f.duration_groups
    )
    sizes = tuple(f.sizes)
    probs = tuple(float(x) for x in probs_arr / probs_arr.sum())
    return SyntheticParams(
        name=f.name,
        source=f.source,
        sources=tuple(f.sources),
        confidence=f.confidence,
        jobs=f.jobs,
        span_s=f.span_s,
        jobs_per_day=f.jobs_per_day,
        gpu_seconds_per_job=model_gpu_seconds_per_job(sizes, probs, groups, f.quantile_points),
        trace_gpu_seconds_per_job=f.gpu_seconds_per_job,
        source_gpus=f.source_gpus,
        hour_shares=tuple(float(x) for x in shares_arr / shares_arr.sum()),
        sizes=sizes,
        size_probs=probs,
        groups=groups,
        gap_quantiles=tuple(f.gap_quantiles),
        quantile_points=f.quantile_points,
    )


@cache
def builtin_params(name: str) -> SyntheticParams:
    """Parameters shipped in the catalog (e.g. 'philly', fitted on the public Philly trace)."""
    return params_from_file(load_builtin_stream(name))
