"""A plan for a scenario: the model built, solved and read back (what to sign, routing, prices, values)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gpufleet.aggregate.capacity import monthly_capacity
from gpufleet.aggregate.demand import Demand, monthly_demand
from gpufleet.aggregate.months import Months, horizon_months
from gpufleet.catalog import Catalog
from gpufleet.plan.inputs import ResolvedOption, resolve_options
from gpufleet.plan.model import Model, build_model
from gpufleet.plan.solve import DEFAULT_MIP_GAP, DEFAULT_TIME_LIMIT_S, Solution, shadow_prices, solve
from gpufleet.scenario.schema import Scenario
from gpufleet.scenario.source import SourceMap

GW_MW = 1000.0


@dataclass
class PlanResult:
    objective_pv_usd: float  # cash PV + unmet penalty PV
    cost_pv_usd: float  # PV of cash out
    status: str
    signed: list[dict[str, Any]]  # option, start, domains, gpus, billing
    routing: pd.DataFrame  # class, target, provider, month, gpu_hours (reference)
    unmet: dict[str, float]  # class -> reference GPU-hours not served
    cash_by_year: dict[int, float]
    capacity_shadow: pd.DataFrame  # cluster, quarter, usd_per_gpu_month
    power_shadow: dict[str, float]  # site -> $ per MW held over every month of the horizon (LP relaxation)
    value_of_gw: dict[str, float] = field(default_factory=dict)  # site -> objective saved by +1 GW
    option_value: dict[str, float] = field(default_factory=dict)  # option -> objective lost without it
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective_pv_usd": self.objective_pv_usd,
            "cost_pv_usd": self.cost_pv_usd,
            "status": self.status,
            "signed": self.signed,
            "unmet_gpu_hours": self.unmet,
            "cash_by_year_usd": {str(k): v for k, v in self.cash_by_year.items()},
            "power_shadow_usd_per_mw": self.power_shadow,
            "value_of_one_gw_usd": self.value_of_gw,
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
    demand: Demand
    time_limit_s: float
    gap: float


def prepare(
    scenario: Scenario,
    catalog: Catalog,
    smap: SourceMap,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    gap: float = DEFAULT_MIP_GAP,
) -> PlanInputs:
    months = horizon_months(scenario.horizon)
    options = resolve_options(scenario, catalog, months, smap)
    cap = monthly_capacity(scenario, catalog, months)
    accs = {catalog.accelerator_of(c.product).id for c in scenario.clusters} | {
        o.accelerator for o in options
    }
    demand = monthly_demand(scenario, catalog, months, accs, cap.gpu_hours.sum(axis=0))
    return PlanInputs(scenario, catalog, months, options, demand, time_limit_s, gap)


def _model(p: PlanInputs, extra: dict[str, float] | None = None, drop: frozenset[str] = frozenset()) -> Model:
    cap = monthly_capacity(p.scenario, p.catalog, p.months)
    return build_model(p.scenario, p.catalog, p.months, cap, p.demand, p.options, extra, drop)


def solve_value(
    p: PlanInputs, extra: dict[str, float] | None = None, drop: frozenset[str] = frozenset()
) -> float:
    mod = _model(p, extra, drop)
    return solve(mod, p.time_limit_s, p.gap).objective


def make_plan(p: PlanInputs, values: bool = True) -> PlanResult:
    """Solve; with `values`, also re-solve for +1 GW at each site with options and without each option."""
    mod = _model(p)
    sol = solve(mod, p.time_limit_s, p.gap)
    result = read(mod, sol, p)
    if values:
        for site in sorted({o.option.site for o in p.options if o.signed}):
            result.value_of_gw[site] = sol.objective - solve_value(p, {site: GW_MW})
        for o in p.options:
            result.option_value[o.name] = solve_value(p, drop=frozenset({o.name})) - sol.objective
    return result


def read(mod: Model, sol: Solution, p: PlanInputs) -> PlanResult:
    x = sol.x
    months = p.months
    opt_by = {o.name: o for o in p.options}
    signed = []
    for j, lab in enumerate(mod.label):
        if lab[0] == "n" and round(x[j]) > 0:
            o = opt_by[lab[1]]
            t = int(lab[2])
            d = round(x[j])
            signed.append(
                {
                    "option": o.name,
                    "provider": o.option.provider,
                    "site": o.option.site,
                    "start": months.labels[t],
                    "domains": d,
                    "gpus": d * o.gpus_per_domain,
                    "billing": o.option.billing,
                }
            )
    providers = {
        c.name: p_ for c, p_ in zip(p.scenario.clusters, _cluster_providers(p.scenario), strict=True)
    }
    providers |= {o.name: o.option.provider for o in p.options}
    by_class = {k.name: k for k in p.demand.classes}
    recs = []
    unmet: dict[str, float] = defaultdict(float)
    for j, lab in enumerate(mod.label):
        if lab[0] == "x" and x[j] > 1e-6:
            recs.append(
                (
                    lab[1],
                    lab[2],
                    providers[lab[2]],
                    months.labels[int(lab[3])],
                    months.quarters[int(lab[3])],
                    x[j],
                )
            )
        elif lab[0] == "a" and x[j] > 0.5:
            run = by_class[lab[1]]
            for m in range(months.count):
                if run.gpu_hours[m] > 0:
                    recs.append(
                        (
                            run.name,
                            lab[2],
                            providers[lab[2]],
                            months.labels[m],
                            months.quarters[m],
                            run.gpu_hours[m],
                        )
                    )
        elif lab[0] == "u" and x[j] > 1e-6:
            unmet[lab[1]] += float(x[j])
        elif lab[0] == "v" and x[j] > 0.5:
            unmet[lab[1]] += float(by_class[lab[1]].gpu_hours.sum())
    routing = pd.DataFrame(recs, columns=["class", "target", "provider", "month", "quarter", "gpu_hours"])
    cash = np.array(mod.fixed_cash, dtype=np.float64)
    for m, cols in mod.cash.items():
        cash[m] += sum(v * x[c] for c, v in cols.items())
    cash_by_year: dict[int, float] = defaultdict(float)
    for m, y in enumerate(months.years):
        cash_by_year[y] += float(cash[m])
    cost_pv = float(np.dot(cash, mod.discount))
    fixed_duals, relaxed_duals = shadow_prices(mod, sol)
    caps = []
    power: dict[str, float] = defaultdict(float)
    for k, row in enumerate(mod.rows):
        name, m = row.key
        if row.kind == "capacity" and name in providers and m >= 0 and name not in opt_by:
            caps.append((name, months.quarters[m], -fixed_duals[k] * months.hours[m]))
        if row.kind == "power":
            power[name] += -relaxed_duals[k]
    shadow = pd.DataFrame(caps, columns=["cluster", "quarter", "usd_per_gpu_month"])
    shadow = shadow.groupby(["cluster", "quarter"], as_index=False).agg({"usd_per_gpu_month": "mean"})
    shadow = shadow[shadow["usd_per_gpu_month"] > 1e-9].reset_index(drop=True)
    return PlanResult(
        objective_pv_usd=sol.objective,
        cost_pv_usd=cost_pv,
        status=sol.status,
        signed=signed,
        routing=routing,
        unmet=dict(unmet),
        cash_by_year=dict(cash_by_year),
        capacity_shadow=shadow,
        power_shadow=dict(power),
        notes=list(p.demand.notes),
    )


def _cluster_providers(scenario: Scenario) -> list[str]:
    sites = {s.name: s.provider for s in scenario.sites}
    return [sites[c.site] for c in scenario.clusters]


def routing_by_quarter(routing: pd.DataFrame) -> pd.DataFrame:
    """GPU-hours by class, provider and quarter."""
    if routing.empty:
        return pd.DataFrame(columns=["class", "provider", "quarter", "gpu_hours"])
    return routing.groupby(["class", "provider", "quarter"], as_index=False).agg({"gpu_hours": "sum"})
