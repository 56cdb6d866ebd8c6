"""Solving the plan with HiGHS (highspy): the MILP scaled, its shadow prices, an infeasible model explained.

Scaling: the model is built in GPU-hours and dollars (coefficients from 1 to 1e9 GPU-hours, a
training run's penalty near 1e11 $). On that range HiGHS's MIP presolve once returned, as optimal, a
plan 18% worse than a feasible one. The solver therefore sees flows in GPU-months (730 GPU-hours),
shortfalls and the objective in $M, and every row divided by its largest coefficient; integer
columns keep their units. Presolve stays on; the solution, objective and duals are mapped back to
the model's units (tests/plan/test_solve.py checks scaled = unscaled on the small instances).

Shadow prices come from LPs: capacity per cluster and month with the MILP's integer decisions fixed;
power per site and month from the LP relaxation (with sizes fixed, power rows hold no free variable).
An infeasible model is re-solved with a priced slack on every inequality; the rows whose slack is
used are the constraints that conflict, and the error names them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix, csc_matrix, csr_matrix, diags

from gpufleet.errors import InputError
from gpufleet.plan.model import Model

Floats = npt.NDArray[np.float64]

DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_MIP_GAP = 0.01
GPU_HOURS_PER_UNIT = 730.0  # the solver's flow unit: a GPU-month
USD_PER_UNIT = 1e6  # the solver's money unit: $M
_FLOW_KINDS = ("x", "u", "q")  # columns in GPU-hours
_MONEY_KINDS = ("s",)  # columns in dollars


@dataclass(frozen=True)
class Solution:
    x: Floats
    objective: float  # includes the model's constant
    gap: float | None
    status: str


@dataclass(frozen=True)
class _Run:
    """What one HiGHS run returned, in the model's units."""

    status: str  # optimal | time limit | infeasible | unbounded | other
    x: Floats | None
    objective: float
    gap: float | None
    row_dual: Floats | None
    message: str


@dataclass(frozen=True)
class _Arrays:
    """The MILP as HiGHS takes it: min cost.x, lower <= x <= upper, row_lower <= A x <= row_upper."""

    cost: Floats
    lower: Floats
    upper: Floats
    A: csr_matrix
    row_lower: Floats
    row_upper: Floats
    integer: npt.NDArray[np.int64]  # 1 where the column is integer
    col_scale: Floats  # model units per solver unit, per column (column_scale)


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


def column_scale(mod: Model) -> Floats:
    """Model units per solver unit, per column: GPU-hours per GPU-month, dollars per $M, else 1."""
    out = np.ones(len(mod.cost))
    for j, lab in enumerate(mod.label):
        if mod.integer[j]:
            continue
        if lab[0] in _FLOW_KINDS:
            out[j] = GPU_HOURS_PER_UNIT
        elif lab[0] in _MONEY_KINDS:
            out[j] = USD_PER_UNIT
    return out


_BANNER_SHOWN: list[bool] = []


def _new_highs() -> highspy.Highs:
    """A HiGHS instance; the first of a process prints a banner on file descriptor 1 before any option
    can silence it, so that one is made with stdout pointed at /dev/null (`plan --json` stays JSON)."""
    if _BANNER_SHOWN:
        return highspy.Highs()  # type: ignore[no-untyped-call]
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN.append(True)
    return h


def _highs(p: _Arrays, time_limit_s: float, gap: float, presolve: bool) -> highspy.Highs:
    h = _new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("presolve", "on" if presolve else "off")
    h.setOptionValue("threads", 1)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = len(p.cost)
    lp.num_row_ = p.A.shape[0]
    lp.col_cost_ = p.cost
    lp.col_lower_ = p.lower
    lp.col_upper_ = np.where(np.isinf(p.upper), inf, p.upper)
    lp.row_lower_ = np.where(np.isinf(p.row_lower), -inf, p.row_lower)
    lp.row_upper_ = p.row_upper
    csc = csc_matrix(p.A)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr
    lp.a_matrix_.index_ = csc.indices
    lp.a_matrix_.value_ = csc.data
    if p.integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in p.integer
        ]
    h.passModel(lp)
    return h


def _solve_arrays(
    p: _Arrays, time_limit_s: float, gap: float, scale: bool, presolve: bool, start: Floats | None = None
) -> _Run:
    """One HiGHS run; with `scale`, the columns by `col_scale`, rows by their largest coefficient and
    the objective in $M, and everything read back in the model's units. `start`: a known solution
    (model units) HiGHS may start from; an infeasible one is ignored."""
    A, integer = p.A, p.integer
    s = p.col_scale if scale else np.ones(len(p.cost))
    As = A @ diags(s) if A.shape[0] else A
    if scale and A.shape[0]:
        r = np.asarray(abs(As).max(axis=1).todense()).ravel()
        r = np.where(r > 0, r, 1.0)
    else:
        r = np.ones(A.shape[0])
    obj = 1.0 / USD_PER_UNIT if scale else 1.0
    scaled = _Arrays(
        p.cost * s * obj,
        p.lower / s,
        p.upper / s,
        diags(1.0 / r) @ As if A.shape[0] else As,
        p.row_lower / r,
        p.row_upper / r,
        integer,
        np.ones(len(p.cost)),
    )
    h = _highs(scaled, time_limit_s, gap, presolve)
    if start is not None and integer.any():
        given = highspy.HighsSolution()
        given.col_value = start / s
        given.value_valid = True
        h.setSolution(given)
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    st = highspy.HighsModelStatus
    status = {
        st.kOptimal: "optimal",
        st.kTimeLimit: "time limit",
        st.kInfeasible: "infeasible",
        st.kUnbounded: "unbounded",
        st.kUnboundedOrInfeasible: "infeasible",
    }.get(ms, "other")
    has_x = info.primal_solution_status == 2  # feasible
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=np.float64) * s if has_x else None
    dual = None
    if sol.dual_valid and A.shape[0]:
        dual = np.asarray(sol.row_dual, dtype=np.float64) / r / obj
    mip_gap = float(info.mip_gap) if integer.any() and has_x else None
    return _Run(
        status,
        x,
        float(info.objective_function_value) / obj,
        mip_gap,
        dual,
        h.modelStatusToString(ms),
    )


def _arrays(mod: Model, lower: Floats, upper: Floats, integer: bool) -> _Arrays:
    """The model's arrays with these column bounds; `integer` False: its LP relaxation."""
    return _Arrays(
        np.array(mod.cost, dtype=np.float64),
        lower,
        upper,
        _matrix(mod, list(range(len(mod.rows)))),
        np.array([r.upper if r.equality else -np.inf for r in mod.rows], dtype=np.float64),
        np.array([r.upper for r in mod.rows], dtype=np.float64),
        np.array(mod.integer, dtype=np.int64) if integer else np.zeros(len(mod.cost), np.int64),
        column_scale(mod),
    )


def _run(
    mod: Model,
    lower: Floats,
    upper: Floats,
    integer: bool,
    time_limit_s: float,
    gap: float,
    scale: bool = True,
    presolve: bool = True,
    start: Floats | None = None,
) -> _Run:
    return _solve_arrays(_arrays(mod, lower, upper, integer), time_limit_s, gap, scale, presolve, start)


def solve(
    mod: Model,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    gap: float = DEFAULT_MIP_GAP,
    scale: bool = True,
    presolve: bool = True,
    start: dict[tuple[str, ...], float] | None = None,
) -> Solution:
    """The MILP to `gap` within `time_limit_s`; an infeasible one raises PlanInfeasible naming why.
    `start`: column values by label (another model's solution; absent labels start at 0): a what-if
    re-solve that starts from the plan it changes is never worse than that plan when it stays feasible,
    so its value is not MIP-gap noise of the re-solve."""
    if not mod.cost:  # nothing to decide: only rows without columns, met or not
        broken = [r.name for r in mod.rows if r.upper < 0 or (r.equality and r.upper != 0)]
        if broken:
            raise PlanInfeasible(
                "no plan meets these constraints together: " + "; ".join(broken), where="plan"
            )
        return Solution(np.zeros(0), mod.constant, 0.0, "optimal")
    lo = np.array(mod.lower, dtype=np.float64)
    hi = np.array(mod.upper, dtype=np.float64)
    x0 = None if start is None else np.array([start.get(lab, 0.0) for lab in mod.label], dtype=np.float64)
    res = _run(mod, lo, hi, True, time_limit_s, gap, scale, presolve, x0)
    if res.status == "infeasible":
        raise PlanInfeasible(explain_infeasible(mod, time_limit_s), where="plan")
    if res.status == "unbounded":
        raise PlanInfeasible(
            "the plan is unbounded: some cost falls without limit (a negative price?)", where="plan"
        )
    if res.x is None:
        raise PlanInfeasible(f"HiGHS found no plan within {time_limit_s:g} s ({res.message})", where="plan")
    status = "optimal" if res.status == "optimal" else "time limit (best plan found)"
    return Solution(res.x, res.objective + mod.constant, res.gap, status)


def explain_infeasible(mod: Model, time_limit_s: float) -> str:
    """Every inequality gets a slack priced far above any cost; the rows that need one are named."""
    big = 1e3 * (1.0 + float(np.abs(mod.cost).max(initial=1.0)))
    ineq = [k for k, r in enumerate(mod.rows) if not r.equality]
    n = len(mod.cost)
    p = _arrays(mod, np.array(mod.lower, dtype=np.float64), np.array(mod.upper, dtype=np.float64), True)
    A = p.A.tolil()
    A.resize((len(mod.rows), n + len(ineq)))
    for s, k in enumerate(ineq):
        A[k, n + s] = -1.0
    scale = np.array([max(1.0, abs(mod.rows[k].upper)) for k in ineq])
    slacked = _Arrays(
        np.concatenate([p.cost, big / scale]),
        np.concatenate([p.lower, np.zeros(len(ineq))]),
        np.concatenate([p.upper, np.full(len(ineq), np.inf)]),
        A.tocsr(),
        p.row_lower,
        p.row_upper,
        np.concatenate([p.integer, np.zeros(len(ineq), np.int64)]),
        np.concatenate([p.col_scale, scale]),
    )
    res = _solve_arrays(slacked, time_limit_s, DEFAULT_MIP_GAP, True, True)
    if res.x is None:
        return "no plan meets the constraints (HiGHS could not say which conflict)"
    used = [(ineq[s], float(res.x[n + s])) for s in range(len(ineq)) if res.x[n + s] > 1e-6 * scale[s]]
    names = [f"{mod.rows[k].name} (short by {v:,.4g})" for k, v in used[:8]]
    more = f"; and {len(used) - 8} more" if len(used) > 8 else ""
    return "no plan meets these constraints together: " + "; ".join(names) + more


def lp_duals(mod: Model, lower: Floats, upper: Floats, scale: bool = True) -> Floats:
    """Per row: d objective / d upper (<= 0 for a binding capacity), from the LP with these bounds."""
    if not mod.cost:
        return np.zeros(len(mod.rows))
    res = _run(mod, lower, upper, False, DEFAULT_TIME_LIMIT_S, DEFAULT_MIP_GAP, scale)
    if res.status != "optimal" or res.row_dual is None:
        return np.zeros(len(mod.rows))
    return res.row_dual


def shadow_prices(mod: Model, sol: Solution) -> tuple[Floats, Floats]:
    """(duals with the MILP's integer decisions fixed, duals of the LP relaxation), per row."""
    ints = np.array(mod.integer, dtype=bool)
    lo = np.where(ints, np.round(sol.x), np.array(mod.lower))
    hi = np.where(ints, np.round(sol.x), np.array(mod.upper))
    return lp_duals(mod, lo, hi), lp_duals(mod, np.array(mod.lower), np.array(mod.upper))
