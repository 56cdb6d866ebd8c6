"""Billing and cash per contract and month for a given allocation: the finance ledger on monthly usage.

No arithmetic of its own: the allocation becomes a `usage` table and the ledger (finance/ledger.py,
over finance/billing.py) bills it, so the monthly model and a simulated run bill the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from gpufleet.aggregate.capacity import MonthlyCapacity
from gpufleet.aggregate.months import Months
from gpufleet.catalog import Catalog
from gpufleet.finance.ledger import build_ledger
from gpufleet.scenario.schema import Scenario
from gpufleet.tables import check_table, empty_table

Floats = npt.NDArray[np.float64]

BILL_COLUMNS = ("cost_due_usd", "accrued_cost_usd", "unused_commitment_usd", "gpu_hours_used")


def contract_gpu_hours(cap: MonthlyCapacity, months: Months) -> dict[str, Floats]:
    """GPU-hours online per contract and month (from the daily timeline: a cluster can change hands)."""
    tl = cap.timeline
    gpus = tl.gpus.astype(np.float64)
    out = {rc.name: np.zeros(months.count) for rc in tl.contracts}
    for k, rc in enumerate(tl.contracts):
        held = np.where(tl.contract == k, gpus, 0.0).sum(axis=0) * 24.0
        for m in range(months.count):
            out[rc.name][m] = float(held[months.day_slice(m)].sum())
    return out


def usage_table(
    scenario: Scenario, cap: MonthlyCapacity, months: Months, used: Mapping[str, Floats]
) -> pd.DataFrame:
    """The `usage` table of an allocation: GPU-hours used per contract and month (class split left at 0)."""
    available = contract_gpu_hours(cap, months)
    kinds = {c.name: c.kind for c in scenario.contracts}
    providers = {c.name: c.provider for c in scenario.contracts}
    rows = []
    for name, hours in available.items():
        use = np.asarray(used.get(name, np.zeros(months.count)), dtype=np.float64)
        for m in range(months.count):
            rows.append(
                {
                    "contract": name,
                    "provider": providers[name],
                    "month": pd.Timestamp(dt.datetime.combine(months.first[m], dt.time()), tz="UTC"),
                    "gpu_hours_available": hours[m],
                    "gpu_hours_used": use[m],
                    "overflow_gpu_hours": use[m] if kinds[name] != "committed" else 0.0,
                }
            )
    frame = pd.DataFrame(rows) if rows else empty_table("usage")
    for col in ("gpu_hours_used_inference", "gpu_hours_used_training", "gpu_hours_used_research"):
        frame[col] = 0.0
    frame["gpu_hours_used_best_effort"] = 0.0
    return check_table("usage", frame)


def monthly_bill(
    scenario: Scenario,
    catalog: Catalog,
    cap: MonthlyCapacity,
    months: Months,
    used: Mapping[str, Floats],
) -> pd.DataFrame:
    """Per contract and month: cash due, cost accrued, unused commitment, GPU-hours used."""
    ledger = build_ledger(usage_table(scenario, cap, months, used), empty_table("series"), scenario, catalog)
    return ledger_by_month(ledger)


def ledger_by_month(ledger: pd.DataFrame) -> pd.DataFrame:
    """A ledger summed to one row per contract and month (a contract year ending mid-month gives two)."""
    out = ledger.groupby(["contract", "month"], as_index=False)[list(BILL_COLUMNS)].sum()
    return out.sort_values(["contract", "month"]).reset_index(drop=True)
