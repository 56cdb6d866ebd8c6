"""The monthly model: capacity from the ramps, and bills that are the finance ledger's."""

from __future__ import annotations

import numpy as np
import pytest

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
