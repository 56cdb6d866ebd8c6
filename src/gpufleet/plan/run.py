"""A plan for a scenario: the model built, solved and read back (what to sign, routing, prices, values)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gpufleet.aggregate.capacity import MonthlyCapacity, monthly_capacity
from gpufleet.aggregate.demand import Demand, monthly_demand
from gpufleet.aggregate.months import Months, horizon_months
from gpufleet.catalog import Catalog
from gpufleet.plan.inputs import ResolvedOption, resolve_options
from gpufleet.plan.model import Case, Model, build_model
from gpufleet.plan.solve import DEFAULT_MIP_GAP, DEFAULT_TIME_LIMIT_S, Solution, shadow_prices, solve
from gpufleet.scenario.schema import Scenario
from gpufleet.scenario.source import SourceMap

GW_MW = 1000.0
# contract: the contract holding the target that month (an option's own name), "" when none
ROUTING_COLUMNS = ["case", "class", "target", "provider", "contract", "month", "quarter", "gpu_hours",
                   "target_gpu_hours"]  # fmt: skip


@dataclass
class CaseResult:
    """One demand case under the plan's signed options."""

    weight: float
    cost_pv_usd: float
    objective_pv_usd: float  # cost + unmet penalty
    unmet: dict[str, float]  # class -> reference GPU-hours not served


@dataclass
class PlanResult:
    objective_pv_usd: float  # expected cash PV + unmet penalty PV
    cost_pv_usd: float  # expected PV of cash out
    status: str
    signed: list[dict[str, Any]]  # option, start, domains, gpus, billing
    routing: pd.DataFrame  # ROUTING_COLUMNS: gpu_hours at the reference, target_gpu_hours on the target
    unmet: dict[str, float]  # class -> expected reference GPU-hours not served
    cash_by_year: dict[int, float]  # expected
    capacity_shadow: pd.DataFrame  # cluster, quarter, usd_per_gpu_month (expected over cases)
    power_shadow: dict[str, float]  # site -> $ per MW held over every month of the horizon (LP relaxation)
    cases: dict[str, CaseResult] = field(default_factory=dict)
    value_of_gw: dict[str, float] = field(default_factory=dict)  # site -> objective saved by +extra_mw
    option_value: dict[str, float] = field(default_factory=dict)  # option -> objective lost without it
    regret_of_base_plan: float | None = None  # expected objective of the base-only plan minus this one
    notes: list[str] = field(default_factory=list)
    start: dict[tuple[str, ...], float] = field(default_factory=dict)  # the solution by column label

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective_pv_usd": self.objective_pv_usd,
            "cost_pv_usd": self.cost_pv_usd,
            "status": self.status,
            "signed": self.signed,
            "unmet_gpu_hours": self.unmet,
            "cash_by_year_usd": {str(k): v for k, v in self.cash_by_year.items()},
            "cases": {k: vars(v) for k, v in self.cases.items()},
            "regret_of_base_plan_usd": self.regret_of_base_plan,
            "power_shadow_usd_per_mw": self.power_shadow,
            "value_of_extra_power_usd": self.value_of_gw,
            "option_value_usd": self.option_value,
            "capacity_shadow": self.capacity_shadow.to_dict(orient="records"),
            "routing_by_quarter": routing_by_quarter(self.routing).to_dict(orient="records"),
            "notes": self.notes,
        }


@dataclass(frozen=True)
class PlanInputs:
    scenario: Scenario
    catalog: Catalog
    months: Months
    options: list[ResolvedOption]
    cases: tuple[Case, ...]  # the first is the base case
    time_limit_s: float
    gap: float

    @property
    def demand(self) -> Demand:
        return self.cases[0].demand


def prepare(
    scenario: Scenario,
    catalog: Catalog,
    smap: SourceMap,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    gap: float = DEFAULT_MIP_GAP,
    cases: bool = True,
) -> PlanInputs:
    """The inputs of a plan: months, options (checked), and demand: one case per revenue case with a
    weight (the scenario's base case first), or the base case alone (`cases` False, or no weights)."""
    months = horizon_months(scenario.horizon)
    options = resolve_options(scenario, catalog, months, smap)
    cap = monthly_capacity(scenario, catalog, months)
    accs = {catalog.accelerator_of(c.product).id for c in scenario.clusters} | {
        o.accelerator for o in options
    }
    fleet = cap.gpu_hours.sum(axis=0)
    base = monthly_demand(scenario, catalog, months, accs, fleet)
    found = [Case(scenario.finance.default_case or "base", 1.0, base)]
    weighted = revenue_cases(scenario) if cases else []
    if weighted:
        found = [
            Case(name, w, base if name == found[0].name else
                 monthly_demand(scenario.with_case(name), catalog, months, accs, fleet))
            for name, w in weighted
        ]  # fmt: skip
    return PlanInputs(scenario, catalog, months, options, tuple(found), time_limit_s, gap)


def revenue_cases(scenario: Scenario) -> list[tuple[str, float]]:
    """(case, weight) of the revenue cases with weights, the base case first; [] when unweighted.
    A case that prices tokens served is left out when inference demand follows revenue (it has no
    revenue path to follow); weights are normalized over the cases kept."""
    fin = scenario.finance
    base = fin.default_case
    follows = any(w.inference is not None and w.inference.demand.revenue for w in scenario.workloads)
    out = [
        (name, float(rc.weight))
        for name, rc in fin.revenue_scenarios.items()
        if rc.weight is not None and rc.weight > 0 and (rc.is_path or not follows)
    ]
    out.sort(key=lambda c: c[0] != base)
    if len(out) < 2 or out[0][0] != base:
        return []
    total = sum(w for _, w in out)
    return [(n, w / total) for n, w in out]


def with_cases(p: PlanInputs, cases: tuple[Case, ...]) -> PlanInputs:
    """The same plan over weighted demand cases (two-stage: sign once, route per case)."""
    total = sum(c.weight for c in cases)
    scaled = tuple(Case(c.name, c.weight / total, c.demand) for c in cases)
    return PlanInputs(p.scenario, p.catalog, p.months, p.options, scaled, p.time_limit_s, p.gap)


def _model(
    p: PlanInputs,
    extra: dict[str, float] | None = None,
    drop: frozenset[str] = frozenset(),
    cap: MonthlyCapacity | None = None,
) -> Model:
    cap = cap or monthly_capacity(p.scenario, p.catalog, p.months)
    return build_model(p.scenario, p.catalog, p.months, cap, p.cases, p.options, extra, drop)


Start = dict[tuple[str, ...], float]


def solve_value(
    p: PlanInputs,
    extra: dict[str, float] | None = None,
    drop: frozenset[str] = frozenset(),
    start: Start | None = None,
) -> float:
    """The objective of a variant of the plan; `start`: the plan's solution by label, to start from."""
    return solve(_model(p, extra, drop), p.time_limit_s, p.gap, start=start).objective


def make_plan(p: PlanInputs, values: bool = True, extra_mw: float = GW_MW) -> PlanResult:
    """Solve; with `values`, also re-solve with `extra_mw` more at each site with options (one GW by
    default) and without each option; over several cases, also the regret of signing what the base
    case alone would sign."""
    cap = monthly_capacity(p.scenario, p.catalog, p.months)
    mod = _model(p, cap=cap)
    sol = solve(mod, p.time_limit_s, p.gap)
    result = read(mod, sol, p, cap)
    result.start = dict(zip(mod.label, (float(v) for v in sol.x), strict=True))
    if len(p.cases) > 1:
        base = PlanInputs(p.scenario, p.catalog, p.months, p.options, p.cases[:1], p.time_limit_s, p.gap)
        base_mod = _model(base)
        base_sol = solve(base_mod, p.time_limit_s, p.gap)
        fixed = _fix_first_stage(mod, base_mod, base_sol)
        if all(fixed.lower[j] <= result.start[lab] + 0.5 and result.start[lab] - 0.5 <= fixed.upper[j]
               for j, lab in enumerate(fixed.label) if lab[0] in ("n", "z")):  # fmt: skip
            result.regret_of_base_plan = 0.0  # the base case alone signs what the cases sign
        else:
            again = solve(fixed, p.time_limit_s, p.gap, start=result.start).objective
            result.regret_of_base_plan = again - sol.objective
    if values:
        for site in sorted({o.option.site for o in p.options if o.signed}):
            result.value_of_gw[site] = sol.objective - solve_value(p, {site: extra_mw}, start=result.start)
        for o in p.options:
            dropped = solve_value(p, drop=frozenset({o.name}), start=result.start)
            result.option_value[o.name] = dropped - sol.objective
    return result


def _fix_first_stage(mod: Model, other: Model, sol: Solution) -> Model:
    """`mod` with its first-stage columns (sizes, signing) fixed at `other`'s solution."""
    chosen = {lab: round(float(sol.x[j])) for j, lab in enumerate(other.label) if lab[0] in ("n", "z")}
    for j, lab in enumerate(mod.label):
        if lab in chosen:
            mod.lower[j] = mod.upper[j] = float(chosen[lab])
    return mod


def read(mod: Model, sol: Solution, p: PlanInputs, cap: MonthlyCapacity | None = None) -> PlanResult:
    x = sol.x
    months = p.months
    cap = cap or monthly_capacity(p.scenario, p.catalog, months)
    opt_by = {o.name: o for o in p.options}
    signed = []
    for j, lab in enumerate(mod.label):
        if lab[0] == "n" and round(x[j]) > 0:
            o, t, d = opt_by[lab[2]], int(lab[3]), round(x[j])
            signed.append(
                {
                    "option": o.name,
                    "provider": o.option.provider,
                    "site": o.option.site,
                    "product": o.option.product,
                    "start": months.labels[t],
                    "months": len(o.active(t, months)),
                    "domains": d,
                    "gpus": d * o.gpus_per_domain,
                    "billing": o.option.billing,
                    "price_per_gpu_hour_usd": o.price,
                }
            )
    providers = {
        c.name: p_ for c, p_ in zip(p.scenario.clusters, _cluster_providers(p.scenario), strict=True)
    }
    providers |= {o.name: o.option.provider for o in p.options}
    names = [c.name for c in mod.cases]
    cluster_at = {name: i for i, name in enumerate(cap.timeline.clusters)}
    acc_of = {c.name: p.catalog.accelerator_of(c.product).id for c in p.scenario.clusters}
    acc_of |= {o.name: o.accelerator for o in p.options}

    def contract(target: str, m: int) -> str:
        return cap.contract[cluster_at[target]][m] if target in cluster_at else target

    recs = []
    unmet: list[dict[str, float]] = [defaultdict(float) for _ in mod.cases]
    penalty: list[float] = [0.0 for _ in mod.cases]
    for j, lab in enumerate(mod.label):
        if lab[0] in ("n", "z", "q", "s"):
            continue
        e = int(lab[1])
        by_class = {k.name: k for k in mod.cases[e].demand.classes}
        if lab[0] == "x" and x[j] > 1e-6:
            m, f = int(lab[4]), by_class[lab[2]].factor(acc_of[lab[3]]) or 1.0
            recs.append(
                (names[e], lab[2], lab[3], providers[lab[3]], contract(lab[3], m), months.labels[m],
                 months.quarters[m], float(x[j]), float(x[j]) * f)
            )  # fmt: skip
        elif lab[0] == "a" and x[j] > 0.5:
            run = by_class[lab[2]]
            for mi in np.flatnonzero(run.gpu_hours > 0):
                m, gh = int(mi), float(run.gpu_hours[mi])
                recs.append((names[e], run.name, lab[3], providers[lab[3]], contract(lab[3], m),
                             months.labels[m], months.quarters[m], gh, gh))  # fmt: skip
        elif lab[0] == "u" and x[j] > 1e-6:
            unmet[e][lab[2]] += float(x[j])
            penalty[e] += mod.cost[j] / mod.cases[e].weight * float(x[j])
        elif lab[0] == "v" and x[j] > 0.5:
            unmet[e][lab[2]] += float(by_class[lab[2]].gpu_hours.sum())
            penalty[e] += mod.cost[j] / mod.cases[e].weight
    routing = pd.DataFrame(recs, columns=ROUTING_COLUMNS)
    cases: dict[str, CaseResult] = {}
    expected_cash = np.zeros(months.count)
    expected_unmet: dict[str, float] = defaultdict(float)
    for e, case in enumerate(mod.cases):
        cash = np.array(mod.fixed_cash, dtype=np.float64)
        for m, cols in mod.cash[e].items():
            cash[m] += sum(v * x[c] for c, v in cols.items())
        cost = float(np.dot(cash, mod.discount))
        cases[case.name] = CaseResult(case.weight, cost, cost + penalty[e], dict(unmet[e]))
        expected_cash += case.weight * cash
        for k, v in unmet[e].items():
            expected_unmet[k] += case.weight * v
    cash_by_year: dict[int, float] = defaultdict(float)
    for m, y in enumerate(months.years):
        cash_by_year[y] += float(expected_cash[m])
    fixed_duals, relaxed_duals = shadow_prices(mod, sol)
    caps = []
    power: dict[str, float] = defaultdict(float)
    for r, row in enumerate(mod.rows):
        where, mo = row.key
        if row.kind == "capacity" and mo >= 0 and where not in opt_by:
            caps.append((where, months.labels[mo], months.quarters[mo], -fixed_duals[r] * months.hours[mo]))
        if row.kind == "power":
            power[where] += -relaxed_duals[r]
    shadow = pd.DataFrame(caps, columns=["cluster", "month", "quarter", "usd_per_gpu_month"])
    shadow = shadow.groupby(["cluster", "month", "quarter"], as_index=False).agg({"usd_per_gpu_month": "sum"})
    shadow = shadow.groupby(["cluster", "quarter"], as_index=False).agg({"usd_per_gpu_month": "mean"})
    shadow = shadow[shadow["usd_per_gpu_month"] > 1e-9].reset_index(drop=True)
    return PlanResult(
        objective_pv_usd=sol.objective,
        cost_pv_usd=float(np.dot(expected_cash, mod.discount)),
        status=sol.status,
        signed=signed,
        routing=routing,
        unmet=dict(expected_unmet),
        cash_by_year=dict(cash_by_year),
        capacity_shadow=shadow,
        power_shadow=dict(power),
        cases=cases,
        notes=list(dict.fromkeys(n for c in mod.cases for n in c.demand.notes)),
    )


def _cluster_providers(scenario: Scenario) -> list[str]:
    sites = {s.name: s.provider for s in scenario.sites}
    return [sites[c.site] for c in scenario.clusters]


def routing_by_quarter(routing: pd.DataFrame) -> pd.DataFrame:
    """GPU-hours by case, class, provider and quarter."""
    if routing.empty:
        return pd.DataFrame(columns=["case", "class", "provider", "quarter", "gpu_hours"])
    return routing.groupby(["case", "class", "provider", "quarter"], as_index=False).agg({"gpu_hours": "sum"})
