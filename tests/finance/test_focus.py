"""FOCUS 1.2 export: the required columns and their types, one row per contract, month and charge kind,
and BilledCost that reconciles with the ledger."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from finance.test_ledger import GPUS, monthly, scenario, usage_frame
from gpufleet.finance.focus import CHARGE_KINDS, FOCUS_COLUMNS, FOCUS_MANDATORY, build_focus
from gpufleet.finance.ledger import build_ledger
from gpufleet.scenario import LoadedScenario
from gpufleet.tables import empty_table

# FOCUS 1.2 mandatory columns, listed here from the specification (not from the code under test)
SPEC_MANDATORY = {
    "BilledCost": "Decimal",
    "BillingAccountId": "String",
    "BillingAccountName": "String",
    "BillingCurrency": "String",
    "BillingPeriodEnd": "DateTime",
    "BillingPeriodStart": "DateTime",
    "ChargeCategory": "String",
    "ChargeClass": "String",
    "ChargeDescription": "String",
    "ChargePeriodEnd": "DateTime",
    "ChargePeriodStart": "DateTime",
    "ContractedCost": "Decimal",
    "EffectiveCost": "Decimal",
    "InvoiceIssuerName": "String",
    "ListCost": "Decimal",
    "PricingQuantity": "Decimal",
    "PricingUnit": "String",
    "ProviderName": "String",
    "PublisherName": "String",
    "ServiceCategory": "String",
    "ServiceName": "String",
}
PANDAS_TYPE = {"Decimal": "float64", "String": "string", "DateTime": "datetime64[us, UTC]"}


@pytest.fixture(scope="module")
def case() -> tuple[LoadedScenario, pd.DataFrame, pd.DataFrame]:
    """A take-or-pay contract used at 60% over a mid-month term, with capacity-block overflow."""
    minimum = GPUS * 8760 * 4.0
    loaded = scenario(
        "2025-01-01", "2026-06-30", "2025-01-10", "2026-01-09", f"{{min_per_year_usd: {minimum}}}"
    )
    rows = monthly("tp", dt.date(2025, 1, 10), dt.date(2026, 1, 9), GPUS * 24.0, 0.6)
    rows += [("blocks", "2025-03-01", 144 * 24 * 31.0, 500.0), ("blocks", "2025-04-01", 144 * 24 * 30.0, 0.0)]
    usage = usage_frame(rows)
    usage.loc[usage["contract"] == "blocks", "overflow_gpu_hours"] = usage["gpu_hours_used"]
    ledger = build_ledger(usage, empty_table("series"), loaded.scenario, loaded.catalog)
    return loaded, ledger, build_focus(ledger, loaded.scenario, loaded.catalog)


def test_required_columns_and_types(case: tuple[LoadedScenario, pd.DataFrame, pd.DataFrame]) -> None:
    _, _, focus = case
    assert set(FOCUS_MANDATORY) == set(SPEC_MANDATORY)
    for col, kind in SPEC_MANDATORY.items():
        assert col in focus.columns, col
        assert str(focus[col].dtype) == PANDAS_TYPE[kind], col
    assert list(focus.columns) == list(FOCUS_COLUMNS)
    non_null = [c for c in SPEC_MANDATORY if c != "ChargeClass"]  # ChargeClass: null unless a correction
    assert not focus[non_null].isna().any().any()
    assert focus["ChargeClass"].isna().all()
    assert set(focus["BillingCurrency"]) == {"USD"}
    assert set(focus["ChargeCategory"]) <= {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
    assert set(focus["ServiceCategory"]) == {"Compute"}
    assert (focus["ChargePeriodStart"] < focus["ChargePeriodEnd"]).all()
    assert (focus["BillingPeriodStart"] <= focus["ChargePeriodStart"]).all()
    assert (focus["ChargePeriodEnd"] <= focus["BillingPeriodEnd"]).all()
    assert (focus["BillingPeriodStart"].dt.day == 1).all()


def test_one_row_per_contract_month_and_kind(case: tuple[LoadedScenario, pd.DataFrame, pd.DataFrame]) -> None:
    _, _, focus = case
    assert {"usage", "unused-commitment", "overflow"} <= set(focus["x_ChargeKind"]) <= set(CHARGE_KINDS)
    assert not focus.duplicated(["ResourceId", "BillingPeriodStart", "x_ChargeKind"]).any()
    unused = focus[(focus["x_ChargeKind"] == "unused-commitment") & (focus["BilledCost"] != 0)]
    assert len(unused) == 1  # the one true-up billed, at the contract year's end (January 2026)
    row = unused.iloc[0]
    assert row["CommitmentDiscountStatus"] == "Unused"
    assert row["BillingPeriodStart"] == pd.Timestamp("2026-01-01", tz="UTC")
    assert row["BilledCost"] == pytest.approx(0.4 * GPUS * 8760 * 4.0)
    used = focus[focus["x_ChargeKind"] == "usage"]
    assert (used["CommitmentDiscountStatus"] == "Used").all()
    assert (used["PricingQuantity"] == used["ConsumedQuantity"]).all()
    assert used["ContractedCost"].to_numpy() == pytest.approx(used["PricingQuantity"].to_numpy() * 4.0)
    first = used.iloc[0]  # the term starts on 10 January: the charge period too
    assert first["ChargePeriodStart"] == pd.Timestamp("2025-01-10", tz="UTC")
    overflow = focus[focus["x_ChargeKind"] == "overflow"]
    assert len(overflow) == 1  # April's zero use has no row
    assert overflow["CommitmentDiscountId"].isna().all()
    assert overflow.iloc[0]["PricingCategory"] == "Standard"


def test_billed_cost_reconciles_with_the_ledger(
    case: tuple[LoadedScenario, pd.DataFrame, pd.DataFrame],
) -> None:
    _, ledger, focus = case
    billed = focus.groupby(["ResourceName", "BillingPeriodStart"])["BilledCost"].sum()
    due = ledger.groupby(["contract", "month"])["cost_due_usd"].sum()
    billed.index = billed.index.set_names(["contract", "month"])
    joined = pd.concat([due, billed.rename("billed")], axis=1).fillna(0.0)
    assert len(joined) == len(due)  # no FOCUS row outside the ledger's contract-months
    assert joined["billed"].to_numpy() == pytest.approx(joined["cost_due_usd"].to_numpy())
    # EffectiveCost is the accrued cost: the shortfall recognized month by month, billed at the year's end
    effective = focus.groupby(["ResourceName", "BillingPeriodStart"])["EffectiveCost"].sum()
    accrued = ledger.groupby(["contract", "month"])["accrued_cost_usd"].sum()
    effective.index = effective.index.set_names(["contract", "month"])
    both = pd.concat([accrued, effective.rename("effective")], axis=1).fillna(0.0)
    assert both["effective"].to_numpy() == pytest.approx(both["accrued_cost_usd"].to_numpy())
    assert focus["EffectiveCost"].sum() == pytest.approx(focus["BilledCost"].sum())  # the year is closed
