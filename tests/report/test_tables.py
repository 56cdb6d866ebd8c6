"""The report's tables: contracts as the engine resolved them, cash by year from finance's tables."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import SMALL

from gpufleet.pipeline import run_scenario
from gpufleet.report.context import run_context
from gpufleet.report.html import render_report
from gpufleet.report.tables_html import cash_by_year, cell_text, report_tables
from gpufleet.scenario import load_scenario


def test_contracts_at_full_ramp_match_the_engine_and_the_report_has_every_table() -> None:
    loaded = load_scenario(SMALL)
    result = run_scenario(loaded)
    ctx = run_context(loaded.scenario, loaded.catalog)
    contracts = ctx.contracts
    assert contracts is not None
    by = contracts.set_index("contract")
    # small.yaml: azure-main ramps to 16 NVL72 domains; aws-blocks is a capacity block capped at 144 GPUs
    assert by.loc["azure-main", "gpus_full_ramp"] == 16 * 72
    assert by.loc["aws-blocks", "gpus_full_ramp"] == 144
    assert by.loc["azure-main", "commitment_min_per_year_usd"] == 250e6
    assert by.loc["aws-main", "price_per_gpu_hour_usd"] == 3.0
    # both committed ramps reach full size inside the horizon: the engine's capacity then is the same
    s = result.tables.series
    peak = s.groupby(["contract", "time"])["capacity_gpus"].sum().groupby("contract").max()
    for name in ("aws-main", "azure-main"):
        assert by.loc[name, "gpus_full_ramp"] == peak[name]
    ids = [t.id for t in report_tables(result.tables, ctx)]
    assert ids == ["contracts", "training", "unmet", "ledger", "cash", "funding"]
    page = render_report(result.meta, result.tables, context=ctx)
    for table_id in ids:
        assert f'data-table="{table_id}"' in page
    assert '<td data-col="gpus_full_ramp">1,152</td>' in page


def test_cash_by_year_sums_the_spend_table_and_prefers_cash_out() -> None:
    spend = pd.DataFrame(
        {
            "year": [2026, 2026, 2027],
            "provider": ["aws", "azure", "aws"],
            "spend_usd": [1e9, 2e9, 3e9],
        }
    )
    cash = cash_by_year(spend).set_index("year")
    assert cash.loc[2026, "total_usd"] == 3e9 and cash.loc[2027, "azure_usd"] == 0.0
    with_cash = spend.assign(cash_out_usd=[5.0, 6.0, 7.0])  # a column finance may add: it is the one shown
    assert cash_by_year(with_cash).set_index("year").loc[2026, "total_usd"] == 11.0


@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("cost_due_usd", -1.87e9, "−$1.87B"),
        ("price_per_gpu_hour_usd", 3.0, "$3.00"),
        ("utilization_pct", 85.46, "85.5%"),
        ("gpu_hours_used", 2.5e6, "2.50M"),
        ("first_month", pd.Timestamp("2026-03-01", tz="UTC"), "2026-03"),
        ("take_or_pay", True, "yes"),
        ("commitment_total_usd", float("nan"), "–"),
        ("contract_year", 3, "3"),
    ],
)
def test_cells_read_in_their_unit(column: str, value: object, text: str) -> None:
    assert cell_text(column, value) == text
