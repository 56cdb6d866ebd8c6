"""The `plan` provider policy alone: contracts ranked by the plan's monthly share, on hand-built states;
and the plan reaching it as data, through the engine's input (PolicySpec.plan)."""

from __future__ import annotations

from gpufleet.sched.commitment import CommitmentFirst, ContractState
from gpufleet.sched.planned import PlanFollowing, PlanMonth
from gpufleet.sched.policies import PROVIDERS, resolve
from gpufleet.sched.providers import ChoiceParams, ClusterOffer, by_position
from gpufleet.units import SECONDS_PER_DAY


def reserved(k: int, price: float) -> ContractState:
    return ContractState(k, price, True, True, False, 0.0, 0.0, 364)


# cluster i is held by contract i; contract 0 is the dearest
STATES = [reserved(0, 4.0), reserved(1, 3.0), reserved(2, 2.0)]
OFFERS = [ClusterOffer(i, "p", "committed", False, s.price_per_gpu_hour_usd, i) for i, s in enumerate(STATES)]
JANUARY, FEBRUARY = PlanMonth(0, 30, {2: 1.0, 0: 0.4}), PlanMonth(31, 58, {1: 0.9})


def _order(policy: PlanFollowing | CommitmentFirst, day: int) -> list[int]:
    policy.refresh(day * SECONDS_PER_DAY, OFFERS, STATES)
    return policy.order(OFFERS, {}, ChoiceParams())


def test_the_contracts_the_plan_uses_most_go_first_and_the_ranking_follows_the_month() -> None:
    policy = PlanFollowing((JANUARY, FEBRUARY))
    assert _order(policy, 3) == [2, 0, 1]  # January: full contract 2, then 0 (40%), then the unplanned
    # February: contract 1 alone is planned; the others keep commitment-first's order (dearer sunk first)
    assert _order(policy, 40) == [1, 0, 2]
    assert policy.refresh(41 * SECONDS_PER_DAY, OFFERS, STATES) is False  # same month: nothing to redo
    # after the plan's months: commitment-first's order
    assert _order(policy, 100) == [0, 1, 2]


def test_without_a_plan_it_ranks_as_commitment_first() -> None:
    assert _order(PlanFollowing(), 3) == _order(CommitmentFirst(), 3) == [0, 1, 2]


def test_the_registry_hands_the_run_s_plan_to_the_policy_and_only_to_it() -> None:
    p = resolve("fair-share", (0, 1, 2, 3), "easy", "best-fit", "plan", plan=(JANUARY, FEBRUARY))
    assert isinstance(p.providers, PlanFollowing) and p.providers.months == (JANUARY, FEBRUARY)
    assert _order(p.providers, 3) == [2, 0, 1]
    # two runs, two policies: the ranking is state of one run
    assert PROVIDERS["plan"]((JANUARY,)) is not PROVIDERS["plan"]((JANUARY,))
    assert isinstance(PROVIDERS["commitment-first"]((JANUARY,)), CommitmentFirst)  # the others ignore it


def test_ranked_contracts_order_offers_by_place_then_price() -> None:
    extra = [ClusterOffer(3, "p", "committed", False, 1.0, 1), ClusterOffer(4, "q", "on-demand", False, 9.0)]
    offers = [*OFFERS, *extra]
    # contract 1 first (its cheaper cluster 3 before cluster 1), then 0; contract 2 and the offer of no
    # contract (-1) are not ranked: last, cheaper first
    assert by_position(offers, {1: 0, 0: 1}) == [3, 1, 0, 2, 4]


# Two clusters, each held by its own contract with no commitment: commitment-first sends work to the
# cheaper (k1); a plan that uses only k0 in January sends it there, through the engine's input.
SCENARIO = """
name: plan-following
horizon: {start: 2026-01-01, end: 2026-02-28, step: 1d}
providers: [aws]
sites: [{name: east, provider: aws, region: us-east-1, geo: us, power_mw: 5}]
clusters:
  - {name: c0, site: east, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 1}
  - {name: c1, site: east, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 1}
contracts:
  - {name: k0, provider: aws, clusters: [c0], price_per_gpu_hour_usd: 3.0,
     term: {start: 2026-01-01, end: 2026-12-31}}
  - {name: k1, provider: aws, clusters: [c1], price_per_gpu_hour_usd: 2.0,
     term: {start: 2026-01-01, end: 2026-12-31}}
teams: [{name: a, quota_share: 1.0}]
workloads:
  - training_run: {name: r, team: a, params: 1.0e9, tokens: 1.0e12, accelerator: gb200, mfu: 0.5, gpus: 72}
policies:
  provider_choice: {name: plan}
  failures: {enabled: false}
"""


def test_a_run_follows_the_plan_it_is_given_as_input() -> None:
    from gpufleet.assemble import prepare, simulate
    from gpufleet.scenario.load import load_scenario_text

    loaded = load_scenario_text(SCENARIO, "<plan>")
    s, c = loaded.scenario, loaded.catalog
    january = PlanMonth(0, 30, {0: 1.0})
    assert prepare(s, c, 1, {}, plan_months=[january])[0].policy.plan == (january,)
    assert simulate(s, c, 1, {}, plan_months=[january]).jobs["contract"].tolist() == ["k0"]
    assert simulate(s, c, 1, {}).jobs["contract"].tolist() == ["k1"]  # no plan: commitment-first, cheaper
