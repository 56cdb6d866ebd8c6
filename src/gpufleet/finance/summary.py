"""The ledger summed per contract and contract year: what was committed, used, left unused and paid."""

from __future__ import annotations

import numpy as np
import pandas as pd

SUMMARY_COLUMNS: tuple[str, ...] = (
    "contract",
    "provider",
    "kind",
    "billing",
    "contract_year",
    "first_month",
    "last_month",
    "gpu_hours_available",
    "gpu_hours_unusable",
    "gpu_hours_used",
    "utilization_pct",
    "committed_usd",
    "used_commitment_usd",
    "unused_commitment_usd",
    "structural_unused_usd",
    "demand_unused_usd",
    "behind_plan_usd",
    "cost_due_usd",
    "accrued_cost_usd",
    "undelivered_usd",
    "service_credit_usd",
    "overflow_cost_usd",
    "power_cost_usd",
)


def contract_year_summary(ledger: pd.DataFrame) -> pd.DataFrame:
    """One row per contract and contract year (0: outside the term).

    committed_usd is the year's minimum where the contract has one, else its plan (the commitment spread
    in proportion to capacity online); used_commitment_usd the usage cost that counts against it (at most
    the commitment); unused_commitment_usd what the true-ups booked (reserved: capacity paid for and
    idle), split into structural_unused_usd (the delivered capacity, priced, could never reach it) and
    demand_unused_usd (capacity there and unused); behind_plan_usd how far usage cost fell short of the
    plan (a total commitment's shortfall is booked only at term end); cost_due_usd is cash out (billed),
    accrued_cost_usd the cost recognized.
    """
    if ledger.empty:
        return pd.DataFrame({c: [] for c in SUMMARY_COLUMNS})
    order = {name: i for i, name in enumerate(dict.fromkeys(ledger["contract"].astype(str)))}
    g = ledger.groupby(["contract", "provider", "kind", "billing", "contract_year"], sort=False)
    out = g.agg(
        first_month=("month", "min"),
        last_month=("month", "max"),
        gpu_hours_available=("gpu_hours_available", "sum"),
        gpu_hours_unusable=("gpu_hours_unusable", "sum"),
        gpu_hours_used=("gpu_hours_used", "sum"),
        minimum=("minimum_accrued_usd", "sum"),
        plan=("plan_usd", "sum"),
        usage_cost=("usage_cost_usd", "sum"),
        unused_commitment_usd=("unused_commitment_usd", "sum"),
        structural_unused_usd=("structural_unused_usd", "sum"),
        demand_unused_usd=("demand_unused_usd", "sum"),
        cost_due_usd=("cost_due_usd", "sum"),
        accrued_cost_usd=("accrued_cost_usd", "sum"),
        undelivered_usd=("undelivered_usd", "sum"),
        service_credit_usd=("service_credit_usd", "sum"),
        overflow_cost_usd=("overflow_cost_usd", "sum"),
        power_cost_usd=("power_cost_usd", "sum"),
    ).reset_index()
    avail = out["gpu_hours_available"].to_numpy(np.float64)
    used = out["gpu_hours_used"].to_numpy(np.float64)
    util = np.full(len(out), np.nan)
    np.divide(100.0 * used, avail, out=util, where=avail > 0)
    out["utilization_pct"] = util
    minimum = out["minimum"].to_numpy(np.float64)
    plan = out["plan"].to_numpy(np.float64)
    usage_cost = out["usage_cost"].to_numpy(np.float64)
    committed = np.where(minimum > 0, minimum, plan)
    out["committed_usd"] = committed
    out["used_commitment_usd"] = np.minimum(usage_cost, committed)
    out["behind_plan_usd"] = np.maximum(plan - usage_cost, 0.0)
    out["_order"] = out["contract"].astype(str).map(order)
    out["_year"] = out["contract_year"].where(out["contract_year"] > 0, 10**6)
    out = out.sort_values(["_order", "_year"]).reset_index(drop=True)
    return out.loc[:, list(SUMMARY_COLUMNS)]


def funding_peaks(portfolio: pd.DataFrame) -> pd.DataFrame:
    """Per revenue scenario: the peak of cumulative funding need (cash out + power - revenue, summed
    year by year), its amount and the first year it is reached; 0 and no year when never positive."""
    rows = []
    for name, g in portfolio.groupby("scenario", sort=False):
        g = g.sort_values("year")
        running = (g["cash_gap_usd"]).cumsum().to_numpy(np.float64)
        peak = float(max(running.max(initial=0.0), 0.0))
        year = int(g["year"].to_numpy()[int(np.argmax(running))]) if peak > 0 else None
        rows.append({"scenario": str(name), "peak_funding_need_usd": peak, "peak_year": year})
    out = pd.DataFrame(rows, columns=["scenario", "peak_funding_need_usd", "peak_year"])
    out["peak_year"] = out["peak_year"].astype("Int64")
    return out


def cash_and_cost_by_year(spend: pd.DataFrame) -> pd.DataFrame:
    """Per calendar year and provider: cash out (billed) and accrued cost, with a `total` provider."""
    cols = ["year", "provider", "cash_out_usd", "accrued_cost_usd"]
    if spend.empty:
        return pd.DataFrame({c: [] for c in cols})
    out = spend.rename(columns={"spend_usd": "cash_out_usd"})[cols]
    total = out.groupby("year", as_index=False)[["cash_out_usd", "accrued_cost_usd"]].sum()
    total["provider"] = "total"
    return pd.concat([out, total[cols]], ignore_index=True).sort_values(["year"], kind="stable")


def unused_split(ledger: pd.DataFrame) -> dict[str, float]:
    """Unused commitment over the ledger, and its structural and demand parts."""
    return {
        c: float(ledger[c].sum()) if len(ledger) else 0.0
        for c in ("unused_commitment_usd", "structural_unused_usd", "demand_unused_usd")
    }
