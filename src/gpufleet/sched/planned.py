"""Plan-following provider choice: each month, the contracts the plan uses most go first.

`gpufleet simulate --plan ID` runs a stored plan's contracts and hands this policy the plan's monthly
allocation as the share of each contract's capacity the plan uses that month (plan/follow.py), as
data in the engine's input (`PolicySpec.plan`). Jobs try the contracts the plan uses before those it
leaves idle, the fuller first; ties, and contracts the plan does not use, keep commitment-first's
order (sched/commitment.py); without months (or past them) it ranks as commitment-first. The ranking
changes at month boundaries and capacity changes (in `refresh`), never per job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gpufleet.sched.commitment import CommitmentFirst, ContractState
from gpufleet.sched.providers import ChoiceParams, ClusterOffer, by_position
from gpufleet.units import SECONDS_PER_DAY


@dataclass(frozen=True, slots=True)
class PlanMonth:
    """One month of the plan: its horizon days and the share of each contract's capacity it uses."""

    first_day: int
    last_day: int
    share: Mapping[int, float]  # contract index -> planned GPU-hours / GPU-hours online


class PlanFollowing:
    """The plan's monthly shares as a provider policy (see the module docstring)."""

    per_team = False
    needs_usage = True

    def __init__(self, months: Sequence[PlanMonth] = ()) -> None:
        self.months: tuple[PlanMonth, ...] = tuple(months)
        self.fallback = CommitmentFirst()
        self.month = -1
        self.position: dict[int, int] = {}

    def _month_of(self, day: int) -> int:
        for i, pm in enumerate(self.months):
            if pm.first_day <= day <= pm.last_day:
                return i
        return -1

    def refresh(
        self, now: float, offers: Sequence[ClusterOffer | None], contracts: Sequence[ContractState]
    ) -> bool:
        """Re-rank when the month or commitment-first's order changed; True when the order changed."""
        changed = self.fallback.refresh(now, offers, contracts)
        month = self._month_of(int(now // SECONDS_PER_DAY))
        if month == self.month and not changed:
            return False
        self.month = month
        share = self.months[month].share if month >= 0 else {}
        base = self.fallback.position
        last = len(base)
        ranked = sorted(
            (s.contract for s in contracts),
            key=lambda k: (-share.get(k, 0.0), base.get(k, last), k),
        )
        position = {k: i for i, k in enumerate(ranked)}
        if position == self.position:
            return False
        self.position = position
        return True

    def order(
        self, offers: Sequence[ClusterOffer], team_use: Mapping[str, float], params: ChoiceParams
    ) -> list[int]:
        return by_position(offers, self.position)
