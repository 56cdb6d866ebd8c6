"""The portfolio by year: spend and commitments by provider, concentration, revenue scenarios, inference
margin, cash gap and funding need, and how many years of revenue the remaining commitments amount to."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pandas as pd

from gpufleet.catalog import Catalog
from gpufleet.finance.ledger import commitment_from, contract_years
from gpufleet.scenario.ramp import ResolvedContract, resolve_contracts
from gpufleet.scenario.schema import RevenueScenario, Scenario
from gpufleet.tables import check_table, empty_table
from gpufleet.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

NO_REVENUE = "none"  # the scenario name used when the scenario gives no revenue scenarios


def _year(months: pd.Series) -> pd.Series:
    return pd.to_datetime(months, utc=True).dt.year.astype("int64")


def build_spend(ledger: pd.DataFrame) -> pd.DataFrame:
    """The `spend` table: per calendar year and provider, what is billed and what the commitments plan."""
    if ledger.empty:
        return empty_table("spend")
    df = ledger.assign(year=_year(ledger["month"]))
    g = df.groupby(["year", "provider"], sort=True).agg(
        spend_usd=("cost_due_usd", "sum"),
        accrued_cost_usd=("accrued_cost_usd", "sum"),
        commitment_due_usd=("plan_usd", "sum"),
    )
    g = g.reset_index()
    total = g.groupby("year")["spend_usd"].transform("sum")
    g["share_pct"] = np.where(total > 0, 100.0 * g["spend_usd"] / total.where(total > 0, 1.0), np.nan)
    return check_table("spend", g)


def hhi(shares_pct: pd.Series) -> float:
    """Herfindahl-Hirschman index of shares given in percent: 10,000 for one provider, lower when spread."""
    s = shares_pct.dropna()
    return float((s**2).sum()) if len(s) else float("nan")


def _year_fraction(scenario: Scenario, year: int) -> float:
    """Share of a calendar year that the horizon covers (revenue is prorated to it)."""
    first = max(scenario.horizon.start, dt.date(year, 1, 1))
    last = min(scenario.horizon.end, dt.date(year, 12, 31))
    days_in_year = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    return max((last - first).days + 1, 0) / days_in_year


def step_hours(frame: pd.DataFrame, scenario: Scenario) -> npt.NDArray[np.float64]:
    """Hours each row's reporting step lasts, cut at the horizon's end."""
    start = pd.Timestamp(scenario.horizon.start, tz="UTC")
    end_s = ((scenario.horizon.end - scenario.horizon.start).days + 1) * SECONDS_PER_DAY
    secs = (pd.to_datetime(frame["time"], utc=True) - start).dt.total_seconds().to_numpy(np.float64)
    step = scenario.horizon.step_s
    hours = np.clip(np.minimum(secs + step, end_s) - np.maximum(secs, 0.0), 0.0, None) / SECONDS_PER_HOUR
    return np.asarray(hours, dtype=np.float64)


def tokens_served_by_year(inference: pd.DataFrame, scenario: Scenario) -> dict[int, float]:
    """Tokens served per calendar year: served tokens/s x the step's seconds, summed."""
    if inference.empty:
        return {}
    tokens = (
        inference["served_tokens_s"].to_numpy(np.float64) * step_hours(inference, scenario) * SECONDS_PER_HOUR
    )
    years = _year(inference["time"]).to_numpy()
    out: dict[int, float] = {}
    for y in np.unique(years):
        out[int(y)] = float(tokens[years == y].sum())
    return out


def revenue(rs: RevenueScenario, year: int, scenario: Scenario, tokens: dict[int, float]) -> float:
    """A revenue scenario's revenue in a calendar year, over the part of the year the horizon covers."""
    if rs.usd_per_million_tokens is not None:
        return tokens.get(year, 0.0) / 1e6 * rs.usd_per_million_tokens
    return rs.usd_in_year(year, scenario.horizon.start.year) * _year_fraction(scenario, year)


def _inference_cost_by_year(
    ledger: pd.DataFrame,
    inference: pd.DataFrame,
    scenario: Scenario,
    catalog: Catalog,
    usage: pd.DataFrame | None,
) -> dict[int, float]:
    """Inference GPU-hours x price: from `usage` (per contract, at its price) when given; else the
    inference table's GPUs x hours at the year's average price per used GPU-hour."""
    out: dict[int, float] = {}
    if usage is not None and not usage.empty:
        price = {rc.name: rc.price_per_gpu_hour_usd for rc in resolve_contracts(scenario, catalog)}
        cost = usage["gpu_hours_used_inference"].to_numpy(np.float64) * np.array(
            [price.get(str(c), 0.0) for c in usage["contract"]]
        )
        years = _year(usage["month"]).to_numpy()
        for y in np.unique(years):
            out[int(y)] = float(cost[years == y].sum())
        return out
    if inference.empty or ledger.empty:
        return out
    led = ledger.assign(year=_year(ledger["month"]))
    by_year = led.groupby("year")[["usage_cost_usd", "gpu_hours_used"]].sum()
    rate = dict(
        zip(
            by_year.index.to_numpy(np.int64).tolist(),
            _ratio(
                by_year["usage_cost_usd"].to_numpy(np.float64), by_year["gpu_hours_used"].to_numpy(np.float64)
            ),
            strict=True,
        )
    )
    hours = inference["gpus"].to_numpy(np.float64) * step_hours(inference, scenario)
    years = _year(inference["time"]).to_numpy()
    for y in np.unique(years):
        r = rate.get(int(y), float("nan"))
        if np.isfinite(r):
            out[int(y)] = float(hours[years == y].sum() * r)
    return out


def _ratio(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> list[float]:
    return [float(x / y) if y > 0 else float("nan") for x, y in zip(a, b, strict=True)]


def remaining_commitments_by_year(
    ledger: pd.DataFrame, scenario: Scenario, catalog: Catalog
) -> dict[int, float]:
    """Per calendar year: commitments still to be paid after that year's end, to the end of every term.

    What is owed counts from the horizon's start. Against a total commitment every dollar billed on the
    contract counts. Against yearly minimums a contract year's usage counts only up to that year's
    minimum (using more in one year does not lower the next years' minimums), and its true-up in full.
    """
    years = range(scenario.horizon.start.year, scenario.horizon.end.year + 1)
    out = {y: 0.0 for y in years}
    by_name = {c.name: c for c in scenario.contracts}
    for rc in resolve_contracts(scenario, catalog):
        commitment = by_name[rc.name].commitment
        if rc.kind != "committed" or commitment is None:
            continue
        rows = ledger[ledger["contract"] == rc.name].sort_values("month") if not ledger.empty else ledger
        if commitment.total_usd is not None:
            billing = by_name[rc.name].billing
            prorate = billing.prorate_minimum if billing is not None else True
            owed = commitment_from(rc, commitment, scenario.horizon.start, prorate)
            credit = rows["cost_due_usd"].astype(np.float64) if len(rows) else pd.Series(dtype=np.float64)
        else:
            assert commitment.min_per_year_usd is not None
            owed, credit = _yearly_minimum_credit(
                rc, commitment.min_per_year_usd, rows, scenario.horizon.start
            )
        paid_by_year = (
            credit.groupby(_year(rows["month"])).sum() if len(rows) else pd.Series(dtype=np.float64)
        )
        paid = 0.0
        for y in years:
            paid += float(paid_by_year.get(y, 0.0))
            left = owed - paid
            out[y] += left if left > 1e-9 * owed else 0.0  # float residue of a fully paid commitment
    return out


def _yearly_minimum_credit(
    rc: ResolvedContract, min_per_year: float, rows: pd.DataFrame, h0: dt.date
) -> tuple[float, pd.Series]:
    """(the minimums owed from `h0` to term end, per ledger row what it paid toward them)."""
    owed = 0.0
    credit = pd.Series(0.0, index=rows.index, dtype=np.float64)
    for cy in contract_years(rc.start, rc.end):
        if cy.end < h0:
            continue
        minimum = min_per_year * ((cy.end - max(cy.start, h0)).days + 1) / cy.full_days
        owed += minimum
        sel = (rows["contract_year"] == cy.index).to_numpy() if len(rows) else np.zeros(0, dtype=bool)
        if not sel.any():
            continue
        counted = rows.loc[sel, "usage_cost_usd"].astype(np.float64).cumsum().clip(upper=minimum)
        credit[sel] = counted.diff().fillna(counted) + rows.loc[sel, "true_up_usd"].astype(np.float64)
    return owed, credit


def build_portfolio(
    ledger: pd.DataFrame,
    inference: pd.DataFrame,
    scenario: Scenario,
    catalog: Catalog,
    usage: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The `portfolio` table: per calendar year of the horizon and revenue scenario."""
    years = list(range(scenario.horizon.start.year, scenario.horizon.end.year + 1))
    spend = build_spend(ledger)
    led = ledger.assign(year=_year(ledger["month"])) if not ledger.empty else None
    spend_y = spend.groupby("year")["spend_usd"].sum() if not spend.empty else pd.Series(dtype=float)
    accr_y = spend.groupby("year")["accrued_cost_usd"].sum() if not spend.empty else pd.Series(dtype=float)
    power_y = led.groupby("year")["power_cost_usd"].sum() if led is not None else pd.Series(dtype=float)
    hhi_y: dict[int, float] = {}
    if not spend.empty:
        sq = spend.assign(sq=spend["share_pct"] ** 2).groupby("year")["sq"].sum()
        hhi_y = dict(zip(sq.index.to_numpy(np.int64).tolist(), sq.to_numpy(np.float64).tolist(), strict=True))
    tokens = tokens_served_by_year(inference, scenario)
    inf_cost = _inference_cost_by_year(ledger, inference, scenario, catalog, usage)
    remaining = remaining_commitments_by_year(ledger, scenario, catalog)
    scenarios: dict[str, RevenueScenario | None] = dict(scenario.finance.revenue_scenarios) or {
        NO_REVENUE: None
    }
    share = scenario.finance.inference_revenue_share
    run_case = scenario.finance.default_case
    fraction = {y: _year_fraction(scenario, y) for y in years}
    rows = []
    for name, rs in scenarios.items():
        cumulative = 0.0
        need = 0.0
        for y in years:
            s = float(spend_y.get(y, 0.0))
            p = float(power_y.get(y, 0.0))
            r = revenue(rs, y, scenario, tokens) if rs is not None else 0.0
            c = inf_cost.get(y, 0.0)
            attributed = r * share
            gap = s + p - r
            cumulative += gap
            need = max(need, cumulative)
            rows.append(
                {
                    "year": y,
                    "scenario": name,
                    "spend_usd": s,
                    "accrued_cost_usd": float(accr_y.get(y, 0.0)),
                    "power_cost_usd": p,
                    "hhi": hhi_y.get(y, float("nan")),
                    "revenue_usd": r,
                    "inference_cost_usd": c,
                    "inference_gross_margin_pct": 100.0 * (attributed - c) / attributed
                    if attributed > 0
                    else float("nan"),
                    "cash_gap_usd": gap,
                    "cumulative_funding_need_usd": need,
                    # a year's revenue at its annual rate: a horizon that covers two months of a year
                    # must not make the commitments look six times as many years of revenue
                    "years_of_revenue_to_cover": remaining[y] / (r / fraction[y]) if r > 0 else float("nan"),
                    "run_case": name == run_case,
                }
            )
    if not rows:
        return empty_table("portfolio")
    return check_table("portfolio", pd.DataFrame(rows))
