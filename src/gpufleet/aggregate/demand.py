"""Monthly demand per class: each training run, each inference service and region, each research stream.

One function, `monthly_demand`, turns the scenario into demand; the planner and the fluid sweep take
demand only from it. Amounts are GPU-hours at a class's reference accelerator; `gpu_hours_per_unit`
converts them for another accelerator (inference: reference throughput / throughput there).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gpufleet.aggregate.months import Months
from gpufleet.catalog import Catalog
from gpufleet.errors import InputError
from gpufleet.scenario.schema import Inference, Scenario, Stream, TrainingRun
from gpufleet.units import SECONDS_PER_DAY
from gpufleet.workload.inference import demand_tokens_s, region_shapes, tokens_per_s_per_gpu
from gpufleet.workload.streams import is_builtin_source, schedule_gpus_per_day
from gpufleet.workload.synthetic import builtin_params
from gpufleet.workload.training import plan_scenario_run

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DemandClass:
    """One class of demand over the months."""

    name: str  # training run, "service/region", or stream
    kind: str  # training | inference | research
    gpu_hours: Floats  # per month, at the reference accelerator
    gpus: int = 0  # training: GPUs the run holds at once, in one cluster
    accelerator: str | None = None  # training: the accelerator it is planned on
    allowed_providers: tuple[str, ...] | None = None
    allowed_geos: tuple[str, ...] | None = None
    gpu_hours_per_unit: dict[str, float] = field(default_factory=dict)  # by accelerator; absent = 1

    def factor(self, accelerator: str) -> float | None:
        """GPU-hours on `accelerator` per reference GPU-hour; None when it cannot serve the class."""
        if self.kind == "inference":
            return self.gpu_hours_per_unit.get(accelerator)
        return 1.0


@dataclass(frozen=True)
class Demand:
    classes: tuple[DemandClass, ...]
    notes: tuple[str, ...]  # what the monthly model leaves out, in words


def _overlap_hours(months: Months, start: dt.datetime, end: dt.datetime) -> Floats:
    out = np.zeros(months.count)
    for m in range(months.count):
        a = dt.datetime.combine(months.first[m], dt.time())
        b = dt.datetime.combine(months.last[m] + dt.timedelta(days=1), dt.time())
        out[m] = max(0.0, (min(b, end) - max(a, start)).total_seconds()) / 3600.0
    return out


def _training(run: TrainingRun, scenario: Scenario, catalog: Catalog, months: Months) -> DemandClass:
    """GPUs x hours active: from earliest start (else the horizon's) for the expected wall time."""
    plan = plan_scenario_run(run, scenario, catalog)
    start = dt.datetime.combine(run.earliest_start or scenario.horizon.start, dt.time())
    active = _overlap_hours(months, start, start + dt.timedelta(seconds=plan.expected_wall_s))
    return DemandClass(
        name=run.name,
        kind="training",
        gpu_hours=run.gpus * active,
        gpus=run.gpus,
        accelerator=run.accelerator,
        allowed_providers=tuple(run.allowed_providers) if run.allowed_providers else None,
    )


def _inference(
    item: Inference, scenario: Scenario, catalog: Catalog, months: Months, accelerators: Iterable[str]
) -> list[DemandClass]:
    """Mean tokens/s of each month (hourly samples) x headroom, in GPU-hours at the best accelerator."""
    tps = {}
    for acc in sorted(set(accelerators)):
        try:
            tps[acc] = tokens_per_s_per_gpu(item.model_class, acc, catalog, item.tokens_per_s_per_gpu)
        except InputError:
            continue  # no throughput figure: this accelerator does not serve the class
    if not tps:
        return []
    ref = max(tps.values())
    days = (scenario.horizon.end - scenario.horizon.start).days + 1
    d = item.demand
    regions = tuple((name, r.utc_offset_h) for name, r in d.regions.items())
    times, shapes = _hourly_shapes(
        scenario.horizon.start, days, d.daily_peak_to_mean, d.weekend_factor, regions
    )
    start = dt.datetime.combine(scenario.horizon.start, dt.time(), tzinfo=dt.UTC)
    case = scenario.finance.default_case  # the revenue case the demand follows (with_case sets it)
    by_region = demand_tokens_s(
        d, start, times, scenario.finance.revenue_scenarios.get(case) if case else None, shapes
    )
    bounds = [(sl.start * 24, sl.stop * 24) for sl in map(months.day_slice, range(months.count))]
    out = []
    for region, tokens in by_region.items():
        means = np.array([tokens[a:b].mean() for a, b in bounds], dtype=np.float64)
        gh = means * item.headroom / ref * months.hours
        out.append(
            DemandClass(
                name=f"{item.name}/{region}",
                kind="inference",
                gpu_hours=gh,
                allowed_providers=tuple(item.allowed_providers) if item.allowed_providers else None,
                allowed_geos=tuple(item.allowed_regions) if item.allowed_regions else None,
                gpu_hours_per_unit={a: ref / t for a, t in tps.items()},
            )
        )
    return out


@functools.lru_cache(maxsize=16)
def _hourly_shapes(
    first: dt.date, days: int, peak_to_mean: float, weekend: float, regions: tuple[tuple[str, float], ...]
) -> tuple[Floats, dict[str, Floats]]:
    """Hours of the horizon and each region's daily and weekly shape there, kept: a sweep that changes
    the revenue path changes neither (read-only arrays)."""
    times = np.arange(0.0, days * SECONDS_PER_DAY, 3600.0)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    shapes = region_shapes(dict(regions), peak_to_mean, weekend, start, times)
    for a in (times, *shapes.values()):
        a.setflags(write=False)
    return times, shapes


def _stream(stream: Stream, months: Months, fleet_gpu_hours: Floats) -> DemandClass | None:
    """Synthetic streams: a fixed rate x mean GPU-hours per job, a share of the fleet online, or a
    schedule of busy GPUs (each day's GPUs x 24 h inside the stream's window)."""
    syn = stream.synthetic
    if syn is None or not is_builtin_source(syn.source):
        return None
    start = dt.datetime.combine(syn.start or months.start, dt.time())
    end = dt.datetime.combine(syn.end or months.last[-1] + dt.timedelta(days=1), dt.time())
    active = _overlap_hours(months, start, end)
    share = np.divide(active, months.hours, out=np.zeros(months.count), where=months.hours > 0)
    if syn.fleet_share is not None:
        gh = syn.fleet_share * fleet_gpu_hours * share
    elif syn.gpus_schedule is not None:
        days = (months.last[-1] - months.start).days + 1
        day0 = dt.datetime.combine(months.start, dt.time())
        offsets = np.arange(days)
        inside = np.array([start <= day0 + dt.timedelta(days=int(d)) < end for d in offsets])
        busy = schedule_gpus_per_day(syn.gpus_schedule, months.start, days) * inside * 24.0
        gh = np.array([float(busy[months.day_slice(m)].sum()) for m in range(months.count)])
    else:
        assert syn.jobs_per_day is not None
        params = builtin_params(syn.source)
        per_job_h = params.gpu_seconds_per_job * syn.size_scale / 3600.0
        gh = syn.jobs_per_day * per_job_h * active / 24.0
    allowed = tuple(stream.allowed_providers) if stream.allowed_providers else None
    return DemandClass(name=stream.name, kind="research", gpu_hours=gh, allowed_providers=allowed)


def monthly_demand(
    scenario: Scenario,
    catalog: Catalog,
    months: Months,
    accelerators: Iterable[str],
    fleet_gpu_hours: Floats,
) -> Demand:
    """Demand per class and month. `accelerators`: those that could serve (the fleet's and the options');
    `fleet_gpu_hours`: the contracted fleet's GPU-hours per month (streams sized as a fleet share)."""
    classes: list[DemandClass] = []
    notes: list[str] = []
    accs = list(accelerators)
    for w in scenario.workloads:
        if isinstance(w.item, TrainingRun | Inference | Stream):
            found, note = item_demand(w.item, scenario, catalog, months, accs, fleet_gpu_hours)
            classes.extend(found)
            notes.extend([note] if note else [])
        # a roadmap's runs are already among the workloads, as training runs (scenario schema)
    return Demand(tuple(classes), tuple(notes))


def item_demand(
    item: TrainingRun | Inference | Stream,
    scenario: Scenario,
    catalog: Catalog,
    months: Months,
    accelerators: Iterable[str],
    fleet_gpu_hours: Floats,
) -> tuple[list[DemandClass], str | None]:
    """One workload's classes (monthly_demand's arguments), and a note when the monthly model leaves
    it out. It reads the item, the horizon, the failure policy (a training plan), the catalog and,
    for inference that follows revenue, the run's revenue case: a caller may keep it by those."""
    if isinstance(item, TrainingRun):
        return [_training(item, scenario, catalog, months)], None
    if isinstance(item, Inference):
        found = _inference(item, scenario, catalog, months, accelerators)
        missing = f"{item.name}: no accelerator of the fleet has a throughput figure; left out"
        return found, None if found else missing
    one = _stream(item, months, fleet_gpu_hours)
    if one is None:
        return [], f"{item.name}: trace and file-fitted streams are not in the monthly model yet"
    return [one], None
