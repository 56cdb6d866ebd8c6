"""Finance: the contract ledger, spend and portfolio by year, the deal calculator and the FOCUS export."""

from __future__ import annotations

from dataclasses import replace

from gpufleet.catalog import Catalog
from gpufleet.finance.deal import Deal, DealPoint, amount_for, evaluate_deal, gpus_for, price_for
from gpufleet.finance.focus import FOCUS_COLUMNS, FOCUS_MANDATORY, build_focus
from gpufleet.finance.ledger import ContractYear, build_ledger, contract_years
from gpufleet.finance.portfolio import build_portfolio, build_spend
from gpufleet.scenario.schema import Scenario
from gpufleet.tables import RunTables


def compute_finance(tables: RunTables, scenario: Scenario, catalog: Catalog) -> RunTables:
    """The run's tables with ledger, spend and portfolio computed from its usage, series and inference."""
    ledger = build_ledger(tables.usage, tables.series, scenario, catalog)
    return replace(
        tables,
        ledger=ledger,
        spend=build_spend(ledger),
        portfolio=build_portfolio(ledger, tables.inference, scenario, catalog, usage=tables.usage),
    )


__all__ = [
    "FOCUS_COLUMNS",
    "FOCUS_MANDATORY",
    "ContractYear",
    "Deal",
    "DealPoint",
    "amount_for",
    "build_focus",
    "build_ledger",
    "build_portfolio",
    "build_spend",
    "compute_finance",
    "contract_years",
    "evaluate_deal",
    "gpus_for",
    "price_for",
]
