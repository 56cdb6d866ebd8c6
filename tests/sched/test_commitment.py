"""Commitment-first ranking as a pure function on hand-built contract states (no engine run)."""

from __future__ import annotations

import math

from gpufleet.sched.commitment import CommitmentFirst, ContractState, need, rank_contracts
from gpufleet.sched.providers import ChoiceParams, ClusterOffer


def state(
    k: int,
    price: float,
    left: float = 0.0,
    cap: float = 1.0,
    end: int = 365,
    committed: bool = True,
    reserved: bool = False,
    take_or_pay: bool = True,
) -> ContractState:
    return ContractState(k, price, committed, reserved, take_or_pay, left, cap, end)


def test_need_is_commitment_left_over_priced_capacity_left() -> None:
    assert need(state(0, 3.0, left=50.0, cap=200.0)) == 0.25
    assert need(state(0, 3.0, left=300.0, cap=200.0)) == 1.5  # missed even at full use
    assert need(state(0, 3.0, left=0.0, cap=200.0)) == 0.0  # minimum met
    assert need(state(0, 3.0, left=10.0, cap=0.0)) == math.inf  # money left, no capacity
    assert need(state(0, 3.0, reserved=True)) == 1.0  # capacity paid for: every hour counts


def test_the_contract_furthest_behind_first_whatever_its_price() -> None:
    cheap_on_track = state(0, 2.0, left=10.0, cap=100.0)  # needs 10% of its capacity
    dear_behind = state(1, 5.0, left=90.0, cap=100.0)  # needs 90%
    assert rank_contracts([cheap_on_track, dear_behind], today=0) == [1, 0]


def test_ties_on_need_go_to_the_money_expiring_soonest_then_the_dearer_sunk_hour() -> None:
    late = state(0, 3.0, left=50.0, cap=100.0, end=300)
    soon = state(1, 4.0, left=50.0, cap=100.0, end=100)
    soon_dear = state(2, 4.5, left=50.0, cap=100.0, end=100)
    assert rank_contracts([late, soon, soon_dear], today=10) == [2, 1, 0]


def test_tiers_sunk_then_other_committed_then_non_committed() -> None:
    on_demand = state(0, 1.0, committed=False)
    met = state(1, 2.0, left=0.0)  # take-or-pay whose minimum is met: costs its price at the margin
    no_top = state(2, 1.5, left=80.0, cap=100.0, take_or_pay=False)  # no take-or-pay: costs its price
    reserved = state(3, 6.0, reserved=True)
    behind = state(4, 3.0, left=150.0, cap=100.0)  # need 1.5 > a reserved contract's 1
    ahead = state(5, 3.0, left=20.0, cap=100.0)  # need 0.2 < 1
    order = rank_contracts([on_demand, met, no_top, reserved, behind, ahead], today=0)
    assert order == [4, 3, 5, 2, 1, 0]


def test_the_policy_orders_offers_by_the_ranking_and_says_when_it_changed() -> None:
    offers = [
        ClusterOffer(0, "a", "committed", True, 2.0, contract=0),
        ClusterOffer(1, "b", "committed", True, 4.0, contract=1),
        ClusterOffer(2, "c", "capacity-block", False, 1.0, contract=2),
    ]
    pol = CommitmentFirst()
    states = [
        state(0, 2.0, left=10.0, cap=100.0),
        state(1, 4.0, left=90.0, cap=100.0),
        state(2, 1.0, committed=False),
    ]
    assert pol.refresh(0.0, offers, states) is True
    assert pol.order(offers, {}, ChoiceParams()) == [1, 0, 2]
    assert pol.refresh(86400.0, offers, states) is False  # same ranking: the engine keeps its cache
    states[0] = state(0, 2.0, left=99.0, cap=100.0)
    assert pol.refresh(2 * 86400.0, offers, states) is True
    assert pol.order(offers, {}, ChoiceParams()) == [0, 1, 2]
