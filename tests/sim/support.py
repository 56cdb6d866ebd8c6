"""Builders of small hand-made engine inputs shared by the sim and sched tests (no tests here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from gpufleet.sim.engine import Engine, EngineResult
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

DAY = 86400.0


def cluster(
    name: str = "c0",
    gpus_per_domain: int = 8,
    gpus_per_node: int = 8,
    blocks: int = 1,
    domains_per_block: int = 4,
    provider: str = "p0",
    rate: float = 0.0,
    accelerator: str = "h100",
) -> ClusterSpec:
    return ClusterSpec(
        name=name,
        provider=provider,
        accelerator=accelerator,
        geo="us",
        gpus_per_domain=gpus_per_domain,
        gpus_per_node=gpus_per_node,
        blocks=blocks,
        domains_per_block=domains_per_block,
        it_kw_per_domain=10.0,
        pue=1.2,
        failure_rate_per_gpu_hour=rate,
    )


def fleet(
    clusters: Sequence[ClusterSpec],
    days: int,
    domains: Sequence[Sequence[int]] | None = None,
    prices: Sequence[float] | None = None,
    kinds: Sequence[str] | None = None,
) -> FleetSpec:
    """One contract per cluster; domains[c] per day (default: the whole cluster every day)."""
    nc = len(clusters)
    if domains is None:
        dom = np.array([[c.blocks * c.domains_per_block] * days for c in clusters], dtype=np.int32)
    else:
        dom = np.array(domains, dtype=np.int32)
    contracts = tuple(
        ContractSpec(
            name=f"k{i}",
            provider=c.provider,
            kind=(kinds[i] if kinds else "committed"),
            take_or_pay=(kinds[i] if kinds else "committed") == "committed",
            price_per_gpu_hour_usd=(prices[i] if prices else 2.0 + i),
            start_day=0,
            end_day=days - 1,
        )
        for i, c in enumerate(clusters)
    )
    holder = np.tile(np.arange(nc, dtype=np.int16)[:, None], (1, days))
    return FleetSpec(
        start_epoch_s=1.7e9 - (1.7e9 % DAY),
        days=days,
        clusters=tuple(clusters),
        contracts=contracts,
        domains=dom,
        contract=holder,
    )


def jobs(
    rows: Sequence[tuple[float, float, int, int]],
    workloads: Sequence[WorkloadSpec] | None = None,
    teams: Sequence[int] | None = None,
    wl_index: Sequence[int] | None = None,
) -> JobSpec:
    """rows: (submit_s, work_s, gpus, class index); sorted by submit here (stable)."""
    arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
    order = np.argsort(arr[:, 0], kind="stable")
    arr = arr[order]
    n = len(arr)
    wls = tuple(workloads) if workloads else (WorkloadSpec("w", None, (0,), 0.0, None, 0.0),)
    return JobSpec(
        submit_s=arr[:, 0].copy(),
        work_s=arr[:, 1].copy(),
        gpus=arr[:, 2].astype(np.int64),
        team=np.asarray(teams, dtype=np.int64)[order] if teams is not None else np.zeros(n, np.int64),
        cls=arr[:, 3].astype(np.int64),
        workload=np.asarray(wl_index, dtype=np.int64)[order]
        if wl_index is not None
        else np.zeros(n, np.int64),
        workloads=wls,
    )


def workload(
    clusters: Sequence[int] = (0,),
    require: str | None = None,
    cost: float = 0.0,
    interval: float | None = None,
    restart: float | None = 0.0,
    name: str = "w",
    prefer: str | None = "block",
) -> WorkloadSpec:
    return WorkloadSpec(name, require, tuple(clusters), cost, interval, restart, prefer)


def sim_input(
    fleet_spec: FleetSpec,
    job_spec: JobSpec,
    policy: PolicySpec | None = None,
    teams: Sequence[TeamSpec] = (TeamSpec("t", None, True),),
    services: Sequence[ServiceSpec] = (),
    horizon_s: float | None = None,
) -> SimInput:
    pol = policy or PolicySpec(failures=False, queue="priority")
    return SimInput(
        fleet=fleet_spec,
        jobs=job_spec,
        teams=tuple(teams),
        services=tuple(services),
        policy=pol,
        horizon_s=horizon_s if horizon_s is not None else fleet_spec.days * DAY,
    )


def run(inp: SimInput, seed: int = 0) -> tuple[Engine, EngineResult]:
    eng = Engine(inp, np.random.default_rng(seed))
    return eng, eng.run()


def with_policy(inp: SimInput, **changes: object) -> SimInput:
    return replace(inp, policy=replace(inp.policy, **changes))
