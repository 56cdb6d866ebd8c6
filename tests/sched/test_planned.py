"""The `plan` provider policy alone: contracts ranked by the plan's monthly share, on hand-built states."""

from __future__ import annotations

from gpufleet.sched.commitment import ContractState
from gpufleet.sched.planned import PlanMonth, following
from gpufleet.sched.policies import PROVIDERS
from gpufleet.sched.providers import ChoiceParams, ClusterOffer
from gpufleet.units import SECONDS_PER_DAY


def reserved(k: int, price: float) -> ContractState:
    return ContractState(k, price, True, True, False, 0.0, 0.0, 364)


# cluster i is held by contract i; contract 0 is the dearest
STATES = [reserved(0, 4.0), reserved(1, 3.0), reserved(2, 2.0)]
OFFERS = [ClusterOffer(i, "p", "committed", False, s.price_per_gpu_hour_usd, i) for i, s in enumerate(STATES)]
JANUARY, FEBRUARY = PlanMonth(0, 30, {2: 1.0, 0: 0.4}), PlanMonth(31, 58, {1: 0.9})


def _order(policy: object, day: int) -> list[int]:
    policy.refresh(day * SECONDS_PER_DAY, OFFERS, STATES)  # type: ignore[attr-defined]
    return policy.order(OFFERS, {}, ChoiceParams())  # type: ignore[attr-defined,no-any-return]


def test_the_contracts_the_plan_uses_most_go_first_and_the_ranking_follows_the_month() -> None:
    with following([JANUARY, FEBRUARY]):
        policy = PROVIDERS["plan"]()
    assert _order(policy, 3) == [2, 0, 1]  # January: full contract 2, then 0 (40%), then the unplanned
    # February: contract 1 alone is planned; the others keep commitment-first's order (dearer sunk first)
    assert _order(policy, 40) == [1, 0, 2]
    assert policy.refresh(41 * SECONDS_PER_DAY, OFFERS, STATES) is False  # same month: nothing to redo
    # after the plan's months: commitment-first's order
    assert _order(policy, 100) == [0, 1, 2]


def test_without_a_plan_it_ranks_as_commitment_first() -> None:
    plain, ref = PROVIDERS["plan"](), PROVIDERS["commitment-first"]()
    assert _order(plain, 3) == _order(ref, 3) == [0, 1, 2]
