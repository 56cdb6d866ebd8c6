"""Solving the plan with HiGHS (through scipy): the MILP, its shadow prices and an infeasible model explained.

Shadow prices come from LPs: capacity per cluster and month with the MILP's integer decisions fixed;
power per site and month from the LP relaxation (with sizes fixed, power rows hold no free variable).
An infeasible model is re-solved with a priced slack on every inequality; the rows whose slack is
used are the constraints that conflict, and the error names them.

HiGHS's MIP presolve is off: on the default scenario (coefficients from 1 to 1e9 GPU-hours, a
training run's penalty near 1e11 $) it returned a plan 18% worse than a feasible one while calling
it optimal (tests/plan/test_default.py keeps the case). Without presolve the solve is also faster here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix, csr_matrix

from gpufleet.errors import InputError
from gpufleet.plan.model import Model

Floats = npt.NDArray[np.float64]

DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_MIP_GAP = 0.01


@dataclass(frozen=True)
class Solution:
    x: Floats
    objective: float  # includes the model's constant
    gap: float | None
    status: str


class PlanInfeasible(InputError):
    """The scenario asks for something no plan can meet (exit 2, naming the constraints)."""


def _matrix(mod: Model, rows: list[int]) -> csr_matrix:
    r, c, v = [], [], []
    for i, k in enumerate(rows):
        row = mod.rows[k]
        r.extend([i] * len(row.cols))
        c.extend(row.cols)
        v.extend(row.vals)
    return coo_matrix((v, (r, c)), shape=(len(rows), len(mod.cost))).tocsr()


def solve(mod: Model, time_limit_s: float = DEFAULT_TIME_LIMIT_S, gap: float = DEFAULT_MIP_GAP) -> Solution:
    """The MILP to `gap` within `time_limit_s`; an infeasible one raises PlanInfeasible naming why."""
    n_rows = len(mod.rows)
    if not mod.cost:  # nothing to decide: only rows without columns, met or not
        broken = [r.name for r in mod.rows if r.upper < 0 or (r.equality and r.upper != 0)]
        if broken:
            raise PlanInfeasible(
                "no plan meets these constraints together: " + "; ".join(broken), where="plan"
            )
        return Solution(np.zeros(0), mod.constant, 0.0, "optimal")
    A = _matrix(mod, list(range(n_rows)))
    ub = np.array([r.upper for r in mod.rows])
    lb = np.array([r.upper if r.equality else -np.inf for r in mod.rows])
    res = milp(
        c=np.array(mod.cost),
        constraints=[LinearConstraint(A, lb, ub)] if n_rows else [],
        integrality=np.array(mod.integer),
        bounds=Bounds(np.array(mod.lower), np.array(mod.upper)),
        options={"time_limit": time_limit_s, "mip_rel_gap": gap, "disp": False, "presolve": False},
    )
    if res.status == 2:
        raise PlanInfeasible(explain_infeasible(mod, time_limit_s), where="plan")
    if res.status == 3:
        raise PlanInfeasible(
            "the plan is unbounded: some cost falls without limit (a negative price?)", where="plan"
        )
    if res.x is None:
        raise PlanInfeasible(f"HiGHS found no plan within {time_limit_s:g} s ({res.message})", where="plan")
    gap_found = getattr(res, "mip_gap", None)
    status = "optimal" if res.status == 0 else "time limit (best plan found)"
    return Solution(np.asarray(res.x), float(res.fun) + mod.constant, gap_found, status)


def explain_infeasible(mod: Model, time_limit_s: float) -> str:
    """Every inequality gets a slack priced far above any cost; the rows that need one are named."""
    big = 1e3 * (1.0 + float(np.abs(mod.cost).max(initial=1.0)))
    ineq = [k for k, r in enumerate(mod.rows) if not r.equality]
    n = len(mod.cost)
    A = _matrix(mod, list(range(len(mod.rows)))).tolil()
    A.resize((len(mod.rows), n + len(ineq)))
    for s, k in enumerate(ineq):
        A[k, n + s] = -1.0
    scale = np.array([max(1.0, abs(mod.rows[k].upper)) for k in ineq])
    c = np.concatenate([np.array(mod.cost), big / scale])
    ub = np.array([r.upper for r in mod.rows])
    lb = np.array([r.upper if r.equality else -np.inf for r in mod.rows])
    res = milp(
        c=c,
        constraints=[LinearConstraint(A.tocsr(), lb, ub)],
        integrality=np.concatenate([np.array(mod.integer), np.zeros(len(ineq))]),
        bounds=Bounds(
            np.concatenate([mod.lower, np.zeros(len(ineq))]),
            np.concatenate([mod.upper, np.full(len(ineq), np.inf)]),
        ),
        options={"time_limit": time_limit_s, "disp": False, "presolve": False},
    )
    if res.x is None:
        return "no plan meets the constraints (HiGHS could not say which conflict)"
    used = [(ineq[s], float(res.x[n + s])) for s in range(len(ineq)) if res.x[n + s] > 1e-6 * scale[s]]
    names = [f"{mod.rows[k].name} (short by {v:,.4g})" for k, v in used[:8]]
    more = f"; and {len(used) - 8} more" if len(used) > 8 else ""
    return "no plan meets these constraints together: " + "; ".join(names) + more


def _lp_duals(mod: Model, lower: Floats, upper: Floats) -> Floats:
    """Per row: d objective / d upper (<= 0 for a binding capacity), from HiGHS's LP marginals."""
    ineq = [k for k, r in enumerate(mod.rows) if not r.equality]
    eq = [k for k, r in enumerate(mod.rows) if r.equality]
    return _duals_of(mod, lower, upper, ineq, eq)


def _lp(mod: Model, lower: Floats, upper: Floats, ineq: list[int], eq: list[int]) -> Any:
    return linprog(
        c=np.array(mod.cost),
        A_ub=_matrix(mod, ineq) if ineq else None,
        b_ub=np.array([mod.rows[k].upper for k in ineq]) if ineq else None,
        A_eq=_matrix(mod, eq) if eq else None,
        b_eq=np.array([mod.rows[k].upper for k in eq]) if eq else None,
        bounds=list(zip(lower, upper, strict=True)),
        method="highs",
    )


def _duals_of(mod: Model, lower: Floats, upper: Floats, ineq: list[int], eq: list[int]) -> Floats:
    out = np.zeros(len(mod.rows))
    if not mod.cost:
        return out
    res = _lp(mod, lower, upper, ineq, eq)
    if res.status != 0:
        return out
    if ineq:
        out[ineq] = res.ineqlin.marginals
    if eq:
        out[eq] = res.eqlin.marginals
    return out


def shadow_prices(mod: Model, sol: Solution) -> tuple[Floats, Floats]:
    """(duals with the MILP's integer decisions fixed, duals of the LP relaxation), per row."""
    ints = np.array(mod.integer, dtype=bool)
    lo = np.where(ints, np.round(sol.x), np.array(mod.lower))
    hi = np.where(ints, np.round(sol.x), np.array(mod.upper))
    return _lp_duals(mod, lo, hi), _lp_duals(mod, np.array(mod.lower), np.array(mod.upper))
