"""What the engine consumes: the fleet, the jobs, the inference services and the policies, as plain values.

Built from a scenario by gpufleet/assemble.py, or by hand in tests. Arrays, not objects per job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from gpufleet.units import BEST_EFFORT, INFERENCE, RESEARCH, SECONDS_PER_DAY, SECONDS_PER_HOUR, TRAINING

if TYPE_CHECKING:
    from gpufleet.sched.planned import PlanMonth
    from gpufleet.workload.jobs import JobBatch

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ContractSpec:
    name: str
    provider: str
    kind: str  # committed | on-demand | capacity-block
    take_or_pay: bool
    price_per_gpu_hour_usd: float
    start_day: int  # horizon day index of the term's first day (may be < 0)
    end_day: int  # inclusive
    # the terms commitment-first ranks by (sched/commitment.py); the ledger bills from the scenario
    billing: str = "spend-commitment"  # reserved | spend-commitment | prepaid | on-demand | capacity-block
    min_per_year_usd: float | None = None
    total_usd: float | None = None
    years: tuple[tuple[int, int, int], ...] = ()  # contract years: (first day, last day, days in a full year)


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    name: str
    provider: str
    accelerator: str
    geo: str
    gpus_per_domain: int
    gpus_per_node: int
    blocks: int
    domains_per_block: int
    it_kw_per_domain: float
    pue: float
    failure_rate_per_gpu_hour: float


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """Clusters and their capacity per horizon day (domains online, holding contract)."""

    start_epoch_s: float  # horizon start as seconds since 1970 (UTC)
    days: int
    clusters: tuple[ClusterSpec, ...]
    contracts: tuple[ContractSpec, ...]
    domains: npt.NDArray[np.int32]  # (clusters, days)
    contract: npt.NDArray[np.int16]  # (clusters, days), -1 none


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    """Per workload (stream or training run): topology requirement and where it may run."""

    name: str
    require: str | None  # domain | block | cluster | None
    allowed_clusters: tuple[int, ...]
    checkpoint_cost_s: float
    checkpoint_interval_s: float | None  # None: Young/Daly from cost and the job's MTBF where it runs
    restart_s: float | None  # None: the default that grows with job size
    # placed inside one such unit where possible (topology.prefer); "block" or "domain" keep a job
    # larger than a domain in as few blocks as possible, "cluster" or None fill fragmented blocks first
    prefer: str | None = "block"


@dataclass(frozen=True, slots=True)
class JobSpec:
    """All jobs of the run sorted by submit time; times in seconds from the horizon start."""

    submit_s: F64
    work_s: F64  # wall time to run without interruption (compute plus checkpoint stalls)
    gpus: I64
    team: I64  # index into TeamSpec list
    cls: I64  # index into PRIORITY_CLASSES
    workload: I64  # index into workloads
    workloads: tuple[WorkloadSpec, ...]

    def __len__(self) -> int:
        return len(self.submit_s)

    @classmethod
    def replay(cls, batch: JobBatch, workload: WorkloadSpec, klass: int = RESEARCH) -> JobSpec:
        """One trace's jobs as a single workload of team 0 (a replay outside any scenario)."""
        n = len(batch)
        return cls(
            submit_s=batch.submit_s,
            work_s=batch.duration_s,
            gpus=batch.gpus,
            team=np.zeros(n, np.int64),
            cls=np.full(n, klass, np.int64),
            workload=np.zeros(n, np.int64),
            workloads=(workload,),
        )


@dataclass(frozen=True, slots=True)
class TeamSpec:
    name: str
    quota_share: float | None  # None: no quota
    can_borrow: bool


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One inference service in one demand region: demand per autoscale tick and where replicas go."""

    service: str
    region: str
    team: int
    cls: int
    replica_gpus: int
    headroom: float
    demand_tokens_s: F64  # per tick
    tokens_s_per_replica: F64  # per cluster; 0 where a replica cannot run
    allowed_clusters: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PolicySpec:
    queue: str = "fair-share"  # the queue order: fair-share, priority, fifo, strict-fifo (sched.policies)
    placement: str = "best-fit"
    backfill: str = "easy"
    preemption: bool = True
    class_order: tuple[int, ...] = (INFERENCE, TRAINING, RESEARCH, BEST_EFFORT)  # highest priority first
    provider_choice: str = "commitment-first"
    max_share: float | None = None
    pinned_provider: str | None = None
    overflow: bool = False
    failures: bool = True
    repair_s: float = 4 * SECONDS_PER_HOUR
    autoscale_s: float = SECONDS_PER_HOUR
    step_s: float = SECONDS_PER_DAY
    backfill_depth: int = 256  # queued jobs examined per class and cycle (Slurm's bf_max_job_test)
    plan: tuple[PlanMonth, ...] = ()  # the months the `plan` provider choice follows (simulate --plan)

    @property
    def strict(self) -> bool:
        return self.queue == "strict-fifo"


@dataclass(frozen=True, slots=True)
class SimInput:
    fleet: FleetSpec
    jobs: JobSpec
    teams: tuple[TeamSpec, ...]
    services: tuple[ServiceSpec, ...]
    policy: PolicySpec
    horizon_s: float
    job_ids: I64 = field(default_factory=lambda: np.zeros(0, np.int64))  # ids for the jobs table
