"""Planned vs simulated: a stored plan's use and cash per contract and quarter beside a run's.

The plan's side is its base case billed by the ledger (plan/follow.py, kept in the store as
`plan_cash`); the run's is its own `usage` and `ledger` tables: the same contracts by name, since
`simulate --plan` signs the plan's options as contracts of the options' names.
"""

from __future__ import annotations

import pandas as pd

from gpufleet.store.plans import StoredPlan
from gpufleet.tables import RunTables

KEYS = ["contract", "provider", "quarter"]
COLUMNS = [*KEYS, "planned_gpu_hours", "simulated_gpu_hours", "planned_cash_usd", "simulated_cash_usd"]


def _quarter(month: pd.Series) -> pd.Series:
    t = month.dt.tz_convert("UTC")
    out: pd.Series = t.dt.year.astype(str) + "-Q" + ((t.dt.month - 1) // 3 + 1).astype(str)
    return out


def plan_vs_run(plan: StoredPlan, tables: RunTables) -> pd.DataFrame:
    """One row per contract and quarter: GPU-hours used and cash out, planned and simulated."""
    planned = plan.cash.groupby(KEYS, as_index=False).agg(
        planned_gpu_hours=("gpu_hours", "sum"), planned_cash_usd=("cash_usd", "sum")
    )
    usage = tables.usage.assign(quarter=_quarter(tables.usage["month"]))
    used = usage.groupby(KEYS, as_index=False).agg(simulated_gpu_hours=("gpu_hours_used", "sum"))
    ledger = tables.ledger.assign(quarter=_quarter(tables.ledger["month"]))
    cash = ledger.groupby(KEYS, as_index=False).agg(simulated_cash_usd=("cost_due_usd", "sum"))
    out = planned.merge(used, on=KEYS, how="outer").merge(cash, on=KEYS, how="outer")
    return out.fillna(0.0)[COLUMNS].sort_values(KEYS).reset_index(drop=True)


def totals(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """The comparison summed by `by` (contract, provider or quarter)."""
    return frame.groupby(by, as_index=False)[COLUMNS[3:]].sum()
