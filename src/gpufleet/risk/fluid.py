"""The fluid model: the monthly model (aggregate/) run month by month under the engine's routing rule,
then billed, for what-ifs and sweep samples in a fraction of a second (docs/risk.md states the math).

Each month (cut into `substeps` equal parts) the demand classes, highest priority first
(`policies.preemption.order`), fill the capacity online in the engine's provider order: under
`commitment-first` the contracts ranked by sched/commitment.py from their commitment left in the
current period (usage so far priced, kept in sim/usage.py's UsageBook), the other policies through
sched/providers.py; within the class's allowed providers and regions and the accelerators that can
serve it. A training run holds one cluster (enough GPUs online all month, after what higher classes
took), starts at its earliest start or when it first fits, and runs for its expected wall time
(failures and checkpoints in, workload/training.py); research streams queue what they cannot run;
inference not served is lost, and replicas serve up to `headroom` times their mean load. The GPU-hours
used per contract and month are billed by the ledger's daily arithmetic (risk/fluid_bill.py) and give
the same Metrics as a simulated run (risk/metrics.py).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from gpufleet.aggregate.demand import DemandClass, item_demand
from gpufleet.aggregate.months import Months, horizon_months
from gpufleet.assemble import fleet_spec, team_class
from gpufleet.catalog import Catalog
from gpufleet.finance.portfolio import revenue
from gpufleet.fleet.capacity import CapacityTimeline, build_capacity
from gpufleet.fleet.usable import usable_contracts
from gpufleet.risk.fluid_bill import ContractBiller
from gpufleet.risk.metrics import Metrics
from gpufleet.scenario.load import LoadedScenario
from gpufleet.scenario.schema import Inference, Scenario, Stream, TrainingRun
from gpufleet.sched.commitment import rank_contracts
from gpufleet.sched.providers import ChoiceParams, ClusterOffer, provider_policy
from gpufleet.sim.spec import FleetSpec
from gpufleet.sim.usage import UsageBook
from gpufleet.tables import PRIORITY_CLASSES
from gpufleet.workload.inference import tokens_per_s_per_gpu
from gpufleet.workload.training import plan_scenario_run

Floats = npt.NDArray[np.float64]
_T = TypeVar("_T")

SUBSTEPS = 2  # re-rank the contracts twice a month (tuned on the default: docs/risk.md)
CACHE = 256  # workloads' demand classes kept between samples
BILLERS = 512  # contract billing axes kept (a sweep of slips: one per contract and slip)


@dataclass
class _Class:
    """A demand class as the routing loop sees it."""

    name: str
    kind: str  # training | inference | research
    rank: int  # position in the priority order
    gpu_hours: Floats  # per month, reference GPU-hours (training: unused, see work_h)
    providers: frozenset[str] | None
    geos: frozenset[str] | None
    factor: dict[str, float]  # GPU-hours on an accelerator per reference GPU-hour (absent: cannot serve)
    fleet_share: bool = False  # research: gpu_hours is per fleet GPU-hour (scaled per sample)
    gpus: int = 0  # training
    work_h: float = 0.0  # training: GPU-hours of the whole run (gpus x expected wall time)
    start_h: float = 0.0  # training: hours from the horizon's start
    tokens_per_gpu_hour: float = 0.0  # inference: tokens per reference GPU-hour demanded
    headroom: float = 1.0  # inference


@dataclass
class FluidResult:
    """What one fluid run found: use per contract and month, bills, and the metrics."""

    months: Months
    used: dict[str, Floats]  # contract -> GPU-hours used per month
    cost_due: dict[str, Floats]  # contract -> cash out per month
    unused: dict[str, Floats]  # contract -> unused commitment booked per month
    unserved: dict[str, float]  # class -> reference GPU-hours not served (training: work left)
    metrics: Metrics = field(default_factory=dict)


def _item_class(scenario: Scenario, item: TrainingRun | Inference | Stream) -> str:
    return item.priority_class or team_class(scenario, item.team)


def _demand_keys(scenario: Scenario, accs: set[str]) -> list[tuple[TrainingRun | Inference | Stream, str]]:
    """Each workload the monthly model takes, and what its classes depend on (aggregate/demand.py
    `item_demand`; capacity aside: fleet-share streams are scaled per sample): the item, the horizon,
    the catalog section, the policies (a training plan's failures; priorities), the teams (priorities),
    the accelerators, and the run's revenue case where inference follows revenue."""
    context = repr((scenario.horizon, scenario.catalog, scenario.policies, scenario.teams, sorted(accs)))
    case = scenario.finance.default_case
    path = (case, scenario.finance.revenue_scenarios.get(case) if case is not None else None)
    out: list[tuple[TrainingRun | Inference | Stream, str]] = []
    for w in scenario.workloads:
        item = w.item
        if isinstance(item, TrainingRun | Inference | Stream):
            follows = isinstance(item, Inference) and item.demand.revenue is not None
            out.append((item, repr((item, context, path if follows else None))))
    return out


def _kept(cache: OrderedDict[str, _T], key: str, make: Callable[[], _T], most: int) -> _T:
    """The value kept under `key`, made and kept when absent; past `most` the least recently used goes."""
    hit = cache.get(key)
    if hit is not None:
        cache.move_to_end(key)
        return hit
    made = cache[key] = make()
    if len(cache) > most:
        cache.popitem(last=False)
    return made


class FluidModel:
    """The fluid model with what does not change between samples kept: demand per workload settings,
    and each contract's billing axis. `metrics(loaded)` for each changed scenario."""

    def __init__(self, base: LoadedScenario, substeps: int = SUBSTEPS) -> None:
        self.base = base
        self.substeps = substeps
        self._demand: OrderedDict[str, list[_Class]] = OrderedDict()
        self._billers: OrderedDict[str, ContractBiller] = OrderedDict()

    @classmethod
    def of(cls, loaded: LoadedScenario, substeps: int = SUBSTEPS) -> FluidModel:
        return cls(loaded, substeps)

    def metrics(self, loaded: LoadedScenario | None = None) -> Metrics:
        """The metrics of `loaded` (default: the scenario the model was made of)."""
        return self.run(loaded).metrics

    # ------------------------------------------------------------------------------ demand

    def _classes(
        self, scenario: Scenario, catalog: Catalog, months: Months, accelerators: set[str]
    ) -> list[_Class]:
        """The demand classes, highest priority first; each workload's kept by what it depends on, so a
        sample that scales the revenue path rebuilds only the inference that follows it."""
        out: list[_Class] = []
        for item, key in _demand_keys(scenario, accelerators):
            make = functools.partial(_item_classes, item, scenario, catalog, months, accelerators)
            kept: list[_Class] = _kept(self._demand, key, make, CACHE)
            out += kept
        out.sort(key=lambda c: c.rank)  # stable: the scenario's order within a class
        return out

    def _biller(self, scenario: Scenario, tl: CapacityTimeline, k: int, months: Months) -> ContractBiller:
        rc = tl.contracts[k]
        contract = next(c for c in scenario.contracts if c.name == rc.name)
        key = repr((rc, contract, scenario.horizon))
        return _kept(self._billers, key, lambda: ContractBiller(rc, contract, scenario, months), BILLERS)

    # ------------------------------------------------------------------------------ one run

    def run(self, loaded: LoadedScenario | None = None) -> FluidResult:
        given = loaded or self.base
        scenario, catalog = given.scenario, given.catalog  # a scenario's catalog section may change it
        months = horizon_months(scenario.horizon)
        tl = build_capacity(scenario, catalog)
        fleet = fleet_spec(scenario, catalog, tl)
        accs = {c.accelerator for c in fleet.clusters}
        classes = self._classes(scenario, catalog, months, accs)
        grid = _Grid.of(tl, months, scenario, fleet)
        fleet_h = grid.fleet_gpu_hours
        router = _Router(scenario, fleet, grid, months, self.substeps)
        unserved, inf_demand_tokens, inf_served_tokens, served_tokens_y = router.route(classes, fleet_h)
        used = {rc.name: router.used[k] for k, rc in enumerate(tl.contracts)}
        cost_due: dict[str, Floats] = {}
        unused: dict[str, Floats] = {}
        for k, rc in enumerate(tl.contracts):
            b = self._biller(scenario, tl, k, months).bill(used[rc.name])
            cost_due[rc.name] = b.cost_due
            unused[rc.name] = b.unused
        usable = usable_contracts(scenario)
        cap_h = sum(
            float(grid.contract_hours[k].sum()) for k, rc in enumerate(tl.contracts) if rc.name in usable
        )
        used_h = sum(float(used[rc.name].sum()) for rc in tl.contracts if rc.name in usable)
        monthly_cash = np.sum(list(cost_due.values()), axis=0) if cost_due else np.zeros(months.count)
        years = np.array(months.years)
        by_year = {int(y): float(monthly_cash[years == y].sum()) for y in np.unique(years)}
        metrics: Metrics = {
            "utilization_pct": 100.0 * used_h / cap_h if cap_h > 0 else 0.0,
            "unused_commitment_usd": float(sum(float(u.sum()) for u in unused.values())),
            "spend_usd": float(monthly_cash.sum()),
            "cash_peak_usd": max(by_year.values()) if by_year else 0.0,
            "funding_need_usd": _funding_need(scenario, by_year, served_tokens_y),
            "inference_unserved_pct": 100.0 * (1.0 - inf_served_tokens / inf_demand_tokens)
            if inf_demand_tokens > 0
            else 0.0,
        }
        return FluidResult(months, used, cost_due, unused, unserved, metrics)


def fluid_metrics(loaded: LoadedScenario) -> Metrics:
    """The fluid model's metrics of one scenario under its base case (for many samples of one scenario,
    make a FluidModel once and call its `metrics`: it keeps demand and billing axes between them)."""
    return FluidModel.of(loaded).metrics(loaded)


def _funding_need(scenario: Scenario, cash_by_year: dict[int, float], tokens: dict[int, float]) -> float:
    """Peak cumulative (cash out - revenue) over the years, never below 0, under the run's case
    (finance/portfolio.py's arithmetic; power bought apart is not in the fluid model)."""
    case = scenario.finance.default_case
    rs = scenario.finance.revenue_scenarios.get(case) if case is not None else None
    cumulative, need = 0.0, 0.0
    for y in range(scenario.horizon.start.year, scenario.horizon.end.year + 1):
        r = revenue(rs, y, scenario, tokens) if rs is not None else 0.0
        cumulative += cash_by_year.get(y, 0.0) - r
        need = max(need, cumulative)
    return need


# ---------------------------------------------------------------------------------- demand


def _item_classes(
    item: TrainingRun | Inference | Stream,
    scenario: Scenario,
    catalog: Catalog,
    months: Months,
    accs: set[str],
) -> list[_Class]:
    """One workload's classes (aggregate/demand.py `item_demand`, streams per fleet GPU-hour), with
    what routing needs besides."""
    order: list[str] = list(scenario.policies.preemption.order)
    order += [c for c in PRIORITY_CLASSES if c not in order]
    classes, _ = item_demand(item, scenario, catalog, months, accs, np.ones(months.count))
    start = dt.datetime.combine(scenario.horizon.start, dt.time())
    out: list[_Class] = []
    for dc in classes:
        c = _Class(
            name=dc.name,
            kind=dc.kind,
            rank=order.index(_item_class(scenario, item)),
            gpu_hours=dc.gpu_hours,
            providers=frozenset(dc.allowed_providers) if dc.allowed_providers else None,
            geos=frozenset(dc.allowed_geos) if dc.allowed_geos else None,
            factor=_factors(dc, accs),
        )
        if isinstance(item, TrainingRun):
            plan = plan_scenario_run(item, scenario, catalog)
            c.gpus = item.gpus
            c.work_h = item.gpus * plan.expected_wall_s / 3600.0
            first = dt.datetime.combine(item.earliest_start or scenario.horizon.start, dt.time())
            c.start_h = max(0.0, (first - start).total_seconds() / 3600.0)
        elif isinstance(item, Inference):
            ref = [a for a, f in dc.gpu_hours_per_unit.items() if f == 1.0]
            tps = tokens_per_s_per_gpu(item.model_class, ref[0], catalog, item.tokens_per_s_per_gpu)
            c.tokens_per_gpu_hour = tps * 3600.0 / item.headroom
            c.headroom = item.headroom
        elif isinstance(item, Stream):
            c.fleet_share = item.synthetic is not None and item.synthetic.fleet_share is not None
        out.append(c)
    return out


def _factors(dc: DemandClass, accs: set[str]) -> dict[str, float]:
    out = {}
    for a in accs:
        f = dc.factor(a)
        if f is not None:
            out[a] = f
    return out


# ---------------------------------------------------------------------------------- capacity


@dataclass
class _Grid:
    """Capacity per (cluster, contract) slot and month, usable for work (failed nodes out)."""

    slots: list[tuple[int, int]]  # (cluster, contract)
    hours: Floats  # (slots, months): GPU-hours online
    work_share: Floats  # (clusters,): share of capacity not down for repair
    min_gpus: Floats  # (clusters, months): fewest GPUs online on a day of the month
    contract_hours: Floats  # (contracts, months)
    fleet_gpu_hours: Floats  # (months,): all clusters

    @classmethod
    def of(cls, tl: CapacityTimeline, months: Months, scenario: Scenario, fleet: FleetSpec) -> _Grid:
        gpus = tl.gpus.astype(np.float64)
        n, days = gpus.shape
        k = len(tl.contracts)
        day_month = np.zeros(days, dtype=np.int64)
        starts = []
        for m in range(months.count):
            sl = months.day_slice(m)
            day_month[sl] = m
            starts.append(sl.start)
        held = tl.contract.astype(np.int64)
        idx = np.where(held >= 0, held, k)
        per = np.zeros((n, k + 1, months.count))
        np.add.at(per, (np.arange(n)[:, None], idx, day_month[None, :]), gpus * 24.0)
        slots = [(i, j) for i in range(n) for j in range(k) if per[i, j].sum() > 0]
        hours = np.array([per[i, j] for i, j in slots]).reshape(len(slots), months.count)
        low = np.minimum.reduceat(gpus, starts, axis=1) if days else np.zeros((n, months.count))
        f = scenario.policies.failures
        share = np.ones(n)
        if f.enabled and not scenario.policies.strict:
            for i, c in enumerate(fleet.clusters):
                # a failure takes its node out for the repair time
                share[i] = max(0.0, 1.0 - c.failure_rate_per_gpu_hour * c.gpus_per_node * f.repair_hours)
        return cls(
            slots=slots,
            hours=hours,
            work_share=share,
            min_gpus=low,
            contract_hours=per[:, :k, :].sum(axis=0),
            fleet_gpu_hours=np.asarray(
                np.bincount(day_month, weights=gpus.sum(axis=0) * 24.0, minlength=months.count),
                dtype=np.float64,
            ),
        )


class _Router:
    """The monthly routing loop (the module docstring)."""

    def __init__(
        self, scenario: Scenario, fleet: FleetSpec, grid: _Grid, months: Months, substeps: int
    ) -> None:
        self.scenario = scenario
        self.fleet = fleet
        self.grid = grid
        self.months = months
        self.substeps = max(1, substeps)
        nk = len(fleet.contracts)
        self.used: list[Floats] = [np.zeros(months.count) for _ in range(nk)]
        overflow = scenario.policies.overflow
        self.live = [
            s for s, (_, k) in enumerate(grid.slots) if fleet.contracts[k].kind == "committed" or overflow
        ]
        pc = scenario.policies.provider_choice
        self.policy_name = pc.name
        self.params = ChoiceParams(max_share=pc.max_share, provider=pc.provider)
        self.book = UsageBook(fleet) if pc.name == "commitment-first" else None
        self._ranking: list[int] = []
        self._slots: list[int] = []
        prices = [c.price_per_gpu_hour_usd for c in fleet.contracts]
        self.offers = [
            ClusterOffer(
                index=s,
                provider=fleet.clusters[grid.slots[s][0]].provider,
                kind=fleet.contracts[grid.slots[s][1]].kind,
                take_or_pay=fleet.contracts[grid.slots[s][1]].take_or_pay,
                price_per_gpu_hour_usd=prices[grid.slots[s][1]],
                contract=grid.slots[s][1],
            )
            for s in self.live
        ]

    def _order(self, day: int) -> list[int]:
        """Slots in the order work tries them on `day`."""
        if self.book is not None:
            ranking = rank_contracts(self.book.states(day), day)
            if ranking != self._ranking:
                pos = {k: i for i, k in enumerate(ranking)}
                last = len(pos)
                self._ranking = ranking
                self._slots = [
                    o.index
                    for o in sorted(
                        self.offers,
                        key=lambda o: (pos.get(o.contract, last), o.price_per_gpu_hour_usd, o.index),
                    )
                ]
            return self._slots
        return provider_policy(self.policy_name)(self.offers, {}, self.params)

    def _book_use(self, k: int, day: int, usd: float) -> None:
        book = self.book
        if book is not None and usd > 0:
            book._enter_year(k, day)
            book.used_year[k] += usd
            book.used_term[k] += usd

    def route(
        self, classes: list[_Class], fleet_h: Floats
    ) -> tuple[dict[str, float], float, float, dict[int, float]]:
        """Fill the capacity; returns unserved per class, inference tokens demanded and served (total),
        and tokens served per calendar year."""
        fleet, grid, months, S = self.fleet, self.grid, self.months, self.substeps
        clusters = fleet.clusters
        slots = grid.slots
        slot_cluster = [i for i, _ in slots]
        slot_contract = [k for _, k in slots]
        acc = [clusters[i].accelerator for i, _ in slots]
        provider = [clusters[i].provider for i, _ in slots]
        geo = [clusters[i].geo for i, _ in slots]
        work = grid.work_share
        prices = [c.price_per_gpu_hour_usd for c in fleet.contracts]
        eligible: dict[str, dict[int, float]] = {}
        for c in classes:
            ok: dict[int, float] = {}
            for s in self.live:
                f = c.factor.get(acc[s])
                if f is None or (c.providers is not None and provider[s] not in c.providers):
                    continue
                if c.geos is not None and geo[s] not in c.geos:
                    continue
                ok[s] = f
            eligible[c.name] = ok
        unserved = {c.name: 0.0 for c in classes}
        backlog = {c.name: 0.0 for c in classes}
        left = {c.name: c.work_h for c in classes if c.kind == "training"}
        placed: dict[str, int] = {}
        demand_tok, served_tok = 0.0, 0.0
        tokens_y: dict[int, float] = {}
        hours_m = months.hours
        t0 = 0.0
        last_order: list[int] | None = None
        up = np.array([work[i] for i in slot_cluster]) / S
        month_free = (grid.hours * up[:, None]).T.tolist() if slots else [[] for _ in range(months.count)]
        ranked: dict[str, list[tuple[int, float]]] = {}
        for m in range(months.count):
            part_h = float(hours_m[m]) / S
            day0 = months.day_slice(m).start
            ndays = months.day_slice(m).stop - day0
            year = months.first[m].year
            for p in range(S):
                a, b = t0 + p * part_h, t0 + (p + 1) * part_h
                day = day0 + (p * ndays) // S
                order = self._order(day)
                free = list(month_free[m])
                use = [0.0] * len(slots)
                if order != last_order:  # the ranking changes a few times a run: filter once per change
                    ranked = {c.name: [(s, eligible[c.name][s]) for s in order if s in eligible[c.name]]
                              for c in classes}  # fmt: skip
                    last_order = order
                for c in classes:
                    el_sorted = ranked[c.name]
                    if c.kind == "training":
                        self._train(c, el_sorted, free, use, left, placed, grid, m, a, b, slot_cluster)
                        continue
                    want = float(c.gpu_hours[m]) / S
                    if c.fleet_share:
                        want *= float(fleet_h[m])
                    need = want + backlog[c.name]
                    got = 0.0
                    for s, f in el_sorted:
                        if need - got <= 1e-9:
                            break
                        take = min(need - got, free[s] / f)
                        if take > 0:
                            free[s] -= take * f
                            use[s] += take * f
                            got += take
                    rest = need - got
                    if c.kind == "inference":
                        frac = min(1.0, got * c.headroom / want) if want > 0 else 1.0
                        tokens = want * c.tokens_per_gpu_hour
                        demand_tok += tokens
                        served_tok += tokens * frac
                        tokens_y[year] = tokens_y.get(year, 0.0) + tokens * frac
                        unserved[c.name] += want * (1.0 - frac)
                    else:
                        backlog[c.name] = rest
                for s, u in enumerate(use):
                    if u > 0:
                        k = slot_contract[s]
                        self.used[k][m] += u
                        self._book_use(k, day, u * prices[k])
            t0 += float(hours_m[m])
        for c in classes:
            if c.kind == "training":
                unserved[c.name] = left[c.name]
            elif c.kind != "inference":
                unserved[c.name] = backlog[c.name]
        return unserved, demand_tok, served_tok, tokens_y

    def _train(
        self,
        c: _Class,
        el: list[tuple[int, float]],
        free: list[float],
        use: list[float],
        left: dict[str, float],
        placed: dict[str, int],
        grid: _Grid,
        m: int,
        a: float,
        b: float,
        slot_cluster: list[int],
    ) -> None:
        """A training run: one cluster with its GPUs free for the part, from its start until done."""
        if left[c.name] <= 0 or b <= c.start_h:
            return
        span = b - max(a, c.start_h)
        if span <= 0:
            return

        def fits(cluster: int) -> bool:
            room = sum(free[s] for s, _ in el if slot_cluster[s] == cluster)
            low = grid.min_gpus[cluster, m] * grid.work_share[cluster]
            return bool(min(low, room / span) >= c.gpus - 1e-9)

        cluster = placed.get(c.name)
        if cluster is None or not fits(cluster):
            cluster = next((slot_cluster[s] for s, _ in el if fits(slot_cluster[s])), None)
            if cluster is None:
                placed.pop(c.name, None)
                return
            placed[c.name] = cluster
        need = min(left[c.name], c.gpus * span)
        got = 0.0
        for s, _ in el:
            if slot_cluster[s] != cluster or need - got <= 1e-9:
                continue
            take = min(need - got, free[s])
            free[s] -= take
            use[s] += take
            got += take
        left[c.name] -= got


__all__ = ["SUBSTEPS", "FluidModel", "FluidResult", "fluid_metrics"]
