"""The monthly model: capacity from the ramps, and bills that are the finance ledger's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import SMALL

from gpufleet.aggregate.billing import ledger_by_month, monthly_bill, usage_table
from gpufleet.aggregate.capacity import monthly_capacity
from gpufleet.aggregate.months import horizon_months
from gpufleet.finance.ledger import build_ledger
from gpufleet.tables import empty_table
from tests.plan.tiny import HOURS, tiny


def test_months_cover_the_horizon() -> None:
    ls = tiny()
    months = horizon_months(ls.scenario.horizon)
    assert months.count == 12
    assert months.hours.sum() == HOURS


def test_capacity_is_the_ramp_in_gpu_hours() -> None:
    ls = tiny()
    months = horizon_months(ls.scenario.horizon)
    cap = monthly_capacity(ls.scenario, ls.catalog, months)
    assert cap.gpu_hours[0] == pytest.approx(720 * months.hours)
    assert set(cap.contract[0]) == {"k-aa"}


@pytest.mark.parametrize(
    ("billing", "commitment", "gpus", "hand"),
    [
        ("{model: reserved}", "", 100.0, 720 * HOURS * 2.0),  # capacity delivered, priced, used or not
        ("{model: spend-commitment}", "    commitment: {min_per_year_usd: 10000000.0}", 100.0, 10e6),
        (
            "{model: spend-commitment}",
            "    commitment: {min_per_year_usd: 1000000.0}",
            100.0,
            100 * HOURS * 2,
        ),
    ],
)
def test_bill_of_an_allocation_by_hand(billing: str, commitment: str, gpus: float, hand: float) -> None:
    ls = tiny(billing=billing, commitment=commitment)
    months = horizon_months(ls.scenario.horizon)
    cap = monthly_capacity(ls.scenario, ls.catalog, months)
    bill = monthly_bill(ls.scenario, ls.catalog, cap, months, {"k-aa": gpus * months.hours})
    assert bill["cost_due_usd"].sum() == pytest.approx(hand, rel=1e-9)
    assert bill["gpu_hours_used"].sum() == pytest.approx(gpus * HOURS)


def test_aggregate_bill_equals_the_ledger_on_the_same_usage() -> None:
    ls = tiny(billing="{model: spend-commitment}", commitment="    commitment: {min_per_year_usd: 5000000.0}")
    months = horizon_months(ls.scenario.horizon)
    cap = monthly_capacity(ls.scenario, ls.catalog, months)
    rng = np.random.default_rng(7)
    used = rng.uniform(0, 720, months.count) * months.hours
    ours = monthly_bill(ls.scenario, ls.catalog, cap, months, {"k-aa": used})
    usage = usage_table(ls.scenario, cap, months, {"k-aa": used})
    theirs = ledger_by_month(build_ledger(usage, empty_table("series"), ls.scenario, ls.catalog))
    assert np.allclose(ours["cost_due_usd"], theirs["cost_due_usd"])
    # and by hand: usage priced, the yearly minimum trued up at year end
    assert ours["cost_due_usd"].sum() == pytest.approx(max(5e6, used.sum() * 2.0))


def test_aggregate_bills_a_simulated_runs_usage_as_the_run_ledger_does() -> None:
    # independent of the monthly model's own arithmetic: the engine made the usage, the run billed it
    from gpufleet.pipeline import run_scenario
    from gpufleet.scenario.load import load_scenario_file

    loaded = load_scenario_file(SMALL)
    tables = run_scenario(loaded).tables
    sc, cat = loaded.scenario, loaded.catalog
    months = horizon_months(sc.horizon)
    cap = monthly_capacity(sc, cat, months)
    usage = tables.usage
    labels = [f"{t.year}-{t.month:02d}" for t in pd.to_datetime(usage["month"], utc=True)]
    hours = np.maximum(usage["gpu_hours_used"].to_numpy(), usage["overflow_gpu_hours"].to_numpy())
    used: dict[str, np.ndarray] = {}
    for name, label, h in zip(usage["contract"], labels, hours, strict=True):
        used.setdefault(str(name), np.zeros(months.count))[months.labels.index(label)] += h
    ours = monthly_bill(sc, cat, cap, months, used)
    theirs = ledger_by_month(tables.ledger)
    assert len(ours) == len(theirs) and ours["cost_due_usd"].sum() > 0
    assert np.allclose(ours["cost_due_usd"], theirs["cost_due_usd"], rtol=1e-9, atol=1e-3)
    assert np.allclose(ours["gpu_hours_used"], theirs["gpu_hours_used"], rtol=1e-9)
