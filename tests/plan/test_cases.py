"""Two-stage plans over weighted demand cases, solved by hand."""

from __future__ import annotations

import pytest

from gpufleet.aggregate.demand import Demand, DemandClass
from gpufleet.plan.model import Case
from gpufleet.plan.run import PlanInputs, make_plan, prepare, with_cases
from gpufleet.scenario.options import DEFAULT_UNMET_PENALTY as PENALTY
from tests.plan.tiny import HOURS, tiny

FLEET = 720 * HOURS * 2.0  # the reserved fleet's bill, paid in every case
DOMAIN = 72 * HOURS * 3.0  # one domain of the option for the year


def two_cases(low_weight: float, high_weight: float) -> PlanInputs:
    ls = tiny()
    p = prepare(ls.scenario, ls.catalog, ls.source_map)

    def flat(gpus: float) -> Demand:
        return Demand((DemandClass("research", "research", gpus * p.months.hours),), ())

    p = with_cases(p, (Case("low", low_weight, flat(720.0)), Case("high", high_weight, flat(1000.0))))
    return PlanInputs(p.scenario, p.catalog, p.months, p.options, p.cases, 60.0, 1e-6)


def test_even_odds_sign_for_the_high_case_and_regret_of_planning_for_base() -> None:
    # a domain costs DOMAIN in both cases and saves 0.5 x its GPUs x penalty in expectation: sign 4
    result = make_plan(two_cases(1.0, 1.0), values=False)
    assert [s["domains"] for s in result.signed] == [4]
    assert result.objective_pv_usd == pytest.approx(FLEET + 4 * DOMAIN, rel=1e-9)
    assert result.cases["low"].cost_pv_usd == pytest.approx(FLEET + 4 * DOMAIN)
    assert result.cases["high"].unmet == {}
    # the base (low) case alone signs nothing: the high case then goes 280 GPUs short all year
    regret = 0.5 * 280 * HOURS * PENALTY - 4 * DOMAIN
    assert result.regret_of_base_plan == pytest.approx(regret, rel=1e-6)


def test_unlikely_high_case_is_not_worth_signing_for() -> None:
    # 5% odds: a domain saves 0.05 x 72 x 8760 x 30 = 0.95M in expectation, less than its 1.89M
    result = make_plan(two_cases(0.95, 0.05), values=False)
    assert result.signed == []
    expected = FLEET + 0.05 * 280 * HOURS * PENALTY
    assert result.objective_pv_usd == pytest.approx(expected, rel=1e-9)
    assert result.cases["high"].unmet["research"] == pytest.approx(280 * HOURS)
    assert result.unmet["research"] == pytest.approx(0.05 * 280 * HOURS)
    assert result.regret_of_base_plan == pytest.approx(0.0, abs=1e-3)
