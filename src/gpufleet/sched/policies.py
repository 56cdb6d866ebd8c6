"""The scheduling policies as protocols, and the registry that resolves their names once per run.

Each kind of decision has one protocol and a table of named implementations: queue order, backfill,
placement, victim choice and provider choice. `resolve()` turns a run's PolicySpec-like names into
the callables the engine holds for the whole run, so no name is looked up per job.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from gpufleet.fleet.state import ClusterState, Placement
from gpufleet.sched.backfill import Reservation, cluster_shadow, reserve
from gpufleet.sched.commitment import CommitmentFirst, ContractState
from gpufleet.sched.placement import best_fit, first_fit
from gpufleet.sched.planned import PlanFollowing, PlanMonth
from gpufleet.sched.preemption import choose_victims
from gpufleet.sched.providers import POLICIES as PROVIDER_POLICIES
from gpufleet.sched.providers import ChoiceParams, ClusterOffer, ProviderPolicy


class PlacementPolicy(Protocol):
    """Where a job of `gpus` GPUs goes in one cluster now (None: it does not fit as required)."""

    def __call__(
        self, cs: ClusterState, gpus: int, require: str | None, prefer: str | None = "block"
    ) -> Placement | None: ...


# (cluster, free GPUs, running jobs' (expected end, job, GPUs) sorted, topology-aware?)
ClusterEnds = tuple[int, int, Sequence[tuple[float, int, int]], bool]


class BackfillPolicy(Protocol):
    """What the head job (the first that cannot start) leaves to the jobs behind it.

    `reserve` returns the head's reservation (later jobs start only where it allows), or None: the
    jobs behind the head wait (strict priority order). `tracks_ends`: the engine keeps each
    cluster's running jobs sorted by expected end for it.
    """

    tracks_ends: bool

    def reserve(self, now: float, need: int, clusters: Iterable[ClusterEnds]) -> Reservation | None: ...


class NoBackfill:
    """No backfill: nothing starts behind the head job."""

    tracks_ends = False

    def reserve(self, now: float, need: int, clusters: Iterable[ClusterEnds]) -> Reservation | None:
        return None


class EasyBackfill:
    """EASY: the head is reserved on the cluster where it starts soonest; later jobs may start if they
    do not delay it (on topology-aware clusters: only if they end by its shadow time)."""

    tracks_ends = True

    def reserve(self, now: float, need: int, clusters: Iterable[ClusterEnds]) -> Reservation | None:
        cands = []
        for c, free, ends, topology in clusters:
            s, extra = cluster_shadow(now, need, free, ends, topology)
            cands.append((c, s, extra))
        return reserve(cands)


VictimRank = Callable[[int], tuple[int, float]]


class VictimPolicy(Protocol):
    """Running jobs to stop in one cluster so that a job of `gpus` GPUs can be placed; None: impossible."""

    def __call__(
        self,
        cs: ClusterState,
        gpus: int,
        eligible: Callable[[int], bool],
        rank: VictimRank,
        held: Callable[[int], int],
        single_block: bool = False,
    ) -> list[int] | None: ...


class ProviderChoice(Protocol):
    """The order in which a job tries the clusters it may use.

    The engine caches `order` per set of allowed clusters and clears the cache when the offers
    change (a capacity event), so a ranking costs one dictionary lookup per job. A policy whose
    order depends on the team's use (per_team) is asked every time. A ranking that needs fresher
    inputs (`needs_usage`: each contract's state, from the engine's daily usage bookkeeping)
    recomputes inside `refresh`, called at each capacity change and, for such a policy, at each
    day's start; it returns True when the order changed (the engine then clears its cache).
    """

    @property
    def per_team(self) -> bool: ...

    @property
    def needs_usage(self) -> bool: ...

    def order(
        self, offers: Sequence[ClusterOffer], team_use: Mapping[str, float], params: ChoiceParams
    ) -> list[int]: ...

    def refresh(
        self, now: float, offers: Sequence[ClusterOffer | None], contracts: Sequence[ContractState]
    ) -> bool: ...


@dataclass(frozen=True)
class RankedProviders:
    """A provider policy that is a plain ordering function (see sched/providers.py)."""

    rank: Callable[[Sequence[ClusterOffer], Mapping[str, float], ChoiceParams], list[int]]
    per_team: bool = False
    needs_usage: bool = False

    def order(
        self, offers: Sequence[ClusterOffer], team_use: Mapping[str, float], params: ChoiceParams
    ) -> list[int]:
        return self.rank(offers, team_use, params)

    def refresh(
        self, now: float, offers: Sequence[ClusterOffer | None], contracts: Sequence[ContractState]
    ) -> bool:
        return False


@dataclass(frozen=True)
class QueueOrder:
    """The order of the queues and who may start: classes scanned in `classes` order, FIFO (by
    submit time) inside a class; `merged`: one queue of all classes in submit order instead (plain
    FIFO); team quotas (fair share) when `quotas`; `pooled`: clusters without topology, no
    backfill, preemption or failures (strict FIFO, a reference mode)."""

    classes: tuple[int, ...]
    quotas: bool
    pooled: bool = False
    merged: bool = False

    def shares(self, quota_shares: Sequence[float | None]) -> list[float]:
        """Each team's share of the fleet it may use without borrowing (inf: no quota)."""
        return [s if (self.quotas and s is not None) else math.inf for s in quota_shares]

    def lanes(self, queues: list[Iterator[int]], submit: Sequence[float]) -> list[Iterator[int]]:
        """The queues as the cycle scans them, each lane up to its depth: one lane per class, or
        (merged) one lane of every class's jobs by submit time, ties in class order. queues: the
        classes' jobs in FIFO order, one iterator per class in `classes` order (empty ones may be
        left out); submit: each job's submit time."""
        if self.merged:
            return [heapq.merge(*queues, key=submit.__getitem__)]
        return queues


def fifo(classes: tuple[int, ...]) -> QueueOrder:
    """One queue in submit order whatever the class; no quotas (backfill and preemption as set)."""
    return QueueOrder(classes, quotas=False, merged=True)


def priority(classes: tuple[int, ...]) -> QueueOrder:
    """Priority classes in order, FIFO within each; no quotas."""
    return QueueOrder(classes, quotas=False)


def fair_share(classes: tuple[int, ...]) -> QueueOrder:
    """Priority classes in order, FIFO within each, each team held to its quota share (it may borrow)."""
    return QueueOrder(classes, quotas=True)


def strict_fifo(classes: tuple[int, ...]) -> QueueOrder:
    """The reference mode: priority FIFO on pooled clusters, nothing jumps the head."""
    return QueueOrder(classes, quotas=False, pooled=True)


QUEUE_ORDERS: dict[str, Callable[[tuple[int, ...]], QueueOrder]] = {
    "fifo": fifo,
    "priority": priority,
    "fair-share": fair_share,
    "strict-fifo": strict_fifo,
}
BACKFILL: dict[str, BackfillPolicy] = {"none": NoBackfill(), "easy": EasyBackfill()}
PLACEMENT: dict[str, PlacementPolicy] = {"best-fit": best_fit, "first-fit": first_fit}
VICTIMS: dict[str, VictimPolicy] = {"lowest-class-newest-first": choose_victims}
# factories: a policy may keep state across one run (commitment-first's ranking), so each run gets its
# own; each is given the run's plan (PolicySpec.plan: the months `plan` follows; the others ignore it)
ProviderFactory = Callable[[Sequence[PlanMonth]], ProviderChoice]


def _ranked(rank: ProviderPolicy, per_team: bool) -> ProviderFactory:
    return lambda plan: RankedProviders(rank, per_team=per_team)


PROVIDERS: dict[str, ProviderFactory] = {
    name: _ranked(rank, name == "diversify") for name, rank in PROVIDER_POLICIES.items()
}
PROVIDERS["commitment-first"] = lambda plan: CommitmentFirst()
PROVIDERS["plan"] = PlanFollowing  # simulate --plan: the stored plan's monthly allocation


@dataclass(frozen=True)
class Policies:
    """The policies of one run, resolved from their names once when it starts."""

    queue: QueueOrder
    backfill: BackfillPolicy
    placement: PlacementPolicy
    victims: VictimPolicy
    providers: ProviderChoice


def resolve(
    queue: str,
    classes: tuple[int, ...],
    backfill: str,
    placement: str,
    providers: str,
    victims: str = "lowest-class-newest-first",
    plan: Sequence[PlanMonth] = (),
) -> Policies:
    """The named policies; the strict-FIFO queue order overrides backfill (none). `plan`: the months
    the `plan` provider policy follows. An unknown name is a KeyError naming the table (the scenario
    schema admits only registered names)."""
    strict = queue == "strict-fifo"
    return Policies(
        queue=_get(QUEUE_ORDERS, queue, "queue order")(classes),
        backfill=BACKFILL["none" if strict else backfill],
        placement=_get(PLACEMENT, placement, "placement"),
        victims=_get(VICTIMS, victims, "victim choice"),
        providers=_get(PROVIDERS, providers, "provider choice")(plan),
    )


T = TypeVar("T")


def _get(table: Mapping[str, T], name: str, what: str) -> T:
    if name not in table:
        raise KeyError(f"unknown {what} policy {name!r}; known: {', '.join(sorted(table))}")
    return table[name]
