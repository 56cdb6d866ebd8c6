"""The ledger as FOCUS 1.2 cost rows (FinOps Open Cost and Usage Specification), so FinOps tools read
gpufleet's output as they read a cloud bill: one row per contract, month and charge kind.

Charge kinds: `usage` (GPU-hours used on a committed contract, at its price), `unused-commitment` (a
take-or-pay true-up: the minimum not reached by usage) and `overflow` (GPU-hours on an on-demand or
capacity-block contract, at its price). A kind with nothing to bill in a month has no row. BilledCost
summed per contract and month equals the ledger's cost_due_usd. Power bought apart from the
GPU-hour price is a utility bill, not a cloud charge: it stays in the ledger, not here.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from gpufleet.catalog import Catalog
from gpufleet.scenario.ramp import resolve_contracts
from gpufleet.scenario.schema import Scenario
from gpufleet.tables import TIME

FOCUS_VERSION = "1.2"
GPU_HOURS = "GPU-Hours"

# The columns FOCUS 1.2 makes mandatory (feature level "Mandatory"): every dataset has them.
FOCUS_MANDATORY: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
)

_S, _D, _T = "string", "float64", TIME
# Every column written, with its type: FOCUS String, Decimal and DateTime; x_ columns are gpufleet's own.
FOCUS_COLUMNS: dict[str, str] = {
    "BilledCost": _D,
    "BillingAccountId": _S,
    "BillingAccountName": _S,
    "BillingAccountType": _S,
    "BillingCurrency": _S,
    "BillingPeriodEnd": _T,
    "BillingPeriodStart": _T,
    "CapacityReservationId": _S,
    "CapacityReservationStatus": _S,
    "ChargeCategory": _S,
    "ChargeClass": _S,
    "ChargeDescription": _S,
    "ChargeFrequency": _S,
    "ChargePeriodEnd": _T,
    "ChargePeriodStart": _T,
    "CommitmentDiscountCategory": _S,
    "CommitmentDiscountId": _S,
    "CommitmentDiscountName": _S,
    "CommitmentDiscountQuantity": _D,
    "CommitmentDiscountStatus": _S,
    "CommitmentDiscountType": _S,
    "CommitmentDiscountUnit": _S,
    "ConsumedQuantity": _D,
    "ConsumedUnit": _S,
    "ContractedCost": _D,
    "ContractedUnitPrice": _D,
    "EffectiveCost": _D,
    "InvoiceId": _S,
    "InvoiceIssuerName": _S,
    "ListCost": _D,
    "ListUnitPrice": _D,
    "PricingCategory": _S,
    "PricingQuantity": _D,
    "PricingUnit": _S,
    "ProviderName": _S,
    "PublisherName": _S,
    "RegionId": _S,
    "RegionName": _S,
    "ResourceId": _S,
    "ResourceName": _S,
    "ResourceType": _S,
    "ServiceCategory": _S,
    "ServiceName": _S,
    "SkuId": _S,
    "Tags": _S,
    "x_ChargeKind": _S,
    "x_ContractYears": _S,
    "x_GpuHoursAvailable": _D,
    "x_Scenario": _S,
}

CHARGE_KINDS: tuple[str, ...] = ("usage", "unused-commitment", "prepayment", "service-credit", "overflow")


def _month_end(start: pd.Timestamp) -> pd.Timestamp:
    return start + pd.offsets.MonthBegin(1)


def build_focus(ledger: pd.DataFrame, scenario: Scenario, catalog: Catalog) -> pd.DataFrame:
    """FOCUS 1.2 rows from the ledger: columns and types as FOCUS_COLUMNS."""
    contracts = {rc.name: rc for rc in resolve_contracts(scenario, catalog)}
    commitments = {c.name: c.commitment for c in scenario.contracts}
    site_of = {c.name: c.site for c in scenario.clusters}
    region = {s.name: s.region for s in scenario.sites}
    h_start = pd.Timestamp(scenario.horizon.start, tz="UTC")
    h_end = pd.Timestamp(scenario.horizon.end + dt.timedelta(days=1), tz="UTC")
    rows: list[dict[str, object]] = []
    if ledger.empty:
        return _typed(pd.DataFrame({c: [] for c in FOCUS_COLUMNS}))
    sums = [
        "gpu_hours_available",
        "gpu_hours_used",
        "usage_cost_usd",
        "true_up_usd",
        "cost_due_usd",
        "accrued_cost_usd",
        "prepaid_usd",
        "service_credit_usd",
    ]
    grouped = ledger.groupby(["contract", "month"], sort=False)
    monthly = grouped[sums].sum()
    year_list = grouped["contract_year"].agg(lambda s: ",".join(str(int(v)) for v in sorted(set(s)) if v > 0))
    for m, years in zip(monthly.reset_index().to_dict("records"), year_list.tolist(), strict=True):
        name = str(m["contract"])
        month = m["month"]
        rc = contracts[name]
        commitment = commitments[name]
        price = rc.price_per_gpu_hour_usd
        listed = catalog.list_price(rc.product.id)
        list_price = listed.usd_per_gpu_hour if listed else price
        bp_start = pd.Timestamp(month).tz_convert("UTC")
        bp_end = _month_end(bp_start)
        term_start = pd.Timestamp(rc.start, tz="UTC")
        term_end = pd.Timestamp(rc.end + dt.timedelta(days=1), tz="UTC")
        cp_start, cp_end = max(bp_start, h_start), min(bp_end, h_end)
        if rc.kind == "committed":
            cp_start, cp_end = max(cp_start, term_start), min(cp_end, term_end)
            if cp_end <= cp_start:  # usage outside the term: the month's part in the horizon
                cp_start, cp_end = max(bp_start, h_start), min(bp_end, h_end)
        commit_id = f"{rc.provider}/{rc.name}/commitment" if commitment is not None else None
        reservation_id = f"{rc.provider}/{rc.name}" if rc.kind == "committed" else None
        base: dict[str, object] = {
            "BillingAccountId": f"{rc.provider}/{scenario.name}",
            "BillingAccountName": f"{scenario.name} at {rc.provider}",
            "BillingAccountType": "Billing Account",
            "BillingCurrency": "USD",
            "BillingPeriodStart": bp_start,
            "BillingPeriodEnd": bp_end,
            "ChargePeriodStart": cp_start,
            "ChargePeriodEnd": cp_end,
            "ChargeClass": None,
            "InvoiceId": f"{rc.provider}-{scenario.name}-{bp_start:%Y%m}",
            "InvoiceIssuerName": rc.provider,
            "ProviderName": rc.provider,
            "PublisherName": rc.provider,
            "RegionId": region.get(site_of.get(rc.clusters[0], "")),
            "RegionName": region.get(site_of.get(rc.clusters[0], "")),
            "ResourceId": f"{rc.provider}/{rc.name}",
            "ResourceName": rc.name,
            "ResourceType": f"{rc.kind} GPU capacity",
            "ServiceCategory": "Compute",
            "ServiceName": rc.product.id,
            "SkuId": rc.product.id,
            "PricingUnit": GPU_HOURS,
            "ContractedUnitPrice": price,
            "x_ContractYears": years,
            "x_GpuHoursAvailable": float(m["gpu_hours_available"]),
            "x_Scenario": scenario.name,
        }
        used = float(m["gpu_hours_used"])
        true_up, prepaid = float(m["true_up_usd"]), float(m["prepaid_usd"])
        credit, accrued = float(m["service_credit_usd"]), float(m["accrued_cost_usd"])
        billed_usage = float(m["cost_due_usd"]) - true_up - prepaid + credit
        # EffectiveCost adds up to the accrued cost: the usage row carries a prepaid contract's
        # recognized cost, the unused row a commitment shortfall recognized before it is billed
        effective_usage = accrued + credit if rc.billing == "prepaid" else billed_usage
        effective_unused = 0.0 if rc.billing == "prepaid" else accrued + credit - billed_usage
        if rc.kind == "committed" and (used > 0 or abs(effective_usage) > 1e-9):
            cost = billed_usage
            rows.append(
                base
                | _commitment_cols(commit_id, rc.name, "Used", float(m["usage_cost_usd"]))
                | _gpu_hours_charge(used, price, list_price, cost)
                | {
                    "EffectiveCost": effective_usage,
                    "x_ChargeKind": "usage",
                    "ChargeDescription": f"{used:,.0f} GPU-hours of {rc.product.id} at ${price:g} per "
                    f"GPU-hour under contract {rc.name}",
                    "CapacityReservationId": reservation_id,
                    "CapacityReservationStatus": "Used",
                    "PricingCategory": "Committed" if commitment is not None else "Standard",
                }
            )
        if rc.kind == "committed" and (abs(true_up) > 1e-9 or abs(effective_unused) > 1e-9):
            quantity = true_up / price
            rows.append(
                base
                | _commitment_cols(commit_id, rc.name, "Unused", true_up)
                | {
                    "x_ChargeKind": "unused-commitment",
                    "ChargeCategory": "Usage",
                    "ChargeFrequency": "Recurring",
                    "ChargeDescription": f"{rc.billing} charge of contract {rc.name} (contract year "
                    f"{years}) beyond usage: "
                    + ("capacity delivered, not used" if rc.billing == "reserved" else "minimum not reached"),
                    "CapacityReservationId": reservation_id,
                    "CapacityReservationStatus": "Unused",
                    "PricingCategory": "Committed",
                    "PricingQuantity": quantity,
                    "ConsumedQuantity": None,
                    "ConsumedUnit": None,
                    "ListUnitPrice": price,
                    "ListCost": true_up,
                    "ContractedCost": true_up,
                    "EffectiveCost": effective_unused,
                    "BilledCost": true_up,
                }
            )
        for kind, amount, category in (
            ("prepayment", prepaid, "Purchase"),
            ("service-credit", -credit, "Credit"),
        ):
            if abs(amount) <= 1e-9:
                continue
            rows.append(
                base
                | _commitment_cols(commit_id, rc.name, None, amount)
                | {
                    "x_ChargeKind": kind,
                    "ChargeCategory": category,
                    "ChargeFrequency": "One-Time",
                    "ChargeDescription": f"{kind} on contract {rc.name}"
                    + (" (stated payment)" if kind == "prepayment" else " for capacity not delivered"),
                    "CapacityReservationId": reservation_id,
                    "CapacityReservationStatus": None,
                    "PricingCategory": "Committed",
                    "PricingQuantity": None,
                    "ConsumedQuantity": None,
                    "ConsumedUnit": None,
                    "ListUnitPrice": price,
                    "ListCost": amount,
                    "ContractedCost": amount,
                    "EffectiveCost": 0.0 if kind == "prepayment" else amount,
                    "BilledCost": amount,
                }
            )
        if rc.kind != "committed" and used > 0:
            cost = float(m["cost_due_usd"])
            rows.append(
                base
                | _commitment_cols(None, rc.name, None, None)
                | _gpu_hours_charge(used, price, list_price, cost)
                | {
                    "x_ChargeKind": "overflow",
                    "ChargeDescription": f"{used:,.0f} GPU-hours of {rc.product.id} overflow on {rc.kind} "
                    f"contract {rc.name} at ${price:g} per GPU-hour",
                    "CapacityReservationId": None,
                    "CapacityReservationStatus": None,
                    "PricingCategory": "Standard",
                }
            )
    return _typed(pd.DataFrame(rows, columns=list(FOCUS_COLUMNS)))


def _gpu_hours_charge(used: float, price: float, list_price: float, cost: float) -> dict[str, object]:
    """The columns of a charge for GPU-hours used (committed usage and overflow alike)."""
    return {
        "ChargeCategory": "Usage",
        "ChargeFrequency": "Usage-Based",
        "PricingQuantity": used,
        "ConsumedQuantity": used,
        "ConsumedUnit": GPU_HOURS,
        "ListUnitPrice": list_price,
        "ListCost": used * list_price,
        "ContractedCost": used * price,
        "EffectiveCost": cost,
        "BilledCost": cost,
    }


def _commitment_cols(
    commit_id: str | None, contract: str, status: str | None, quantity: float | None
) -> dict[str, object]:
    if commit_id is None:
        return {
            "CommitmentDiscountCategory": None,
            "CommitmentDiscountId": None,
            "CommitmentDiscountName": None,
            "CommitmentDiscountQuantity": None,
            "CommitmentDiscountStatus": None,
            "CommitmentDiscountType": None,
            "CommitmentDiscountUnit": None,
            "Tags": json.dumps({"gpufleet-contract": contract}),
        }
    return {
        "CommitmentDiscountCategory": "Spend",
        "CommitmentDiscountId": commit_id,
        "CommitmentDiscountName": f"{contract} take-or-pay commitment",
        "CommitmentDiscountQuantity": quantity,
        "CommitmentDiscountStatus": status,
        "CommitmentDiscountType": "Take-or-pay spend commitment",
        "CommitmentDiscountUnit": "USD",
        "Tags": json.dumps({"gpufleet-contract": contract}),
    }


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reindex(columns=list(FOCUS_COLUMNS))
    for col, dtype in FOCUS_COLUMNS.items():
        if dtype == _T:
            out[col] = pd.to_datetime(out[col], utc=True).astype(_T)  # type: ignore[call-overload]
        elif dtype == _D:
            out[col] = pd.to_numeric(out[col]).astype(np.float64)
        else:
            out[col] = out[col].astype("string")
    return out.reset_index(drop=True)
