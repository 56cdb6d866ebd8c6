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
from gpufleet.aggregate.demand import Demand
from gpufleet.aggregate.months import Months
from gpufleet.catalog import Catalog
from gpufleet.finance.ledger import build_ledger
from gpufleet.plan.inputs import ResolvedOption
from gpufleet.scenario.schema import Scenario
from gpufleet.tables import empty_table

Floats = npt.NDArray[np.float64]


@dataclass
class Row:
    name: str  # what the constraint is, in words (infeasibility reports name these)
    kind: str  # capacity | power | share | budget | demand | gang | signing | take-or-pay
    cols: list[int]
    vals: list[float]
    upper: float  # <= upper, or == upper when equality
    equality: bool = False
    key: tuple[str, int] = ("", -1)  # (cluster, site or contract name, month) for duals


@dataclass
class Model:
    """Columns (cost, bounds, integrality, label) and rows of the MILP, with what reading it needs."""

    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    label: list[tuple[str, ...]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    constant: float = 0.0  # PV of cash that no decision changes
    cash: dict[int, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))  # month -> col -> $
    fixed_cash: Floats = field(default_factory=lambda: np.zeros(0))  # per month, $ no decision changes
    discount: Floats = field(default_factory=lambda: np.zeros(0))

    def add(
        self, label: tuple[str, ...], cost: float = 0.0, upper: float = np.inf, integer: bool = False
    ) -> int:
        self.cost.append(cost)
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        self.label.append(label)
        return len(self.cost) - 1

    def spend(self, m: int, col: int, usd: float) -> None:
        """Cash `usd` per unit of `col` in month m: into the objective (discounted) and the budgets."""
        self.cash[m][col] = self.cash[m].get(col, 0.0) + usd
        self.cost[col] += usd * float(self.discount[m])


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


def build_model(
    scenario: Scenario,
    catalog: Catalog,
    months: Months,
    cap: MonthlyCapacity,
    demand: Demand,
    options: list[ResolvedOption],
    power_extra_mw: dict[str, float] | None = None,
    drop_options: frozenset[str] = frozenset(),
) -> Model:
    """The MILP of the module docstring. `power_extra_mw`: MW added to sites (what-if); `drop_options`:
    options left out (to value each)."""
    settings = scenario.plan
    M = months.count
    mod = Model(discount=discount_factors(months, settings.discount_rate_per_year))
    hours = months.hours
    tl = cap.timeline
    contracts = {c.name: c for c in scenario.contracts}
    prices = {rc.name: rc.price_per_gpu_hour_usd for rc in tl.contracts}
    acc_of = [catalog.accelerator_of(cl.product).id for cl in scenario.clusters]
    geo_of = {s.name: s.geo for s in scenario.sites}
    penalty = settings.unmet_penalty_usd_per_gpu_hour

    # targets: (name, provider, geo, accelerator, site, option or None)
    targets: list[tuple[str, str, str, str, str, ResolvedOption | None]] = [
        (tl.clusters[i], tl.providers[i], geo_of[tl.sites[i]], acc_of[i], tl.sites[i], None)
        for i in range(len(tl.clusters))
    ]
    live = [o for o in options if o.name not in drop_options]
    targets += [(o.name, o.option.provider, o.geo, o.accelerator, o.option.site, o) for o in live]
    use: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(
        list
    )  # (target, month) -> GPU-hour terms

    # ---- option sizes
    n_cols: dict[str, dict[int, int]] = {}
    q_cols: dict[str, list[int]] = {}
    for o in live:
        hi = float(o.option.max_domains)
        if not o.signed:
            q_cols[o.name] = [mod.add(("q", o.name, str(m))) for m in range(M)]
            first = o.starts[0] if o.starts else M
            for m in range(M):
                mod.upper[q_cols[o.name][m]] = o.gpus_per_domain * hi * hours[m] if m >= first else 0.0
                mod.spend(m, q_cols[o.name][m], o.price)
            continue
        n_cols[o.name] = {}
        z_all = []
        for t in o.starts:
            n = mod.add(("n", o.name, str(t)), upper=hi, integer=True)
            z = mod.add(("z", o.name, str(t)), upper=1.0, integer=True)
            n_cols[o.name][t] = n
            z_all.append(z)
            mod.rows.append(
                Row(f"{o.name}: size at most max_domains if signed", "signing", [n, z], [1.0, -hi], 0.0)
            )
            if o.option.min_domains > 0:
                mod.rows.append(
                    Row(
                        f"{o.name}: size at least min_domains if signed",
                        "signing",
                        [z, n],
                        [float(o.option.min_domains), -1.0],
                        0.0,
                    )
                )
            if o.option.billing in ("reserved", "capacity-block"):
                for m in o.active(t, months):
                    mod.spend(m, n, o.price * o.gpus_per_domain * hours[m])
        if z_all:
            mod.rows.append(Row(f"{o.name}: signed at most once", "signing", z_all, [1.0] * len(z_all), 1.0))

    def option_gpus(o: ResolvedOption, m: int) -> list[tuple[int, float]]:
        """(n column, GPUs per domain) of the starts active in month m."""
        return [
            (col, float(o.gpus_per_domain))
            for t, col in n_cols.get(o.name, {}).items()
            if m in o.active(t, months)
        ]

    # ---- demand routing
    for k in demand.classes:
        eligible = []
        for j, (_, prov, geo, acc, _, _opt) in enumerate(targets):
            if k.allowed_providers is not None and prov not in k.allowed_providers:
                continue
            if k.allowed_geos is not None and geo not in k.allowed_geos:
                continue
            f = k.factor(acc)
            if f is None:
                continue
            eligible.append((j, f))
        if k.kind == "training":
            same = [(j, f) for j, f in eligible if targets[j][3] == k.accelerator]
            eligible = same or eligible
            run_months = [m for m in range(M) if k.gpu_hours[m] > 0]
            lost = float(np.dot(k.gpu_hours, mod.discount)) * penalty
            v_col = mod.add(("v", k.name), cost=lost, upper=1.0, integer=True)
            a_cols = [v_col]
            for j, f in eligible:
                opt = targets[j][5]
                if opt is None and any(cap.min_gpus[j, m] < k.gpus for m in run_months):
                    continue  # the cluster never holds the run at once
                if opt is not None and not opt.signed:
                    continue  # on-demand is no place for a gang of this size
                a = mod.add(("a", k.name, targets[j][0]), upper=1.0, integer=True)
                a_cols.append(a)
                for m in run_months:
                    use[(j, m)].append((a, float(k.gpu_hours[m]) * f))
                    if opt is not None:
                        terms = option_gpus(opt, m)
                        mod.rows.append(
                            Row(
                                f"{k.name} on {opt.name}: {k.gpus} GPUs in one cluster in {months.labels[m]}",
                                "gang",
                                [a] + [c for c, _ in terms],
                                [float(k.gpus)] + [-g for _, g in terms],
                                0.0,
                            )
                        )
            mod.rows.append(
                Row(f"{k.name}: runs once or not at all", "demand", a_cols, [1.0] * len(a_cols), 1.0, True)
            )
            continue
        for m in range(M):
            if k.gpu_hours[m] <= 0:
                continue
            u = mod.add(("u", k.name, str(m)), cost=penalty * float(mod.discount[m]))
            cols, vals = [u], [1.0]
            for j, f in eligible:
                x = mod.add(("x", k.name, targets[j][0], str(m)))
                cols.append(x)
                vals.append(1.0)
                use[(j, m)].append((x, f))
            mod.rows.append(
                Row(
                    f"{k.name}: demand in {months.labels[m]}",
                    "demand",
                    cols,
                    vals,
                    float(k.gpu_hours[m]),
                    True,
                )
            )

    # ---- capacity, and usage-priced cash
    n_clusters = len(tl.clusters)
    contract_use: dict[tuple[str, int], list[tuple[int, float]]] = defaultdict(list)
    for (j, m), terms in use.items():
        cols = [c for c, _ in terms]
        vals = [v for _, v in terms]
        name, opt = targets[j][0], targets[j][5]
        if opt is None:
            mod.rows.append(
                Row(
                    f"capacity of {name} in {months.labels[m]}",
                    "capacity",
                    cols,
                    vals,
                    float(cap.gpu_hours[j, m]),
                    key=(name, m),
                )
            )
            holder = cap.contract[j][m]
            if holder:
                contract_use[(holder, m)].extend(terms)
        elif opt.signed:
            terms_n = option_gpus(opt, m)
            mod.rows.append(
                Row(
                    f"capacity of {name} in {months.labels[m]}",
                    "capacity",
                    cols + [c for c, _ in terms_n],
                    vals + [-g * hours[m] for _, g in terms_n],
                    0.0,
                    key=(name, m),
                )
            )
            if opt.option.billing == "spend-commitment":
                for col, gh in terms:
                    mod.spend(m, col, opt.price * gh)
        else:
            qc = q_cols[name][m]
            mod.rows.append(
                Row(f"{name} use in {months.labels[m]}", "capacity", [*cols, qc], [*vals, -1.0], 0.0)
            )
    del n_clusters

    # ---- existing contracts' bills: a fixed part from the ledger at zero use, use priced, take-or-pay
    ledger0 = build_ledger(usage_table(scenario, cap, months, {}), empty_table("series"), scenario, catalog)
    labels = {lab: i for i, lab in enumerate(months.labels)}
    fixed = np.zeros(M)
    for name, rc_price in prices.items():
        con = contracts[name]
        model = con.billing_model
        rows0 = ledger0[ledger0["contract"] == name]
        periods = _takeorpay_periods(ledger0, name, months) if model == "spend-commitment" else []
        for month, due, true_up in zip(
            rows0["month"], rows0["cost_due_usd"], rows0["true_up_usd"], strict=True
        ):
            m = labels[f"{month.year}-{month.month:02d}"]
            fixed[m] += float(due) - (float(true_up) if model == "spend-commitment" else 0.0)
        if model in ("spend-commitment", "on-demand", "capacity-block"):
            for m in range(M):
                for col, v in contract_use.get((name, m), []):
                    mod.spend(m, col, rc_price * v)
        pay = con.commitment is not None and con.commitment.take_or_pay
        for p, (first, last, minimum) in enumerate(periods if pay else []):
            s = mod.add(("s", name, str(p)))
            mod.spend(last, s, 1.0)
            terms = [
                (col, rc_price * v)
                for m in range(first, last + 1)
                for col, v in contract_use.get((name, m), [])
            ]
            mod.rows.append(
                Row(
                    f"{name}: take-or-pay minimum ending {months.labels[last]}",
                    "take-or-pay",
                    [s] + [col for col, _ in terms],
                    [-1.0] + [-v for _, v in terms],
                    -minimum,
                )
            )
    # spend-commitment options: a yearly minimum of min_share x capacity priced
    for o in live:
        if o.option.billing != "spend-commitment":
            continue
        for t, n in n_cols[o.name].items():
            act = list(o.active(t, months))
            for y0 in range(0, len(act), 12):
                span = act[y0 : y0 + 12]
                s = mod.add(("s", o.name, str(t), str(y0)))
                mod.spend(span[-1], s, 1.0)
                j = next(i for i, tg in enumerate(targets) if tg[0] == o.name)
                terms = [(col, o.price * v) for m in span for col, v in use.get((j, m), [])]
                minimum = o.option.min_share * o.price * o.gpus_per_domain * float(hours[span].sum())
                mod.rows.append(
                    Row(
                        f"{o.name}: take-or-pay minimum ending {months.labels[span[-1]]}",
                        "take-or-pay",
                        [s, n] + [col for col, _ in terms],
                        [-1.0, minimum] + [-v for _, v in terms],
                        0.0,
                    )
                )
    mod.fixed_cash = fixed
    mod.constant = float(np.dot(fixed, mod.discount))

    # ---- power per site
    extra = power_extra_mw or {}
    for site in scenario.sites:
        at_site = [o for o in live if o.option.site == site.name and o.signed]
        if not at_site:
            continue
        for m in range(M):
            pcols: list[int] = []
            pvals: list[float] = []
            for o in at_site:
                for col, _ in option_gpus(o, m):
                    pcols.append(col)
                    pvals.append(o.mw_per_domain)
            if pcols:
                room = max(0.0, site.power_mw + extra.get(site.name, 0.0) - float(cap.site_mw[site.name][m]))
                mod.rows.append(
                    Row(
                        f"power of {site.name} in {months.labels[m]}",
                        "power",
                        pcols,
                        pvals,
                        room,
                        key=(site.name, m),
                    )
                )

    # ---- provider share
    share = settings.max_provider_share
    if share is not None:
        for m in range(M):
            every = [(cc, vv) for j in range(len(targets)) for cc, vv in use.get((j, m), [])]
            for prov in sorted({tg[1] for tg in targets}):
                mine = {
                    cc: vv for j, tg in enumerate(targets) if tg[1] == prov for cc, vv in use.get((j, m), [])
                }
                if not mine:
                    continue
                coef: dict[int, float] = defaultdict(float)
                for cc, vv in every:
                    coef[cc] -= share * vv
                for cc, vv in mine.items():
                    coef[cc] += vv
                mod.rows.append(
                    Row(
                        f"share of {prov} in {months.labels[m]}",
                        "share",
                        list(coef),
                        list(coef.values()),
                        0.0,
                    )
                )

    # ---- budgets
    for year, capusd in settings.yearly_budget_usd.items():
        ms = [m for m in range(M) if months.years[m] == year]
        if ms:
            _budget(mod, ms, capusd, f"budget of {year}")
    if settings.max_cumulative_cash_usd is not None:
        _budget(mod, list(range(M)), settings.max_cumulative_cash_usd, "cumulative cash cap")
    return mod


def _budget(mod: Model, ms: list[int], cap_usd: float, name: str) -> None:
    coef: dict[int, float] = defaultdict(float)
    for m in ms:
        for c, v in mod.cash.get(m, {}).items():
            coef[c] += v
    fixed = float(mod.fixed_cash[ms].sum())
    mod.rows.append(Row(name, "budget", list(coef), list(coef.values()), cap_usd - fixed))
