"""Commitment-first provider choice: contracts ranked by how far their take-or-pay money is behind.

The engine hands `refresh` one ContractState per contract (once per simulated day and at each
capacity change, never per job); jobs then try clusters in the ranked order (docs/engine.md,
"Provider choice"):

1. sunk capacity first: a reserved contract (capacity paid for, used or not) or a take-or-pay
   commitment with money left in its current period. Among these, the larger *need* first: the
   commitment left in the period over the priced capacity-hours left in it (above 1: the minimum is
   missed even at full use; a reserved contract's need is 1, its whole capacity). Then the period that
   ends soonest (a reserved contract's money expires daily). Then the dearer: using sunk capacity costs
   nothing at the margin, and a dearer GPU-hour uses more of the commitment.
2. other committed capacity (minimum met, or no take-or-pay): cheaper first.
3. non-committed capacity (on-demand, capacity blocks) last, cheaper first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gpufleet.sched.providers import ChoiceParams, ClusterOffer, by_position
from gpufleet.units import SECONDS_PER_DAY


@dataclass(frozen=True, slots=True)
class ContractState:
    """One contract on one day, as the ranking sees it (money in USD, days as horizon day indexes)."""

    contract: int
    price_per_gpu_hour_usd: float
    committed: bool  # kind committed (not on-demand or a capacity block)
    reserved: bool  # billing model reserved: capacity billed whether used or not
    take_or_pay: bool  # a shortfall against the minimum is paid all the same
    left_usd: float  # commitment left in the current period (contract year, or the term)
    capacity_left_usd: float  # capacity-hours left in that period, priced
    period_end_day: int  # the period's last day


RankKey = tuple[int, float, float, float, int]


def need(s: ContractState) -> float:
    """Commitment left over priced capacity left in the period (inf: money left, no capacity)."""
    if s.reserved:
        return 1.0
    if s.left_usd <= 0:
        return 0.0
    return s.left_usd / s.capacity_left_usd if s.capacity_left_usd > 0 else math.inf


def rank_key(s: ContractState, today: int) -> RankKey:
    """Sort key of one contract (smaller first): tier, need (larger first), expiry, price."""
    if not s.committed:
        return 2, 0.0, 0.0, s.price_per_gpu_hour_usd, s.contract
    if s.reserved:
        return 0, -1.0, float(today), -s.price_per_gpu_hour_usd, s.contract
    n = need(s)
    if s.take_or_pay and n > 0:
        return 0, -n, float(s.period_end_day), -s.price_per_gpu_hour_usd, s.contract
    return 1, 0.0, 0.0, s.price_per_gpu_hour_usd, s.contract


def rank_contracts(states: Sequence[ContractState], today: int) -> list[int]:
    """Contract indexes in the order jobs should use them."""
    return [s.contract for s in sorted(states, key=lambda s: rank_key(s, today))]


class CommitmentFirst:
    """The ranking as a provider policy: `refresh` ranks the contracts, `order` sorts offers by it."""

    per_team = False
    needs_usage = True

    def __init__(self) -> None:
        self.position: dict[int, int] = {}

    def refresh(
        self, now: float, offers: Sequence[ClusterOffer | None], contracts: Sequence[ContractState]
    ) -> bool:
        """Rank the contracts from their states; True when the ranking changed."""
        if not contracts:
            return False
        today = int(now // SECONDS_PER_DAY)
        position = {k: i for i, k in enumerate(rank_contracts(contracts, today))}
        if position == self.position:
            return False
        self.position = position
        return True

    def order(
        self, offers: Sequence[ClusterOffer], team_use: Mapping[str, float], params: ChoiceParams
    ) -> list[int]:
        return by_position(offers, self.position)
