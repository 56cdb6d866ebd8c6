"""The fluid model's biller against the ledger itself: same usage, same cash and unused commitment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gpufleet.aggregate.billing import usage_table
from gpufleet.aggregate.capacity import monthly_capacity
from gpufleet.aggregate.months import horizon_months
from gpufleet.finance.ledger import build_ledger
from gpufleet.risk.fluid_bill import ContractBiller
from gpufleet.scenario import load_scenario
from gpufleet.scenario.overrides import Editable, parse_override
from gpufleet.tables import empty_table


@pytest.mark.parametrize(
    "changes",
    [
        [],  # reserved, spend-commitment with monthly true-up, capacity blocks
        [  # period-end true-ups, a slip (pro-rated minimums), service credits
            "contracts.azure-gb200.billing={model: spend-commitment}",
            "contracts.azure-gb300.slip_months=5",
            "contracts.azure-gb300.billing={model: spend-commitment, service_credit_rate: 0.3}",
        ],
    ],
)
def test_biller_bills_random_usage_as_the_ledger_does(changes: list[str]) -> None:
    base = load_scenario(None)
    loaded = Editable.of(base).apply([parse_override(c) for c in changes])
    sc, cat = loaded.scenario, loaded.catalog
    months = horizon_months(sc.horizon)
    cap = monthly_capacity(sc, cat, months)
    rng = np.random.default_rng(3)
    billers = [ContractBiller(rc, next(c for c in sc.contracts if c.name == rc.name), sc, months)
               for rc in cap.timeline.contracts]  # fmt: skip
    used = {b.rc.name: b.capacity_hours() * rng.uniform(0.0, 1.0, months.count) for b in billers}
    ledger = build_ledger(usage_table(sc, cap, months, used), empty_table("series"), sc, cat)
    labels = {lab: i for i, lab in enumerate(months.labels)}
    for b in billers:
        mine = b.bill(used[b.rc.name])
        rows = ledger[ledger["contract"] == b.rc.name]
        m = np.array([labels[f"{t.year}-{t.month:02d}"] for t in pd.to_datetime(rows["month"], utc=True)])
        for col, ours in (("cost_due_usd", mine.cost_due), ("unused_commitment_usd", mine.unused)):
            theirs = np.bincount(m, weights=rows[col].to_numpy(np.float64), minlength=months.count)
            assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-3), (b.rc.name, col)
