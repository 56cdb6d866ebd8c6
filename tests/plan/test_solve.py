"""The solver: highspy agrees with an independent HiGHS path (scipy) and with hand optima; the scaled
model (GPU-months, $M, presolve on) equals the unscaled one; an infeasible model names its rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from gpufleet.aggregate.capacity import monthly_capacity
from gpufleet.plan.model import Model, build_model
from gpufleet.plan.run import PlanInputs
from gpufleet.plan.solve import PlanInfeasible, lp_duals, solve
from gpufleet.scenario.load import LoadedScenario
from tests.plan.test_plan import flat
from tests.plan.tiny import HOURS, tiny

SPEND = "{model: spend-commitment}"
MINIMUM = "    commitment: {min_per_year_usd: 10000000.0}"
SPEND_OPTION = (
    "{name: more, provider: azure, site: bb-1, product: azure/nd-gb200-v6, price_per_gpu_hour_usd: 3.0, "
    "billing: spend-commitment, max_domains: 20, term_months: 12, start_every_months: 6}"
)


def _model(p: PlanInputs) -> Model:
    cap = monthly_capacity(p.scenario, p.catalog, p.months)
    return build_model(p.scenario, p.catalog, p.months, cap, p.demand, p.options)


def _scipy_objective(mod: Model) -> float:
    """The same MILP through scipy.optimize.milp, unscaled and without presolve: an independent path."""
    r, c, v = [], [], []
    for i, row in enumerate(mod.rows):
        r += [i] * len(row.cols)
        c += row.cols
        v += row.vals
    A = coo_matrix((v, (r, c)), shape=(len(mod.rows), len(mod.cost))).tocsr()
    ub = np.array([row.upper for row in mod.rows])
    lb = np.array([row.upper if row.equality else -np.inf for row in mod.rows])
    res = milp(
        c=np.array(mod.cost),
        constraints=[LinearConstraint(A, lb, ub)],
        integrality=np.array(mod.integer),
        bounds=Bounds(np.array(mod.lower), np.array(mod.upper)),
        options={"mip_rel_gap": 1e-9, "presolve": False},
    )
    assert res.status == 0
    return float(res.fun) + mod.constant


CASES: list[tuple[str, LoadedScenario, float, float | None]] = [
    # (what, scenario, GPUs of research, the optimum by hand when simple)
    ("fleet enough", tiny(), 500.0, 720 * HOURS * 2.0),
    ("sign 4 domains", tiny(), 1000.0, 720 * HOURS * 2.0 + 4 * 72 * HOURS * 3.0),
    ("take-or-pay unused", tiny(billing=SPEND, commitment=MINIMUM), 0.0, 10_000_000.0),
    ("power-bound", tiny(power_mw=0.45), 5000.0, None),
    ("spend-commitment option", tiny(option=SPEND_OPTION), 1100.0, None),
]


@pytest.mark.parametrize("what, ls, gpus, hand", CASES, ids=[c[0] for c in CASES])
def test_highspy_scaled_equals_unscaled_scipy_and_the_hand_optimum(
    what: str, ls: LoadedScenario, gpus: float, hand: float | None
) -> None:
    mod = _model(flat(ls, gpus))
    scaled = solve(mod, gap=1e-9)
    unscaled = solve(mod, gap=1e-9, scale=False, presolve=False)
    assert scaled.status == unscaled.status == "optimal"
    assert scaled.objective == pytest.approx(unscaled.objective, rel=1e-9)
    assert scaled.objective == pytest.approx(_scipy_objective(mod), rel=1e-9)
    if hand is not None:
        assert scaled.objective == pytest.approx(hand, rel=1e-9)
    # the solution is feasible in the model's own units: every row holds
    for row in mod.rows:
        lhs = float(np.dot(row.vals, scaled.x[row.cols])) if row.cols else 0.0
        tol = 1e-6 * max(1.0, abs(row.upper), float(np.abs(row.vals).max(initial=0.0)))
        assert (abs(lhs - row.upper) <= tol) if row.equality else lhs <= row.upper + tol, row.name


def test_scaled_duals_equal_unscaled_duals() -> None:
    mod = _model(flat(tiny(power_mw=0.45), 1000.0))
    lo, hi = np.array(mod.lower), np.array(mod.upper)
    a, b = lp_duals(mod, lo, hi, scale=True), lp_duals(mod, lo, hi, scale=False)
    assert np.abs(a).max() > 0  # something binds
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * np.abs(b).max())


def test_a_funding_cap_below_the_fleet_already_signed_is_infeasible_and_named() -> None:
    # the reserved fleet alone bills 720 x 8760 x $2 = $12.6M: a $5M cap cannot hold
    ls = tiny(plan_extra="  max_cumulative_cash_usd: 5000000.0")
    mod = _model(flat(ls, 100.0))
    with pytest.raises(PlanInfeasible, match="cumulative cash cap") as info:
        solve(mod)
    assert info.value.exit_code == 2 and "short by" in str(info.value)


def test_a_start_solution_bounds_a_loose_solve() -> None:
    # six-month terms starting any month: with a 99% gap HiGHS stops at a worse plan, unless started
    # from the optimum, which it then never returns worse than
    option = (
        "{name: more, provider: azure, site: bb-1, product: azure/nd-gb200-v6, price_per_gpu_hour_usd: 3.0, "
        "max_domains: 20, term_months: 6, start_every_months: 1}"
    )
    mod = _model(flat(tiny(option=option), 1000.0))
    best = solve(mod, gap=1e-9)
    assert solve(mod, gap=0.99, presolve=False).objective > best.objective * (1 + 1e-6)
    start = dict(zip(mod.label, (float(v) for v in best.x), strict=True))
    for presolve in (True, False):
        assert solve(mod, gap=0.99, presolve=presolve, start=start).objective <= best.objective * (1 + 1e-9)
