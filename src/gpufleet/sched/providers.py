"""Provider choice: which clusters a job tries, in which order. Plain functions chosen by name
(`commitment-first`, which keeps state across a run, is in sched/commitment.py).

Each policy takes the offers (one per cluster the job may use, overflow contracts already filtered
by the scenario's `overflow` switch) and the team's GPUs in use by provider, and returns cluster
indexes in the order to try. The same functions can order offers in a live placement service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClusterOffer:
    """What the scheduler knows about one cluster when choosing: its provider and contract terms."""

    index: int
    provider: str
    kind: str  # committed | on-demand | capacity-block
    take_or_pay: bool
    price_per_gpu_hour_usd: float
    contract: int = -1  # index of the contract holding the cluster (commitment-first ranks contracts)


@dataclass(frozen=True, slots=True)
class ChoiceParams:
    max_share: float | None = None  # diversify
    provider: str | None = None  # pinned


ProviderPolicy = Callable[[Sequence[ClusterOffer], Mapping[str, float], ChoiceParams], list[int]]


def cheapest(offers: Sequence[ClusterOffer], team_use: Mapping[str, float], p: ChoiceParams) -> list[int]:
    """Lowest contract price per GPU-hour first."""
    return [o.index for o in sorted(offers, key=lambda o: (o.price_per_gpu_hour_usd, o.index))]


def price_order(offers: Sequence[ClusterOffer], team_use: Mapping[str, float], p: ChoiceParams) -> list[int]:
    """Take-or-pay capacity first, then other committed, then overflow; cheaper first within each
    (commitment-first before it ranked contracts by their commitments, sched/commitment.py)."""

    def rank(o: ClusterOffer) -> tuple[int, float, int]:
        group = 0 if (o.kind == "committed" and o.take_or_pay) else 1 if o.kind == "committed" else 2
        return group, o.price_per_gpu_hour_usd, o.index

    return [o.index for o in sorted(offers, key=rank)]


def diversify(offers: Sequence[ClusterOffer], team_use: Mapping[str, float], p: ChoiceParams) -> list[int]:
    """The provider with the smallest share of the team's use first; a provider at the cap is skipped."""
    total = sum(team_use.values())
    cap = p.max_share if p.max_share is not None else 1.0

    def share(o: ClusterOffer) -> float:
        return team_use.get(o.provider, 0.0) / total if total > 0 else 0.0

    allowed = [o for o in offers if total <= 0 or share(o) < cap]
    return [o.index for o in sorted(allowed, key=lambda o: (share(o), o.price_per_gpu_hour_usd, o.index))]


def pinned(offers: Sequence[ClusterOffer], team_use: Mapping[str, float], p: ChoiceParams) -> list[int]:
    """Only the named provider's clusters, cheaper first."""
    return cheapest([o for o in offers if o.provider == p.provider], team_use, p)


def by_position(offers: Sequence[ClusterOffer], position: Mapping[int, int]) -> list[int]:
    """Offers by their contract's place in a ranking of contracts (`position`: contract -> place, those
    not ranked last), then cheaper, then by index: the order of every policy that ranks contracts
    (commitment-first, plan)."""
    last = len(position)

    def key(o: ClusterOffer) -> tuple[int, float, int]:
        return position.get(o.contract, last), o.price_per_gpu_hour_usd, o.index

    return [o.index for o in sorted(offers, key=key)]


POLICIES: dict[str, ProviderPolicy] = {
    "cheapest": cheapest,
    "price-order": price_order,
    "diversify": diversify,
    "pinned": pinned,
}


def provider_policy(name: str) -> ProviderPolicy:
    """The policy registered under this name (the scenario's policies.provider_choice.name)."""
    return POLICIES[name]
