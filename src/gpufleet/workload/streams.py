"""Job streams: synthetic jobs from fitted parameters (pure, vectorized), and a scenario stream's jobs.

Arrivals follow the daily cycle: expected arrivals in hour h of day d = rate(d) x share(hour of h),
where rate(d) is a fixed jobs per day, the source's rate scaled to keep its offered load per GPU on a
target fleet, or fleet_share x GPUs online on day d x 86,400 / (GPU-seconds per job x size_scale), or
the same with a planned schedule of busy GPUs (gpus_schedule) in place of fleet_share x GPUs online.
In the time that cumulative intensity measures, gaps are drawn from the fitted rescaled gaps (mean
1), then mapped back to seconds: arrivals keep the trace's burstiness and hour-of-day shares.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gpufleet.catalog import Catalog
from gpufleet.errors import InputError
from gpufleet.scenario.schema import GpuStep, Scenario, Stream
from gpufleet.units import SECONDS_PER_DAY, SECONDS_PER_HOUR
from gpufleet.workload.jobs import JobBatch
from gpufleet.workload.synthetic import SyntheticParams, builtin_params, quantile_grid

F64 = npt.NDArray[np.float64]


def _day_rates(
    params: SyntheticParams,
    days: int,
    jobs_per_day: float | None,
    fleet_share: float | None,
    capacity_gpus_per_day: npt.ArrayLike | None,
    target_gpus: float | None,
    size_scale: int,
) -> F64:
    given = [x is not None for x in (jobs_per_day, fleet_share, target_gpus)]
    if sum(given) != 1:
        raise ValueError("give exactly one of jobs_per_day, fleet_share or target_gpus")
    if jobs_per_day is not None:
        return np.full(days, float(jobs_per_day))
    if target_gpus is not None:
        load = params.load_per_gpu
        if load is None:
            raise ValueError(
                f"parameters '{params.name}' do not know their source fleet's size (source_gpus)"
            )
        per_day = load * float(target_gpus) * SECONDS_PER_DAY / (params.gpu_seconds_per_job * size_scale)
        return np.full(days, per_day)
    if capacity_gpus_per_day is None:
        raise ValueError("fleet_share needs capacity_gpus_per_day")
    cap = np.asarray(capacity_gpus_per_day, dtype=np.float64)
    if len(cap) == 0:
        return np.zeros(days)
    if len(cap) < days:
        cap = np.concatenate([cap, np.full(days - len(cap), cap[-1])])
    gpu_s = params.gpu_seconds_per_job * size_scale
    return np.asarray(float(fleet_share or 0.0) * cap[:days] * SECONDS_PER_DAY / gpu_s, dtype=np.float64)


def _draw_gaps(params: SyntheticParams, rng: np.random.Generator, n: int) -> F64:
    grid = quantile_grid(params.quantile_points)
    gaps = np.interp(rng.random(n), grid, np.asarray(params.gap_quantiles))
    return np.asarray(gaps, dtype=np.float64)


def _arrivals(
    params: SyntheticParams,
    rng: np.random.Generator,
    rates: F64,
    horizon_s: float,
    n_jobs: int | None,
) -> F64:
    """Arrival times in [0, horizon_s): at most n_jobs when given."""
    shares = np.asarray(params.hour_shares, dtype=np.float64)
    hours = len(rates) * 24
    inc = np.repeat(rates, 24) * np.tile(shares, len(rates))  # expected arrivals per hour
    cum = np.concatenate([[0.0], np.cumsum(inc)])
    h_end = min(horizon_s / SECONDS_PER_HOUR, float(hours))
    k = min(int(h_end), hours - 1) if hours else 0
    total = float(cum[k] + (h_end - k) * inc[k]) if hours else 0.0
    if total <= 0:
        return np.zeros(0)
    want = n_jobs if n_jobs is not None else int(total + 6 * math.sqrt(total) + 100)
    positions = np.cumsum(_draw_gaps(params, rng, want))
    positions -= positions[0] * rng.random()  # start at a random phase of the first gap
    while n_jobs is None and positions[-1] < total:
        extra = np.cumsum(_draw_gaps(params, rng, int(0.1 * want) + 100)) + positions[-1]
        positions = np.concatenate([positions, extra])
    positions = positions[positions < total]
    if n_jobs is not None:
        positions = positions[:n_jobs]
    h = np.clip(np.searchsorted(cum, positions, side="right") - 1, 0, hours - 1)
    within = np.divide(positions - cum[h], inc[h], out=np.zeros_like(positions), where=inc[h] > 0)
    return np.asarray((h + np.clip(within, 0.0, 1.0)) * SECONDS_PER_HOUR, dtype=np.float64)


def _sizes_and_durations(
    params: SyntheticParams, rng: np.random.Generator, n: int
) -> tuple[npt.NDArray[np.int64], F64]:
    idx = rng.choice(len(params.sizes), size=n, p=np.asarray(params.size_probs))
    gpus = np.asarray(params.sizes, dtype=np.int64)[idx]
    group = params.group_index()[idx]
    grid = quantile_grid(params.quantile_points)
    table = np.asarray([g.log_quantiles for g in params.groups], dtype=np.float64)  # (groups, K)
    u = rng.random(n)
    k = np.clip(np.searchsorted(grid, u, side="right"), 1, len(grid) - 1)
    p0, p1 = grid[k - 1], grid[k]
    t = (u - p0) / (p1 - p0)
    logd = table[group, k - 1] + t * (table[group, k] - table[group, k - 1])
    return gpus, np.exp(logd)


def synthesize(
    params: SyntheticParams,
    rng: np.random.Generator,
    *,
    horizon_s: float | None = None,
    n_jobs: int | None = None,
    jobs_per_day: float | None = None,
    fleet_share: float | None = None,
    capacity_gpus_per_day: npt.ArrayLike | None = None,
    target_gpus: float | None = None,
    size_scale: int = 1,
    max_gpus: int | None = None,
    team: str = "default",
    priority_class: str = "research",
    workload: str = "",
) -> JobBatch:
    """Synthetic jobs from fitted parameters. Pure and vectorized (millions of jobs in seconds).

    The rate is exactly one of: `jobs_per_day` (fixed); `fleet_share` with `capacity_gpus_per_day`
    (GPUs online per day from time 0: offered GPU-seconds per day = share x GPUs x 86,400);
    `target_gpus` (the source's offered load per GPU, kept on that many GPUs). The length is
    `horizon_s` (arrivals in [0, horizon_s)), `n_jobs` (exactly that many when the horizon allows),
    or both. Each job's GPUs are multiplied by `size_scale`; the rate is divided by it, so offered
    GPU load stays the same. A job above `max_gpus` runs on `max_gpus` for proportionally longer (same
    GPU-seconds; counted in `adjusted`), so coarse scaling does not turn the trace's rare large jobs
    into jobs of hundreds of thousands of GPUs. Time 0 is 00:00 on the stream's clock (hour-of-day
    shares apply to it).
    """
    if horizon_s is None and n_jobs is None:
        raise ValueError("give horizon_s, n_jobs or both")
    if size_scale < 1:
        raise ValueError("size_scale must be >= 1")
    if max_gpus is not None and max_gpus < size_scale:
        raise ValueError("max_gpus must be at least size_scale")
    if horizon_s is not None:
        days = max(1, math.ceil(horizon_s / SECONDS_PER_DAY))
    elif capacity_gpus_per_day is not None and fleet_share is not None:
        days = len(np.asarray(capacity_gpus_per_day))
    else:
        days = 1
    rates = _day_rates(
        params, days, jobs_per_day, fleet_share, capacity_gpus_per_day, target_gpus, size_scale
    )
    if horizon_s is None:
        assert n_jobs is not None
        if fleet_share is None:  # a fixed rate: make the horizon long enough for n jobs
            per_day = float(rates[0])
            if per_day <= 0:
                raise ValueError("the arrival rate is zero")
            days = math.ceil(n_jobs / per_day * 1.2 + 10 * math.sqrt(n_jobs) / per_day) + 2
            rates = np.full(days, per_day)
        horizon_s = days * SECONDS_PER_DAY
    submit = _arrivals(params, rng, rates, float(horizon_s), n_jobs)
    n = len(submit)
    gpus, duration = _sizes_and_durations(params, rng, n)
    gpus = gpus * int(size_scale)
    adjusted: dict[str, int] = {}
    if max_gpus is not None:
        over = gpus > max_gpus
        if over.any():
            duration = np.where(over, duration * gpus / max_gpus, duration)
            gpus = np.minimum(gpus, max_gpus)
            adjusted["capped_at_max_gpus"] = int(over.sum())
    return JobBatch(
        submit_s=submit,
        duration_s=duration,
        gpus=gpus,
        team=np.full(n, team, dtype=object),
        priority_class=np.full(n, priority_class, dtype=object),
        workload=workload,
        adjusted=adjusted,
    )


# ----------------------------------------------------------------------------------- scenario edge


def schedule_gpus_per_day(schedule: Sequence[GpuStep], start: dt.date, days: int) -> F64:
    """GPUs a schedule keeps busy on each day from `start`: each step holds until the next; 0 before."""
    out = np.zeros(days, dtype=np.float64)
    for step in schedule:
        out[max(0, (step.date - start).days) :] = float(step.gpus)
    return out


def stream_class(stream: Stream, scenario: Scenario) -> str:
    """A stream's priority class: its own, else its team's, else research."""
    if stream.priority_class is not None:
        return stream.priority_class
    team = next((t for t in scenario.teams if t.name == stream.team), None)
    return team.priority_class if team is not None else "research"


def place_trace(batch: JobBatch, stream: Stream, scenario: Scenario) -> JobBatch:
    """A trace stream's jobs (as read) in seconds from the horizon start: trace time 0 moved to the
    trace's `start` (default the horizon start); jobs submitted after the horizon are dropped and
    counted as `after_horizon`, so a trace longer than the run is never cut silently."""
    assert stream.trace is not None
    h0 = scenario.horizon.start
    horizon_s = ((scenario.horizon.end - h0).days + 1) * SECONDS_PER_DAY
    batch = batch.shifted(((stream.trace.start or h0) - h0).days * SECONDS_PER_DAY)
    inside = batch.submit_s < horizon_s
    if inside.all():
        return batch
    kept = batch.take(inside)
    skipped = dict(batch.skipped) | {"after_horizon": int((~inside).sum())}
    return JobBatch(
        kept.submit_s, kept.duration_s, kept.gpus, kept.team, kept.priority_class,
        kept.workload, skipped, kept.adjusted, kept.origin,
    )  # fmt: skip


def is_builtin_source(source: str) -> bool:
    """Is a stream's `synthetic.source` a built-in name (else a parameters file)?"""
    return "/" not in source and not source.endswith((".yaml", ".yml"))


def load_stream_params(source: str, base_dir: Path | None) -> SyntheticParams:
    """A stream's `synthetic.source`: a built-in name, or a parameters file relative to base_dir
    (the scenario's folder; the working directory when None)."""
    if is_builtin_source(source):
        try:
            return builtin_params(source)
        except KeyError as exc:
            raise InputError(str(exc.args[0]), where="synthetic.source") from None
    from gpufleet.workload.readers.params_file import load_params

    path = Path(source)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return load_params(path)


def stream_jobs(
    stream: Stream,
    scenario: Scenario,
    catalog: Catalog,
    rng: np.random.Generator,
    capacity_gpus_per_day: npt.ArrayLike | None,
    base_dir: Path | None,
    params: SyntheticParams | None = None,
) -> JobBatch:
    """Jobs of a scenario stream, submit times in seconds from the horizon start (00:00 UTC).

    A trace stream reads its file (this function is the edge) and shifts trace time 0 to the trace's
    `start` (default the horizon start); jobs submitted after the horizon are dropped and counted as
    `after_horizon`. A synthetic stream draws from its parameters between its `start` and `end`
    (default: the horizon), with `capacity_gpus_per_day` (GPUs online per day from the horizon start)
    for a fleet_share rate; `params`, when given (read by the edge), instead of reading the source.
    `catalog` is accepted for symmetry with the other workload models.
    """
    del catalog
    h0 = scenario.horizon.start
    horizon_days = (scenario.horizon.end - h0).days + 1
    klass = stream_class(stream, scenario)
    if stream.trace is not None:
        from gpufleet.workload.readers import read_trace

        tr = stream.trace
        path = Path(tr.path)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        batch = read_trace(
            path, tr.format, tr.team_map, dict(tr.class_map), stream.team, klass, workload=stream.name
        )
        return place_trace(batch, stream, scenario)
    syn = stream.synthetic
    assert syn is not None
    if params is None:
        params = load_stream_params(syn.source, base_dir)
    first = max(0, ((syn.start or h0) - h0).days)
    last = min(horizon_days, ((syn.end or scenario.horizon.end) - h0).days + 1)
    if last <= first:
        return JobBatch.empty(stream.name)
    cap = None
    share = syn.fleet_share
    if syn.gpus_schedule is not None:  # busy GPUs planned: the offered load is the schedule itself
        cap, share = schedule_gpus_per_day(syn.gpus_schedule, h0, horizon_days)[first:last], 1.0
    elif syn.fleet_share is not None:
        if capacity_gpus_per_day is None:
            raise ValueError(f"stream {stream.name}: fleet_share needs capacity_gpus_per_day")
        cap = np.asarray(capacity_gpus_per_day, dtype=np.float64)[first:last]
    batch = synthesize(
        params,
        rng,
        horizon_s=(last - first) * SECONDS_PER_DAY,
        jobs_per_day=syn.jobs_per_day,
        fleet_share=share,
        capacity_gpus_per_day=cap,
        size_scale=syn.size_scale,
        max_gpus=syn.max_gpus,
        team=stream.team,
        priority_class=klass,
        workload=stream.name,
    )
    return batch.shifted(first * SECONDS_PER_DAY)
