"""The default scenario's plan: every training run placed, the MILP no worse than its LP bound allows."""

from __future__ import annotations

from gpufleet.plan.run import _model, make_plan, prepare
from gpufleet.plan.solve import solve
from gpufleet.scenario.load import load_builtin_scenario


def test_default_plan_runs_every_training_run_and_meets_its_lp_bound() -> None:
    ls = load_builtin_scenario()
    # the base case alone: the default's three revenue cases carry the same demand (its inference
    # follows users), and over three cases a 1% gap is wide enough to leave a run out of one of them
    p = prepare(ls.scenario, ls.catalog, ls.source_map, cases=False)
    result = make_plan(p, values=False)
    runs = [k.name for k in p.demand.classes if k.kind == "training"]
    assert runs and not set(runs) & set(result.unmet)  # each fits one of the contracted clusters
    mod = _model(p)
    mod.integer = [0] * len(mod.integer)
    bound = solve(mod).objective
    assert bound * (1 - 1e-12) <= result.objective_pv_usd <= bound * (1 + p.gap) + 1.0  # rounding apart
    assert 0 < result.cost_pv_usd < sum(result.cash_by_year.values())  # discounted at 8% a year
