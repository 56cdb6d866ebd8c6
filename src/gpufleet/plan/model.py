"""The planning MILP built over the monthly model (docs/plan.md states it in full).

Sets: months m (discount factor d_m, hours H_m); targets c = the scenario's clusters and the candidate
options; demand classes k (training runs r, inference service/region, research streams).

Variables (all >= 0):
  x[k,c,m]   reference GPU-hours of class k served on target c in month m (not training)
  u[k,m]     reference GPU-hours of class k not served
  a[r,c]     binary: training run r runs on target c for its whole duration;  v[r] binary: not run
  n[o,t]     integer domains of option o starting in month t;  z[o,t] binary: o signed to start at t
  q[o,m]     on-demand option o: GPU-hours used in month m (no signing)
  s[p]       shortfall of a take-or-pay period p (existing spend commitments, spend-commitment options)

Use of target c in month m:  U[c,m] = sum_k f[k,c] x[k,c,m] + sum_r h[r,m] a[r,c]
  (f: GPU-hours on c's accelerator per reference GPU-hour; h[r,m]: run r's GPU-hours in m).
Constraints:
  demand      sum_c x[k,c,m] + u[k,m] = D[k,m];           sum_c a[r,c] + v[r] = 1
  capacity    U[c,m] <= G[c,m] (GPU-hours online: ramps, slips, provider events)      cluster c
              U[o,m] <= g_o H_m sum_{t: t<=m<t+T_o} n[o,t]                           option o
  gang        gpus_r a[r,o] <= g_o sum_{t active at m} n[o,t] for m in run r's months; existing
              clusters with fewer GPUs online than gpus_r on any day of the run are not offered
  signing     lo_o z[o,t] <= n[o,t] <= hi_o z[o,t];  sum_t z[o,t] <= 1
  power       sum_{o at site s} w_o sum_{t active at m} n[o,t] <= P_s - E[s,m]   (facility MW)
  share       sum_{c of provider p} U[c,m] <= S sum_c U[c,m]                   (max_provider_share)
  take-or-pay s[p] >= M_p - price * sum_{m in p} U[contract, m]                 (period p of minimum M_p)
  budget      sum_{m in year y} cash[m] <= B_y;   sum_m cash[m] <= B_total
Cash: existing contracts: the ledger's bill at zero use less their take-or-pay true-ups (a fixed
part: reserved capacity, prepayments) + price x use (spend-commitment, on-demand) + s[p] at period
end; options: reserved / capacity-block g_o H_m price n, spend-commitment price x use + s[p], on-demand
price x q. Objective: min sum_m d_m cash[m] + penalty sum d_m (u[k,m] + h[r,m] v[r]).
Under uncertainty (two-stage): n, z are decided once; every case e (weight w_e, its own demand) has
its own x, u, a, v, q, s and its own capacity, take-or-pay, share and budget rows; the objective is
the signed options' cash + sum_e w_e (the case's other cash and penalty), all discounted.
Big-M: the only one is hi_o (the option's own size bound), so it is as tight as the input.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from gpufleet.aggregate.billing import usage_table
from gpufleet.aggregate.capacity import MonthlyCapacity
from gpufleet.aggregate.demand import Demand, DemandClass
from gpufleet.aggregate.months import Months
from gpufleet.catalog import Catalog
from gpufleet.finance.ledger import build_ledger
from gpufleet.fleet.usable import usable_contracts
from gpufleet.plan.inputs import ResolvedOption
from gpufleet.scenario.schema import Scenario
from gpufleet.tables import empty_table

Floats = npt.NDArray[np.float64]
Terms = list[tuple[int, float]]


@dataclass
class Row:
    name: str  # what the constraint is, in words (infeasibility reports name these)
    kind: str  # capacity | power | share | budget | demand | gang | signing | take-or-pay
    cols: list[int]
    vals: list[float]
    upper: float  # <= upper, or == upper when equality
    equality: bool = False
    key: tuple[str, int] = ("", -1)  # (cluster or site, month) for shadow prices
    case: int = -1  # the case a second-stage row belongs to; -1: first stage


@dataclass(frozen=True)
class Case:
    """One demand case of the two-stage model: its name, weight and demand."""

    name: str
    weight: float
    demand: Demand


@dataclass
class Model:
    """Columns (cost, bounds, integrality, label) and rows of the MILP, with what reading it needs."""

    cases: tuple[Case, ...]
    discount: Floats
    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    label: list[tuple[str, ...]] = field(default_factory=list)  # (kind, case index or "", ...)
    rows: list[Row] = field(default_factory=list)
    constant: float = 0.0  # PV of cash that no decision changes
    # per case: month -> column -> $ per unit (first-stage columns appear in every case)
    cash: list[dict[int, dict[int, float]]] = field(default_factory=list)
    fixed_cash: Floats = field(default_factory=lambda: np.zeros(0))  # per month, $ no decision changes

    def add(
        self, label: tuple[str, ...], cost: float = 0.0, upper: float = np.inf, integer: bool = False
    ) -> int:
        self.cost.append(cost)
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        self.label.append(label)
        return len(self.cost) - 1

    def spend(self, case: int, m: int, col: int, usd: float) -> None:
        """Cash `usd` per unit of `col` in month m of `case` (-1: first stage, every case): into the
        objective (discounted, weighted by the case) and the budgets."""
        for e in range(len(self.cases)) if case < 0 else [case]:
            self.cash[e][m][col] = self.cash[e][m].get(col, 0.0) + usd
        weight = 1.0 if case < 0 else self.cases[case].weight
        self.cost[col] += usd * float(self.discount[m]) * weight


def discount_factors(months: Months, rate: float) -> Floats:
    return np.asarray((1.0 + rate) ** (-months.years_from_start()), dtype=np.float64)


def _takeorpay_periods(ledger0: pd.DataFrame, name: str, months: Months) -> list[tuple[int, int, float]]:
    """(first month, last month, minimum) of a spend commitment: its true-ups when nothing is used."""
    rows = ledger0[(ledger0["contract"] == name) & (ledger0["true_up_usd"] > 0)]
    labels = {lab: i for i, lab in enumerate(months.labels)}
    out: list[tuple[int, int, float]] = []
    prev = -1
    ends: dict[int, float] = defaultdict(float)
    for month, amount in zip(rows["month"], rows["true_up_usd"], strict=True):
        ends[labels[f"{month.year}-{month.month:02d}"]] += float(amount)
    for m in sorted(ends):
        out.append((prev + 1, m, ends[m]))
        prev = m
    return out


@dataclass(frozen=True)
class Target:
    """Where demand can run: a cluster of the scenario or a candidate option."""

    name: str
    provider: str
    geo: str
    accelerator: str
    site: str
    option: ResolvedOption | None


class _Builder:
    """Builds the model of the module docstring: first stage, then each case."""

    def __init__(
        self,
        scenario: Scenario,
        catalog: Catalog,
        months: Months,
        cap: MonthlyCapacity,
        options: list[ResolvedOption],
        cases: tuple[Case, ...],
        drop_options: frozenset[str],
    ) -> None:
        self.scenario, self.catalog, self.months, self.cap = scenario, catalog, months, cap
        self.M = months.count
        self.hours = months.hours
        self.mod = Model(cases, discount_factors(months, scenario.plan.discount_rate_per_year))
        self.mod.cash = [defaultdict(dict) for _ in cases]
        self.penalty = scenario.plan.unmet_penalty_usd_per_gpu_hour
        tl = cap.timeline
        geo_of = {s.name: s.geo for s in scenario.sites}
        acc_of = [catalog.accelerator_of(cl.product).id for cl in scenario.clusters]
        self.live = [o for o in options if o.name not in drop_options]
        self.targets = [
            Target(tl.clusters[i], tl.providers[i], geo_of[tl.sites[i]], acc_of[i], tl.sites[i], None)
            for i in range(len(tl.clusters))
        ] + [Target(o.name, o.option.provider, o.geo, o.accelerator, o.option.site, o) for o in self.live]
        self.n_cols: dict[str, dict[int, int]] = {}
        # clusters no workload may use (an on-demand or capacity-block pool while overflow is off):
        # the simulation never places work there, so the plan does not either
        usable = usable_contracts(scenario)
        self.closed = {
            j
            for j in range(len(tl.clusters))
            if not any(h in usable for h in cap.contract[j] if h) and any(cap.contract[j])
        }

    # ------------------------------------------------------------------------------ first stage

    def options(self) -> None:
        """Sizes n[o,t] and signing z[o,t]; reserved and capacity-block options' cash."""
        mod = self.mod
        for o in self.live:
            if not o.signed:
                continue
            hi = float(o.option.max_domains)
            self.n_cols[o.name] = {}
            z_all = []
            for t in o.starts:
                n = mod.add(("n", "", o.name, str(t)), upper=hi, integer=True)
                z = mod.add(("z", "", o.name, str(t)), upper=1.0, integer=True)
                self.n_cols[o.name][t] = n
                z_all.append(z)
                mod.rows.append(
                    Row(f"{o.name}: size at most max_domains if signed", "signing", [n, z], [1.0, -hi], 0.0)
                )
                if o.option.min_domains > 0:
                    lo = float(o.option.min_domains)
                    mod.rows.append(
                        Row(
                            f"{o.name}: size at least min_domains if signed",
                            "signing",
                            [z, n],
                            [lo, -1.0],
                            0.0,
                        )
                    )
                if o.option.billing in ("reserved", "capacity-block"):
                    for m in o.active(t, self.months):
                        mod.spend(-1, m, n, o.price * o.gpus_per_domain * self.hours[m])
            if z_all:
                mod.rows.append(
                    Row(f"{o.name}: signed at most once", "signing", z_all, [1.0] * len(z_all), 1.0)
                )

    def option_gpus(self, o: ResolvedOption, m: int) -> Terms:
        """(n column, GPUs per domain) of the starts active in month m."""
        return [
            (col, float(o.gpus_per_domain))
            for t, col in self.n_cols.get(o.name, {}).items()
            if m in o.active(t, self.months)
        ]

    def power(self, extra: dict[str, float]) -> None:
        """Facility MW of the options signed at a site within what its racks online leave."""
        for site in self.scenario.sites:
            at_site = [o for o in self.live if o.option.site == site.name and o.signed]
            for m in range(self.M) if at_site else []:
                cols: list[int] = []
                vals: list[float] = []
                for o in at_site:
                    for col, _ in self.option_gpus(o, m):
                        cols.append(col)
                        vals.append(o.mw_per_domain)
                if cols:
                    room = site.power_mw + extra.get(site.name, 0.0) - float(self.cap.site_mw[site.name][m])
                    name = f"power of {site.name} in {self.months.labels[m]}"
                    self.mod.rows.append(Row(name, "power", cols, vals, max(0.0, room), key=(site.name, m)))

    def fixed(self) -> pd.DataFrame:
        """The existing contracts' bill at zero use: its fixed part is the model's constant cash."""
        ledger0 = build_ledger(
            usage_table(self.scenario, self.cap, self.months, {}),
            empty_table("series"),
            self.scenario,
            self.catalog,
        )
        labels = {lab: i for i, lab in enumerate(self.months.labels)}
        fixed = np.zeros(self.M)
        models = {c.name: c.billing_model for c in self.scenario.contracts}
        for name, month, due, true_up in zip(
            ledger0["contract"],
            ledger0["month"],
            ledger0["cost_due_usd"],
            ledger0["true_up_usd"],
            strict=True,
        ):
            m = labels[f"{month.year}-{month.month:02d}"]
            fixed[m] += float(due) - (float(true_up) if models[str(name)] == "spend-commitment" else 0.0)
        self.mod.fixed_cash = fixed
        self.mod.constant = float(np.dot(fixed, self.mod.discount))
        return ledger0

    # ------------------------------------------------------------------------------ one case

    def case(self, e: int, demand: Demand, ledger0: pd.DataFrame) -> None:
        use: dict[tuple[int, int], Terms] = defaultdict(list)  # (target, month) -> GPU-hour terms
        for k in demand.classes:
            if k.kind == "training":
                self.training(e, k, use)
            else:
                self.flow(e, k, use)
        contract_use = self.capacity(e, use)
        self.existing_bills(e, contract_use, ledger0)
        self.option_minimums(e, use)
        self.share(e, use)
        self.budgets(e)

    def eligible(self, k: DemandClass) -> list[tuple[int, float]]:
        out = []
        for j, tg in enumerate(self.targets):
            if j in self.closed:
                continue
            if k.allowed_providers is not None and tg.provider not in k.allowed_providers:
                continue
            if k.allowed_geos is not None and tg.geo not in k.allowed_geos:
                continue
            f = k.factor(tg.accelerator)
            if f is not None:
                out.append((j, f))
        return out

    def training(self, e: int, k: DemandClass, use: dict[tuple[int, int], Terms]) -> None:
        """A run on one target for its whole duration, or not at all (its GPU-hours penalized)."""
        mod, ce = self.mod, str(e)
        eligible = self.eligible(k)
        eligible = [(j, f) for j, f in eligible if self.targets[j].accelerator == k.accelerator] or eligible
        run_months = [m for m in range(self.M) if k.gpu_hours[m] > 0]
        lost = float(np.dot(k.gpu_hours, mod.discount)) * self.penalty * mod.cases[e].weight
        a_cols = [mod.add(("v", ce, k.name), cost=lost, upper=1.0, integer=True)]
        for j, f in eligible:
            opt = self.targets[j].option
            if opt is None and any(self.cap.min_gpus[j, m] < k.gpus for m in run_months):
                continue  # the cluster never holds the run at once
            if opt is not None and not opt.signed:
                continue  # on-demand is no place for a gang of this size
            a = mod.add(("a", ce, k.name, self.targets[j].name), upper=1.0, integer=True)
            a_cols.append(a)
            for m in run_months:
                use[(j, m)].append((a, float(k.gpu_hours[m]) * f))
                if opt is not None:
                    terms = self.option_gpus(opt, m)
                    name = f"{k.name} on {opt.name}: {k.gpus} GPUs in one cluster in {self.months.labels[m]}"
                    cols = [a] + [c for c, _ in terms]
                    mod.rows.append(
                        Row(name, "gang", cols, [float(k.gpus)] + [-g for _, g in terms], 0.0, case=e)
                    )
        name = f"{k.name}: runs once or not at all"
        mod.rows.append(Row(name, "demand", a_cols, [1.0] * len(a_cols), 1.0, True, case=e))

    def flow(self, e: int, k: DemandClass, use: dict[tuple[int, int], Terms]) -> None:
        """Each month: served on the eligible targets, or unmet (penalized)."""
        mod, ce = self.mod, str(e)
        eligible = self.eligible(k)
        weight = mod.cases[e].weight
        for m in range(self.M):
            if k.gpu_hours[m] <= 0:
                continue
            u = mod.add(("u", ce, k.name, str(m)), cost=self.penalty * float(mod.discount[m]) * weight)
            cols, vals = [u], [1.0]
            for j, f in eligible:
                x = mod.add(("x", ce, k.name, self.targets[j].name, str(m)))
                cols.append(x)
                vals.append(1.0)
                use[(j, m)].append((x, f))
            name = f"{k.name}: demand in {self.months.labels[m]}"
            mod.rows.append(Row(name, "demand", cols, vals, float(k.gpu_hours[m]), True, case=e))

    def capacity(self, e: int, use: dict[tuple[int, int], Terms]) -> dict[tuple[str, int], Terms]:
        """Capacity rows per target and month; usage priced on options; use per existing contract."""
        mod, months = self.mod, self.months
        contract_use: dict[tuple[str, int], Terms] = defaultdict(list)
        q_cols: dict[str, list[int]] = {}
        for o in self.live:
            if not o.signed:  # on-demand: up to its cap from its first start, paid as used
                first = o.starts[0] if o.starts else self.M
                cap_h = [
                    o.gpus_per_domain * o.option.max_domains * self.hours[m] if m >= first else 0.0
                    for m in range(self.M)
                ]
                q_cols[o.name] = [
                    mod.add(("q", str(e), o.name, str(m)), upper=cap_h[m]) for m in range(self.M)
                ]
                for m in range(self.M):
                    mod.spend(e, m, q_cols[o.name][m], o.price)
        for (j, m), terms in use.items():
            cols = [c for c, _ in terms]
            vals = [v for _, v in terms]
            tg = self.targets[j]
            name = f"capacity of {tg.name} in {months.labels[m]}"
            opt = tg.option
            if opt is None:
                mod.rows.append(
                    Row(
                        name,
                        "capacity",
                        cols,
                        vals,
                        float(self.cap.gpu_hours[j, m]),
                        key=(tg.name, m),
                        case=e,
                    )
                )
                holder = self.cap.contract[j][m]
                if holder:
                    contract_use[(holder, m)].extend(terms)
            elif opt.signed:
                terms_n = self.option_gpus(opt, m)
                cols_n = cols + [c for c, _ in terms_n]
                vals_n = vals + [-g * self.hours[m] for _, g in terms_n]
                mod.rows.append(Row(name, "capacity", cols_n, vals_n, 0.0, key=(tg.name, m), case=e))
                if opt.option.billing == "spend-commitment":
                    for col, gh in terms:
                        mod.spend(e, m, col, opt.price * gh)
            else:
                qc = q_cols[tg.name][m]
                mod.rows.append(Row(name, "capacity", [*cols, qc], [*vals, -1.0], 0.0, case=e))
        return contract_use

    def existing_bills(
        self, e: int, contract_use: dict[tuple[str, int], Terms], ledger0: pd.DataFrame
    ) -> None:
        """Use priced (spend-commitment, on-demand, capacity-block) and take-or-pay shortfalls."""
        mod, months = self.mod, self.months
        prices = {rc.name: rc.price_per_gpu_hour_usd for rc in self.cap.timeline.contracts}
        for con in self.scenario.contracts:
            price = prices[con.name]
            model = con.billing_model
            if model in ("spend-commitment", "on-demand", "capacity-block"):
                for m in range(self.M):
                    for col, v in contract_use.get((con.name, m), []):
                        mod.spend(e, m, col, price * v)
            pay = model == "spend-commitment" and con.commitment is not None and con.commitment.take_or_pay
            for p, (first, last, minimum) in enumerate(
                _takeorpay_periods(ledger0, con.name, months) if pay else []
            ):
                s = mod.add(("s", str(e), con.name, str(p)))
                mod.spend(e, last, s, 1.0)
                terms = [
                    (col, price * v)
                    for m in range(first, last + 1)
                    for col, v in contract_use.get((con.name, m), [])
                ]
                name = f"{con.name}: take-or-pay minimum ending {months.labels[last]}"
                cols = [s] + [col for col, _ in terms]
                mod.rows.append(
                    Row(name, "take-or-pay", cols, [-1.0] + [-v for _, v in terms], -minimum, case=e)
                )

    def option_minimums(self, e: int, use: dict[tuple[int, int], Terms]) -> None:
        """Spend-commitment options: per contract year, min_share x capacity priced, trued up."""
        mod = self.mod
        for o in self.live:
            if o.option.billing != "spend-commitment":
                continue
            j = next(i for i, tg in enumerate(self.targets) if tg.name == o.name)
            for t, n in self.n_cols[o.name].items():
                act = list(o.active(t, self.months))
                for y0 in range(0, len(act), 12):
                    span = act[y0 : y0 + 12]
                    s = mod.add(("s", str(e), o.name, str(t), str(y0)))
                    mod.spend(e, span[-1], s, 1.0)
                    terms = [(col, o.price * v) for m in span for col, v in use.get((j, m), [])]
                    minimum = o.option.min_share * o.price * o.gpus_per_domain * float(self.hours[span].sum())
                    name = f"{o.name}: take-or-pay minimum ending {self.months.labels[span[-1]]}"
                    cols = [s, n] + [col for col, _ in terms]
                    mod.rows.append(
                        Row(name, "take-or-pay", cols, [-1.0, minimum] + [-v for _, v in terms], 0.0, case=e)
                    )

    def share(self, e: int, use: dict[tuple[int, int], Terms]) -> None:
        share = self.scenario.plan.max_provider_share
        if share is None:
            return
        for m in range(self.M):
            every = [t for j in range(len(self.targets)) for t in use.get((j, m), [])]
            for prov in sorted({tg.provider for tg in self.targets}):
                mine = [
                    t for j, tg in enumerate(self.targets) if tg.provider == prov for t in use.get((j, m), [])
                ]
                if not mine:
                    continue
                coef: dict[int, float] = defaultdict(float)
                for col, v in every:
                    coef[col] -= share * v
                for col, v in mine:
                    coef[col] += v
                name = f"share of {prov} in {self.months.labels[m]}"
                self.mod.rows.append(Row(name, "share", list(coef), list(coef.values()), 0.0, case=e))

    def budgets(self, e: int) -> None:
        settings = self.scenario.plan
        for year, cap_usd in settings.yearly_budget_usd.items():
            ms = [m for m in range(self.M) if self.months.years[m] == year]
            if ms:
                self.budget(e, ms, cap_usd, f"budget of {year}")
        if settings.max_cumulative_cash_usd is not None:
            self.budget(e, list(range(self.M)), settings.max_cumulative_cash_usd, "cumulative cash cap")

    def budget(self, e: int, ms: list[int], cap_usd: float, name: str) -> None:
        mod = self.mod
        coef: dict[int, float] = defaultdict(float)
        for m in ms:
            for c, v in mod.cash[e].get(m, {}).items():
                coef[c] += v
        label = name if len(mod.cases) == 1 else f"{name} ({mod.cases[e].name})"
        fixed = float(mod.fixed_cash[ms].sum())
        mod.rows.append(Row(label, "budget", list(coef), list(coef.values()), cap_usd - fixed, case=e))


def build_model(
    scenario: Scenario,
    catalog: Catalog,
    months: Months,
    cap: MonthlyCapacity,
    demand: Demand | tuple[Case, ...],
    options: list[ResolvedOption],
    power_extra_mw: dict[str, float] | None = None,
    drop_options: frozenset[str] = frozenset(),
) -> Model:
    """The MILP of the module docstring, over one demand or weighted cases (two-stage).
    `power_extra_mw`: MW added to sites (what-if); `drop_options`: options left out (to value each)."""
    cases = (Case("base", 1.0, demand),) if isinstance(demand, Demand) else demand
    b = _Builder(scenario, catalog, months, cap, options, cases, drop_options)
    b.options()
    b.power(power_extra_mw or {})
    ledger0 = b.fixed()
    for e, case in enumerate(cases):
        b.case(e, case.demand, ledger0)
    return b.mod
