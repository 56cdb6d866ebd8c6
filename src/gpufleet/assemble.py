"""From a scenario to the engine's input: fleet, jobs (training runs, streams), inference services, policies.

Beside the pipeline, above sim/: the engine sees only its own input types (sim/spec.py). Workload
models come from gpufleet.workload (training plans, stream generators, inference demand and
throughput); this module only arranges their output into arrays. Files are read at the edge (the
pipeline): trace streams' JobBatches arrive in `traces`, parameters files of synthetic streams in
`params`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gpufleet.catalog import Catalog
from gpufleet.errors import InputError
from gpufleet.finance.years import contract_years
from gpufleet.fleet.capacity import CapacityTimeline, build_capacity
from gpufleet.scenario.schema import (
    Checkpointing,
    Contract,
    Inference,
    Scenario,
    Stream,
    TrainingRun,
    duration_seconds,
)
from gpufleet.sched.planned import PlanMonth
from gpufleet.sim.engine import Progress, run_engine
from gpufleet.sim.spec import (
    ClusterSpec,
    ContractSpec,
    FleetSpec,
    JobSpec,
    PolicySpec,
    ServiceSpec,
    SimInput,
    TeamSpec,
    WorkloadSpec,
)
from gpufleet.sim.tables import build_tables
from gpufleet.tables import PRIORITY_CLASSES, RunTables
from gpufleet.units import NCLASS, SECONDS_PER_DAY, SECONDS_PER_HOUR
from gpufleet.workload.jobs import JobBatch
from gpufleet.workload.reliability import failure_rate_per_gpu_hour
from gpufleet.workload.streams import is_builtin_source
from gpufleet.workload.synthetic import SyntheticParams
from gpufleet.workload.training import plan_scenario_run

CLASS_INDEX = {c: i for i, c in enumerate(PRIORITY_CLASSES)}  # a priority class's index in the engine
# Stream jobs carry no checkpoint settings in the scenario; they checkpoint at the scenario
# schema's default cost, at the Young/Daly interval where they run.
STREAM_CHECKPOINT_COST_S = float(Checkpointing().cost_s)


def fleet_spec(scenario: Scenario, catalog: Catalog, tl: CapacityTimeline) -> FleetSpec:
    sites = {s.name: s for s in scenario.sites}
    overrides = scenario.policies.failures.rate_per_gpu_hour
    clusters = []
    for i, c in enumerate(scenario.clusters):
        product = catalog.products[c.product]
        clusters.append(
            ClusterSpec(
                name=c.name,
                provider=tl.providers[i],
                accelerator=product.accelerator,
                geo=sites[c.site].geo,
                gpus_per_domain=product.gpus_per_domain,
                gpus_per_node=product.gpus_per_node,
                blocks=c.blocks,
                domains_per_block=c.domains_per_block,
                it_kw_per_domain=float(tl.it_kw_per_domain[i]),
                pue=float(tl.pue[i]),
                failure_rate_per_gpu_hour=failure_rate_per_gpu_hour(product.accelerator, overrides),
            )
        )
    by_name = {c.name: c for c in scenario.contracts}
    contracts = tuple(
        ContractSpec(
            name=rc.name,
            provider=rc.provider,
            kind=rc.kind,
            take_or_pay=bool(
                (cm := by_name[rc.name].commitment) is not None and cm.take_or_pay and rc.kind == "committed"
            ),
            price_per_gpu_hour_usd=rc.price_per_gpu_hour_usd,
            start_day=(rc.start - tl.start).days,
            end_day=(rc.end - tl.start).days,
            **_commitment_terms(by_name[rc.name], rc.kind, rc.start, rc.end, tl.start),
        )
        for rc in tl.contracts
    )
    start = dt.datetime.combine(tl.start, dt.time(), tzinfo=dt.UTC)
    return FleetSpec(
        start_epoch_s=start.timestamp(),
        days=tl.days,
        clusters=tuple(clusters),
        contracts=contracts,
        domains=tl.domains,
        contract=tl.contract,
    )


def _commitment_terms(
    contract: Contract, kind: str, start: dt.date, end: dt.date, day0: dt.date
) -> dict[str, Any]:
    """A contract's billing model, minimums and contract years (finance/years.py) in horizon days."""
    cm = contract.commitment
    model = contract.billing.model if contract.billing is not None else "spend-commitment"
    return {
        "billing": model if kind == "committed" else kind,
        "min_per_year_usd": cm.min_per_year_usd if cm is not None else None,
        "total_usd": cm.total_usd if cm is not None else None,
        "years": tuple(
            ((y.start - day0).days, (y.end - day0).days, y.full_days) for y in contract_years(start, end)
        ),
    }


def policy_spec(scenario: Scenario, plan_months: Sequence[PlanMonth] = ()) -> PolicySpec:
    """The scenario's policies for the engine; `plan_months`: what the `plan` provider choice follows."""
    p = scenario.policies
    order = [CLASS_INDEX[c] for c in p.preemption.order]
    order += [k for k in range(NCLASS) if k not in order]
    return PolicySpec(
        queue=p.queue,
        placement=p.placement,
        backfill=p.backfill,
        preemption=p.preemption.enabled,
        class_order=tuple(order),
        provider_choice=p.provider_choice.name,
        max_share=p.provider_choice.max_share,
        pinned_provider=p.provider_choice.provider,
        overflow=p.overflow,
        failures=p.failures.enabled,
        repair_s=p.failures.repair_hours * SECONDS_PER_HOUR,
        autoscale_s=duration_seconds(p.autoscale_interval),
        step_s=scenario.horizon.step_s,
        plan=tuple(plan_months),
    )


def allowed_clusters(
    scenario: Scenario, providers: list[str] | None, geos: list[str] | None = None
) -> tuple[int, ...]:
    sites = {s.name: s for s in scenario.sites}
    out = []
    for i, c in enumerate(scenario.clusters):
        site = sites[c.site]
        if providers is not None and site.provider not in providers:
            continue
        if geos is not None and site.geo not in geos:
            continue
        out.append(i)
    return tuple(out)


def team_class(scenario: Scenario, team: str) -> str:
    for t in scenario.teams:
        if t.name == team:
            return t.priority_class
    return "research"


def _stream_batch(
    stream: Stream,
    scenario: Scenario,
    catalog: Catalog,
    tl: CapacityTimeline,
    rng: np.random.Generator,
    traces: Mapping[str, JobBatch],
    params: Mapping[str, SyntheticParams],
) -> JobBatch:
    """A stream's jobs with submit times in seconds from the horizon start.

    Trace streams come read by the edge, as gpufleet.workload.streams.stream_jobs returns them
    (already shifted to the horizon); synthetic streams are drawn here from the run's generator,
    from built-in parameters or from a parameters file the edge read (`params`).
    """
    if stream.trace is not None:
        if stream.name not in traces:
            raise InputError(
                f"stream {stream.name!r} is trace-based but no trace was read for it", where="traces"
            )
        return traces[stream.name]
    from gpufleet.workload.streams import stream_jobs

    syn = stream.synthetic
    given = params.get(stream.name)
    if given is None and syn is not None and not is_builtin_source(syn.source):
        raise InputError(
            f"stream {stream.name!r} draws from the parameters file {syn.source!r}, which was not read "
            "(run it through gpufleet.pipeline, which reads it beside the scenario)",
            where="params",
        )
    gpus_per_day = tl.gpus.sum(axis=0).astype(np.float64)
    return stream_jobs(stream, scenario, catalog, rng, gpus_per_day, None, params=given)


def build_input(
    scenario: Scenario,
    catalog: Catalog,
    tl: CapacityTimeline,
    rng: np.random.Generator,
    traces: Mapping[str, JobBatch],
    params: Mapping[str, SyntheticParams],
    plan_months: Sequence[PlanMonth] = (),
) -> tuple[SimInput, list[str], list[str]]:
    """The engine's input, the team names (index order) and the workload names (index order)."""
    horizon_s = tl.days * SECONDS_PER_DAY
    teams = [TeamSpec(t.name, t.quota_share, t.can_borrow) for t in scenario.teams]
    team_names = [t.name for t in teams]
    team_index = {n: i for i, n in enumerate(team_names)}

    def team_idx(name: str) -> int:
        if name not in team_index:
            team_index[name] = len(team_names)
            team_names.append(name)
        return team_index[name]

    streams = rng.spawn(max(1, len(scenario.workloads)))
    workloads: list[WorkloadSpec] = []
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("submit", "work", "gpus", "team", "cls", "wl")}
    services: list[ServiceSpec] = []
    start = dt.datetime.combine(scenario.horizon.start, dt.time(), tzinfo=dt.UTC)
    autoscale_s = duration_seconds(scenario.policies.autoscale_interval)
    n_ticks = math.ceil(horizon_s / autoscale_s)
    fleet_clusters = scenario.clusters
    accs = [catalog.products[c.product].accelerator for c in fleet_clusters]

    def add(
        submit: np.ndarray, work: np.ndarray, gpus: np.ndarray, team: np.ndarray, cls: np.ndarray
    ) -> None:
        cols["submit"].append(submit)
        cols["work"].append(work)
        cols["gpus"].append(gpus)
        cols["team"].append(team)
        cols["cls"].append(cls)
        cols["wl"].append(np.full(len(submit), len(workloads) - 1, dtype=np.int64))

    for w, sub_rng in zip(scenario.workloads, streams, strict=False):
        item = w.item
        if isinstance(item, TrainingRun):
            # the estimate's plan (workload.training): work, checkpoint period and restart as planned
            plan = plan_scenario_run(item, scenario, catalog)
            submit = (
                (item.earliest_start - scenario.horizon.start).days * SECONDS_PER_DAY
                if item.earliest_start
                else 0.0
            )
            workloads.append(
                WorkloadSpec(
                    name=item.name,
                    require=item.topology.require,
                    allowed_clusters=allowed_clusters(scenario, item.allowed_providers),
                    checkpoint_cost_s=plan.checkpoint_cost_s,
                    checkpoint_interval_s=plan.checkpoint_period_s,
                    restart_s=plan.restart_s,
                    prefer=item.topology.prefer,
                )
            )
            k = CLASS_INDEX[item.priority_class or team_class(scenario, item.team)]
            add(
                np.array([max(submit, 0.0)]),
                np.array([plan.work_s]),
                np.array([item.gpus], dtype=np.int64),
                np.array([team_idx(item.team)], dtype=np.int64),
                np.array([k], dtype=np.int64),
            )
        elif isinstance(item, Stream):
            batch = _stream_batch(item, scenario, catalog, tl, sub_rng, traces, params)
            workloads.append(
                WorkloadSpec(
                    name=item.name,
                    require=item.topology.require,
                    allowed_clusters=allowed_clusters(scenario, item.allowed_providers),
                    checkpoint_cost_s=STREAM_CHECKPOINT_COST_S,
                    checkpoint_interval_s=None,
                    restart_s=None,
                    prefer=item.topology.prefer,
                )
            )
            n = len(batch)
            default_cls = item.priority_class or team_class(scenario, item.team)
            tcodes, tuniq = pd.factorize(pd.Series(batch.team, dtype=object).fillna(item.team))
            tmap = np.array([team_idx(str(u)) for u in tuniq], dtype=np.int64)
            ccodes, cuniq = pd.factorize(pd.Series(batch.priority_class, dtype=object).fillna(default_cls))
            cmap = np.array(
                [CLASS_INDEX.get(str(u), CLASS_INDEX[default_cls]) for u in cuniq], dtype=np.int64
            )
            add(
                batch.submit_s.astype(np.float64),
                batch.duration_s.astype(np.float64),
                batch.gpus.astype(np.int64),
                tmap[tcodes] if n else np.zeros(0, np.int64),
                cmap[ccodes] if n else np.zeros(0, np.int64),
            )
        elif isinstance(item, Inference):
            services.extend(_services(item, scenario, catalog, accs, start, n_ticks, autoscale_s, team_idx))
    if cols["submit"]:
        all_submit = np.concatenate(cols["submit"])
        order = np.argsort(all_submit, kind="stable")
        keep = order[(all_submit[order] < horizon_s) & (all_submit[order] >= 0)]
        pick = {k: np.concatenate(v)[keep] for k, v in cols.items()}
    else:
        pick = {k: np.zeros(0, np.float64 if k in ("submit", "work") else np.int64) for k in cols}
    jobs = JobSpec(
        submit_s=pick["submit"],
        work_s=pick["work"],
        gpus=pick["gpus"],
        team=pick["team"],
        cls=pick["cls"],
        workload=pick["wl"],
        workloads=tuple(workloads),
    )
    teams_all = tuple(teams) + tuple(TeamSpec(n, None, True) for n in team_names[len(teams) :])
    inp = SimInput(
        fleet=fleet_spec(scenario, catalog, tl),
        jobs=jobs,
        teams=teams_all,
        services=tuple(services),
        policy=policy_spec(scenario, plan_months),
        horizon_s=horizon_s,
    )
    return inp, team_names, [w.name for w in workloads]


def replica_throughput(
    item: Inference, scenario: Scenario, catalog: Catalog, accs: list[str] | None = None
) -> np.ndarray:
    """Tokens/s one replica of the service serves in each cluster (index order); 0 where it may not run.

    A replica may run on a cluster its providers and regions allow whose NVLink domain holds it.
    """
    from gpufleet.workload.inference import tokens_per_s_per_gpu

    if accs is None:
        accs = [catalog.products[c.product].accelerator for c in scenario.clusters]
    thr = np.zeros(len(accs))
    for c in allowed_clusters(scenario, item.allowed_providers, item.allowed_regions):
        if item.replica_gpus > catalog.products[scenario.clusters[c].product].gpus_per_domain:
            continue  # a replica lives inside one NVLink domain: it cannot run here
        try:
            thr[c] = tokens_per_s_per_gpu(item.model_class, accs[c], catalog, item.tokens_per_s_per_gpu)
        except (InputError, KeyError):
            thr[c] = 0.0
    return thr * item.replica_gpus


def _services(
    item: Inference,
    scenario: Scenario,
    catalog: Catalog,
    accs: list[str],
    start: dt.datetime,
    n_ticks: int,
    tick_s: float,
    team_idx: object,
) -> list[ServiceSpec]:
    from gpufleet.workload.inference import demand_tokens_s

    assert callable(team_idx)
    allowed = allowed_clusters(scenario, item.allowed_providers, item.allowed_regions)
    thr = replica_throughput(item, scenario, catalog, accs)
    times = np.arange(n_ticks, dtype=np.float64) * tick_s
    case = scenario.finance.default_case
    demand = demand_tokens_s(
        item.demand, start, times, scenario.finance.revenue_scenarios.get(case) if case else None
    )
    k = CLASS_INDEX[item.priority_class or team_class(scenario, item.team)]
    team = int(team_idx(item.team))
    return [
        ServiceSpec(
            service=item.name,
            region=region,
            team=team,
            cls=k,
            replica_gpus=item.replica_gpus,
            headroom=item.headroom,
            demand_tokens_s=np.asarray(values, dtype=np.float64),
            tokens_s_per_replica=thr,
            allowed_clusters=allowed,
        )
        for region, values in demand.items()
    ]


def prepare(
    scenario: Scenario,
    catalog: Catalog,
    seed: int,
    traces: Mapping[str, JobBatch],
    params: Mapping[str, SyntheticParams] | None = None,
    plan_months: Sequence[PlanMonth] = (),
) -> tuple[SimInput, list[str], list[str], np.random.Generator]:
    """The engine's input and its generator: (input, team names, workload names, engine rng).

    One numpy Generator per run from SeedSequence(seed); children are spawned per purpose (workload
    generation, the engine's failure draws), so adding a stream never changes another's draws.
    """
    root = np.random.default_rng(np.random.SeedSequence(seed))
    workload_rng, engine_rng = root.spawn(2)
    tl = build_capacity(scenario, catalog)
    given = params or {}
    inp, teams, workloads = build_input(scenario, catalog, tl, workload_rng, traces, given, plan_months)
    return inp, teams, workloads, engine_rng


def simulate(
    scenario: Scenario,
    catalog: Catalog,
    seed: int,
    traces: Mapping[str, JobBatch],
    progress: Progress | None = None,
    params: Mapping[str, SyntheticParams] | None = None,
    plan_months: Sequence[PlanMonth] = (),
) -> RunTables:
    """Run the scenario once: jobs, series, usage, inference and queue tables (finance fills the rest).
    `plan_months`: the months a `plan` provider choice follows (simulate --plan)."""
    if progress is not None:
        progress(0.0, "building workloads")
    inp, teams, workloads, rng = prepare(scenario, catalog, seed, traces, params, plan_months)
    res = run_engine(inp, rng, progress)
    if progress is not None:
        progress(1.0, "writing tables")
    return build_tables(inp, res, teams, workloads)
