"""The default scenario's plan: each training run whole on one target or left out whole, and the MILP
no worse than its LP bound allows."""

from __future__ import annotations

import pytest

from gpufleet.plan.run import _model, make_plan, prepare
from gpufleet.plan.solve import solve
from gpufleet.scenario.load import load_builtin_scenario


def test_default_plan_keeps_training_runs_whole_and_meets_its_lp_bound() -> None:
    ls = load_builtin_scenario()
    # the base case alone (the revenue cases are tests/plan/test_revenue_cases.py's)
    p = prepare(ls.scenario, ls.catalog, ls.source_map, cases=False)
    result = make_plan(p, values=False)
    runs = [k for k in p.demand.classes if k.kind == "training"]
    placed = 0
    for run in runs:
        rows = result.routing[result.routing["class"] == run.name]
        total = float(run.gpu_hours.sum())
        if run.name in result.unmet:  # left out whole (demand beyond the fleet: inference competes)
            assert rows.empty and result.unmet[run.name] == pytest.approx(total)
        else:
            assert rows["target"].nunique() == 1 and rows["gpu_hours"].sum() == pytest.approx(total)
            placed += 1
    assert placed > len(runs) / 2  # the fleet holds most of the roadmap
    mod = _model(p)
    mod.integer = [0] * len(mod.integer)
    bound = solve(mod).objective
    assert bound * (1 - 1e-12) <= result.objective_pv_usd <= bound * (1 + p.gap) + 1.0  # rounding apart
    assert 0 < result.cost_pv_usd < sum(result.cash_by_year.values())  # discounted at 8% a year
