"""Plausibility limits of a scenario, and an estimate of a run's size (memory, time) before it runs.

A scenario past a limit is refused by `validate` (in well under a second) instead of by the engine
after minutes; each refusal names the field and the run's estimated memory and time. The limits sit
well above every scenario the project ships (bench/fleet-500k.yaml: 500k GPUs, 5M jobs, one year).
The per-unit costs are rough measurements (docs/scenario.md, "Limits"): the estimate is an order of
magnitude, good for refusing the absurd, not a forecast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gpufleet.catalog import Catalog
from gpufleet.errors import Problem
from gpufleet.scenario.schema import Scenario, duration_seconds
from gpufleet.scenario.source import SourceMap

DAY_S = 86_400.0
YEAR_S = 365.25 * DAY_S

MAX_HORIZON_DAYS = 30 * 366  # 30 years
MAX_STEPS = 1_000_000  # reporting steps over the horizon (7 years hourly: 61k)
MAX_SERIES_ROWS = 20_000_000  # reporting steps x clusters
MAX_TICKS = 20_000_000  # autoscaling ticks x inference services
MAX_JOBS_PER_DAY = 1_000_000  # one synthetic stream
MAX_JOBS = 50_000_000  # every stream over the horizon (bench (b): 5M)
MAX_GPUS = 20_000_000  # the fleet, every cluster full (bench (b): 500k)
MAX_DOMAINS = 2_000_000
# values of a job trace (the readers refuse a row outside them, with file:line)
MAX_TRACE_SECONDS = 10 * YEAR_S  # a job's duration, and a submit time's distance from the median
MAX_TRACE_GPUS = 10_000_000

# Rough costs of one unit of a run (engine state, tables, store), for the estimate.
BASE_BYTES = 300e6
BYTES_PER_JOB = 1_000.0
BYTES_PER_SERIES_ROW = 300.0
BYTES_PER_TICK = 200.0
BYTES_PER_DOMAIN = 2_000.0
SECONDS_PER_JOB = 50e-6  # bench (b): 5M jobs in ~150 s
SECONDS_PER_SERIES_ROW = 2e-6
SECONDS_PER_TICK = 20e-6
# A fleet_share stream's arrivals follow from its source's GPU-seconds per job; the shipped Philly
# fit's figure (catalog/data/synth_philly.yaml) stands in for any source here (no file is read).
GPU_SECONDS_PER_JOB = 42_811.1


@dataclass(frozen=True)
class RunSize:
    """What a run of a scenario would hold, and what that costs."""

    days: float
    steps: int
    clusters: int
    gpus: int
    domains: int
    jobs: int
    ticks: int

    @property
    def series_rows(self) -> int:
        return self.steps * self.clusters

    @property
    def memory_bytes(self) -> float:
        return (
            BASE_BYTES
            + self.jobs * BYTES_PER_JOB
            + self.series_rows * BYTES_PER_SERIES_ROW
            + self.ticks * BYTES_PER_TICK
            + self.domains * BYTES_PER_DOMAIN
        )

    @property
    def seconds(self) -> float:
        return (
            self.jobs * SECONDS_PER_JOB
            + self.series_rows * SECONDS_PER_SERIES_ROW
            + self.ticks * SECONDS_PER_TICK
        )

    def describe(self) -> str:
        """'about 2.1 GB of memory and 3 min' (an order of magnitude)."""
        return f"about {fmt_bytes(self.memory_bytes)} of memory and {fmt_seconds(self.seconds)}"


def fmt_bytes(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n / 1e3:,.0f} kB"


def fmt_seconds(s: float) -> str:
    for unit, scale in (("years", YEAR_S), ("days", DAY_S), ("h", 3600.0), ("min", 60.0)):
        if s >= scale:
            return f"{s / scale:,.1f} {unit}"
    return f"{s:,.0f} s"


def _horizon_days(s: Scenario) -> float:
    return float((s.horizon.end - s.horizon.start).days + 1)


def _fleet(s: Scenario, catalog: Catalog) -> tuple[int, int]:
    """GPUs and domains with every cluster full (products the catalog lacks count one GPU a domain)."""
    domains = gpus = 0
    for c in s.clusters:
        n = c.blocks * c.domains_per_block
        product = catalog.products.get(c.product)
        domains += n
        gpus += n * (product.gpus_per_domain if product is not None else 1)
    return gpus, domains


def _stream_jobs_per_day(s: Scenario, gpus: int) -> list[tuple[int, float]]:
    """(workload index, jobs a day) of each synthetic stream."""
    out = []
    for i, w in enumerate(s.workloads):
        syn = w.stream.synthetic if w.stream is not None else None
        if syn is None:
            continue
        if syn.jobs_per_day is not None:
            out.append((i, syn.jobs_per_day))
        elif syn.fleet_share is not None:
            out.append((i, syn.fleet_share * gpus * DAY_S / (GPU_SECONDS_PER_JOB * syn.size_scale)))
        elif syn.gpus_schedule is not None:
            peak = max(g.gpus for g in syn.gpus_schedule)
            out.append((i, peak * DAY_S / (GPU_SECONDS_PER_JOB * syn.size_scale)))
    return out


def estimate(s: Scenario, catalog: Catalog) -> RunSize:
    """The run's size from the scenario alone (trace streams count as no jobs: their files are read later)."""
    days = _horizon_days(s)
    horizon_s = days * DAY_S
    steps = math.ceil(horizon_s / s.horizon.step_s)
    gpus, domains = _fleet(s, catalog)
    jobs = sum(rate * days for _, rate in _stream_jobs_per_day(s, gpus))
    jobs += sum(1 for w in s.workloads if w.training_run is not None)
    services = sum(1 for w in s.workloads if w.inference is not None)
    ticks = services * math.ceil(horizon_s / duration_seconds(s.policies.autoscale_interval))
    return RunSize(days, steps, len(s.clusters), gpus, domains, min(int(jobs), 2**62), ticks)


def check_limits(s: Scenario, catalog: Catalog, smap: SourceMap) -> list[Problem]:
    """Every limit the scenario passes over, each naming its field and the run's estimated size."""
    size = estimate(s, catalog)
    cost = f"a run would need {size.describe()}"
    problems: list[Problem] = []

    def over(path: tuple[str | int, ...], what: str) -> None:
        problems.append(smap.problem(path, f"{what}; {cost}"))

    if size.days > MAX_HORIZON_DAYS:
        over(("horizon", "end"), f"the horizon spans {size.days:,.0f} days, more than {MAX_HORIZON_DAYS:,}")
    if size.steps > MAX_STEPS:
        over(
            ("horizon", "step"),
            f"{size.steps:,} reporting steps of {s.horizon.step} over the horizon, more than {MAX_STEPS:,}",
        )
    elif size.series_rows > MAX_SERIES_ROWS:
        over(
            ("horizon", "step"),
            f"{size.series_rows:,} time-series rows ({size.steps:,} steps x {size.clusters} clusters), "
            f"more than {MAX_SERIES_ROWS:,}",
        )
    if size.ticks > MAX_TICKS:
        over(
            ("policies", "autoscale_interval"),
            f"{size.ticks:,} autoscaling ticks over the horizon, more than {MAX_TICKS:,}",
        )
    if size.gpus > MAX_GPUS or size.domains > MAX_DOMAINS:
        over(
            ("clusters",),
            f"the clusters hold {size.gpus:,} GPUs in {size.domains:,} domains, more than {MAX_GPUS:,} "
            f"GPUs or {MAX_DOMAINS:,} domains",
        )
    rates = _stream_jobs_per_day(s, size.gpus)
    for i, rate in rates:
        if rate > MAX_JOBS_PER_DAY:
            over(
                ("workloads", i, "stream", "synthetic"),
                f"{rate:,.0f} jobs a day, more than {MAX_JOBS_PER_DAY:,}",
            )
    if size.jobs > MAX_JOBS and not any(rate > MAX_JOBS_PER_DAY for _, rate in rates):
        over(("workloads",), f"{size.jobs:,} jobs over the horizon, more than {MAX_JOBS:,}")
    return problems
