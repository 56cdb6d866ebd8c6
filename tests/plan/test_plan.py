"""The plan on instances solved by hand: what to sign, take-or-pay, power, infeasibility, bad options."""

from __future__ import annotations

import numpy as np
import pytest

from gpufleet.aggregate.billing import monthly_bill
from gpufleet.aggregate.capacity import monthly_capacity
from gpufleet.aggregate.demand import Demand, DemandClass
from gpufleet.errors import InputError
from gpufleet.plan.model import Case, build_model
from gpufleet.plan.run import PlanInputs, make_plan, prepare, read
from gpufleet.plan.solve import PlanInfeasible, shadow_prices, solve
from gpufleet.scenario.load import LoadedScenario
from gpufleet.scenario.options import DEFAULT_UNMET_PENALTY as PENALTY
from tests.plan.tiny import HOURS, tiny

MW_PER_DOMAIN = 0.132  # azure/nd-gb200-v6: 132 kW IT per NVL72 rack, PUE 1.0 in `tiny`


def flat(ls: LoadedScenario, gpus: float) -> PlanInputs:
    """The tiny scenario with a research demand of `gpus` GPUs all year."""
    p = prepare(ls.scenario, ls.catalog, ls.source_map)
    research = DemandClass("research", "research", gpus * p.months.hours)
    return PlanInputs(
        p.scenario, p.catalog, p.months, p.options, (Case("base", 1.0, Demand((research,), ())),), 60.0, 1e-6
    )


def test_signs_the_smallest_option_that_covers_demand() -> None:
    # 1000 GPUs wanted, 720 held: 280 short -> ceil(280 / 72) = 4 domains at $3 beat the $30 penalty
    result = make_plan(flat(tiny(), 1000.0))
    assert [(s["option"], s["domains"], s["start"]) for s in result.signed] == [("more", 4, "2026-01")]
    hand = 720 * HOURS * 2.0 + 4 * 72 * HOURS * 3.0
    assert result.objective_pv_usd == pytest.approx(hand, rel=1e-9)
    assert result.unmet == {}
    assert result.option_value["more"] == pytest.approx(
        280 * HOURS * PENALTY - 4 * 72 * HOURS * 3.0, rel=1e-6
    )


def test_nothing_signed_when_the_fleet_is_enough() -> None:
    result = make_plan(flat(tiny(), 500.0), values=False)
    assert result.signed == []
    assert result.cost_pv_usd == pytest.approx(720 * HOURS * 2.0)  # reserved: paid used or not


def test_power_cap_binds_and_one_more_gw_is_worth_the_penalty_saved() -> None:
    # room for 3 domains (0.396 MW) but not 4 (0.528 MW): 64 GPUs go unserved all year
    p = flat(tiny(power_mw=0.45), 1000.0)
    result = make_plan(p)
    assert [s["domains"] for s in result.signed] == [3]
    hand = 720 * HOURS * 2.0 + 216 * HOURS * 3.0 + 64 * HOURS * PENALTY
    assert result.objective_pv_usd == pytest.approx(hand, rel=1e-9)
    assert result.unmet["research"] == pytest.approx(64 * HOURS)
    assert result.value_of_gw["bb-1"] == pytest.approx(64 * HOURS * PENALTY - 72 * HOURS * 3.0, rel=1e-6)
    # LP relaxation: one more MW is 1 / 0.132 domains = 545 GPUs, worth (penalty - 3) $/GPU-hour each
    assert result.power_shadow["bb-1"] > 0
    assert result.power_shadow["bb-1"] == pytest.approx(
        72 / MW_PER_DOMAIN * HOURS * (PENALTY - 3.0), rel=1e-6
    )


def test_plan_never_exceeds_capacity_or_power() -> None:
    p = flat(tiny(power_mw=0.45), 5000.0)
    result = make_plan(p, values=False)
    used = result.routing.groupby(["target", "month"])["gpu_hours"].sum()
    hours = dict(zip(p.months.labels, p.months.hours, strict=True))
    for (target, month), gh in used.items():
        gpus = 720 if target == "c-aa" else sum(s["gpus"] for s in result.signed)
        assert gh <= gpus * hours[month] * (1 + 1e-9)
    assert sum(s["domains"] for s in result.signed) * MW_PER_DOMAIN <= 0.45


def test_take_or_pay_minimum_is_paid_whether_used_or_not() -> None:
    ls = tiny(
        billing="{model: spend-commitment}",
        commitment="    commitment: {min_per_year_usd: 10000000.0}",
    )
    for gpus in (0.0, 100.0):
        p = flat(ls, gpus)
        result = make_plan(p, values=False)
        use_cost = gpus * HOURS * 2.0
        assert result.cost_pv_usd == pytest.approx(max(10_000_000.0, use_cost), rel=1e-9)
        # the plan's cash is the ledger's bill of the plan's allocation
        cap = monthly_capacity(p.scenario, p.catalog, p.months)
        used = result.routing[result.routing["target"] == "c-aa"].groupby("month")["gpu_hours"].sum()
        per_month = np.array([used.get(m, 0.0) for m in p.months.labels])
        bill = monthly_bill(p.scenario, p.catalog, cap, p.months, {"k-aa": per_month})
        assert bill["cost_due_usd"].sum() == pytest.approx(result.cost_pv_usd, rel=1e-9)


def test_take_or_pay_above_use_is_cheaper_to_fill_than_to_leave() -> None:
    # 300 GPUs of use cost 300 x 8760 x 2 = 5.26M < the 10M minimum: the plan moves no work elsewhere
    ls = tiny(
        billing="{model: spend-commitment}", commitment="    commitment: {min_per_year_usd: 10000000.0}"
    )
    result = make_plan(flat(ls, 300.0), values=False)
    assert result.signed == []
    assert result.cost_pv_usd == pytest.approx(10_000_000.0)


def test_budget_below_commitments_is_infeasible_and_named() -> None:
    ls = tiny(plan_extra="  yearly_budget_usd: {2026: 1000000.0}")
    p = flat(ls, 500.0)
    cap = monthly_capacity(p.scenario, p.catalog, p.months)
    mod = build_model(p.scenario, p.catalog, p.months, cap, p.demand, p.options)
    with pytest.raises(PlanInfeasible, match="budget of 2026") as info:
        solve(mod)
    assert info.value.exit_code == 2


def test_budget_that_binds_leaves_demand_unmet_not_infeasible() -> None:
    # budget = fleet + 2 domains: the plan signs 2, not 4
    cap_usd = 720 * HOURS * 2.0 + 2 * 72 * HOURS * 3.0 + 1.0
    p = flat(tiny(plan_extra=f"  yearly_budget_usd: {{2026: {cap_usd}}}"), 1000.0)
    cap = monthly_capacity(p.scenario, p.catalog, p.months)
    mod = build_model(p.scenario, p.catalog, p.months, cap, p.demand, p.options)
    result = read(mod, solve(mod, gap=1e-6), p)
    assert [s["domains"] for s in result.signed] == [2]
    assert result.cash_by_year[2026] <= cap_usd


def test_training_run_is_never_split_across_clusters() -> None:
    p = flat(tiny(), 0.0)
    run = DemandClass("run", "training", 600 * p.months.hours, gpus=600, accelerator="gb200")
    p2 = PlanInputs(
        p.scenario, p.catalog, p.months, p.options, (Case("base", 1.0, Demand((run,), ())),), 60.0, 1e-6
    )
    result = make_plan(p2, values=False)
    assert result.routing["target"].nunique() == 1
    assert result.unmet == {}


def test_bad_option_names_file_and_line() -> None:
    bad = "{name: more, provider: azure, site: nowhere, product: azure/nd-gb200-v6, max_domains: 2}"
    ls = tiny(option=bad)
    with pytest.raises(InputError, match=r"tiny\.yaml:\d+: plan\.options\[0\]\.site: unknown site") as info:
        prepare(ls.scenario, ls.catalog, ls.source_map)
    assert info.value.exit_code == 2


def test_option_sizes_out_of_order_are_refused_with_a_line() -> None:
    bad = (
        "{name: more, provider: azure, site: bb-1, product: azure/nd-gb200-v6, "
        "min_domains: 5, max_domains: 2}"
    )
    with pytest.raises(InputError, match=r"tiny\.yaml:\d+"):
        tiny(option=bad)


def test_capacity_shadow_price_matches_a_finite_difference() -> None:
    # power-bound: demand is unmet, so a GPU-hour more on c-aa saves the penalty (its bill is fixed)
    p = flat(tiny(power_mw=0.45), 1000.0)
    cap = monthly_capacity(p.scenario, p.catalog, p.months)
    mod = build_model(p.scenario, p.catalog, p.months, cap, p.demand, p.options)
    sol = solve(mod, gap=1e-9)
    fixed, _ = shadow_prices(mod, sol)
    row = next(k for k, r in enumerate(mod.rows) if r.kind == "capacity" and r.key == ("c-aa", 5))
    assert -fixed[row] == pytest.approx(PENALTY, rel=1e-9)
    delta = 100.0
    mod.rows[row].upper += delta
    after = solve(mod, gap=1e-9)
    assert (sol.objective - after.objective) / delta == pytest.approx(-fixed[row], rel=1e-6)
    result = read(mod, sol, p)
    june = result.capacity_shadow[result.capacity_shadow["quarter"] == "2026-Q2"]
    assert june["usd_per_gpu_month"].iloc[0] == pytest.approx(PENALTY * 30 * 24, rel=0.02)


def test_provider_share_cap_splits_use_evenly_between_two_providers() -> None:
    # at most half per provider: aws use = azure use; 7 domains (504 GPUs) let each carry 500
    result = make_plan(flat(tiny(plan_extra="  max_provider_share: 0.5"), 1000.0), values=False)
    assert [s["domains"] for s in result.signed] == [7]
    assert result.unmet == {}
    by_provider = result.routing.groupby("provider")["gpu_hours"].sum()
    assert by_provider["aws"] == pytest.approx(500 * HOURS) and by_provider["azure"] == pytest.approx(
        500 * HOURS
    )
    assert result.objective_pv_usd == pytest.approx(720 * HOURS * 2.0 + 7 * 72 * HOURS * 3.0, rel=1e-9)


def test_funding_cap_limits_what_is_signed() -> None:
    cap_usd = 720 * HOURS * 2.0 + 3 * 72 * HOURS * 3.0 + 1.0
    result = make_plan(flat(tiny(plan_extra=f"  max_cumulative_cash_usd: {cap_usd}"), 1000.0), values=False)
    assert [s["domains"] for s in result.signed] == [3]
    assert sum(result.cash_by_year.values()) <= cap_usd


def test_a_slipped_contract_serves_nothing_before_it_arrives() -> None:
    # 3 months late: January to March the demand goes to the option (signed from January) or unmet
    p = flat(tiny(commitment="    slip_months: 3"), 500.0)
    cap = monthly_capacity(p.scenario, p.catalog, p.months)
    assert cap.gpu_hours[0, :3].sum() == 0 and cap.gpu_hours[0, 3] == 720 * p.months.hours[3]
    result = make_plan(p, values=False)
    early = result.routing[result.routing["month"].isin(["2026-01", "2026-02", "2026-03"])]
    assert set(early["target"]) <= {"more"}
    # 7 domains for the year (the option's one start) cost less than 3 months of 500 GPUs unmet;
    # reserved bills only what is delivered: 9 months of the fleet
    assert [s["domains"] for s in result.signed] == [7]
    fleet = 720 * p.months.hours[3:].sum() * 2.0
    assert result.cost_pv_usd == pytest.approx(fleet + 7 * 72 * HOURS * 3.0, rel=1e-9)
