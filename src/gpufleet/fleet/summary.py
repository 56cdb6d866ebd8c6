"""Capacity by provider and quarter: GPUs online, facility power, and the capacity priced at its contracts.

Only usable capacity counts as online: a pool that no workload may use (fleet/usable.py) is reported
in its own column, so it is neither online nor idle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpufleet.catalog import Catalog
from gpufleet.fleet.capacity import CapacityTimeline


@dataclass(frozen=True, slots=True)
class QuarterRow:
    provider: str
    quarter: str  # "2026Q3"
    gpus_online_end: int  # on the quarter's last simulated day
    gpus_online_avg: float
    facility_mw_avg: float
    gpu_hours: float
    contract_value_usd: float  # GPU-hours x the holding contract's price: what the capacity costs
    list_value_usd: float  # listed GPU-hours x list price (never mixed with contract prices)
    unlisted_gpu_hours: float  # GPU-hours of products without a list price (not in list_value_usd)
    unusable_gpu_hours: float = 0.0  # online, but no workload may use it (not counted above)


def quarterly_capacity(
    tl: CapacityTimeline, catalog: Catalog, usable: frozenset[str] | None = None
) -> list[QuarterRow]:
    """Per provider and quarter; `usable` names the contracts some workload may use (default: all)."""
    days = np.arange(tl.days)
    dates = [tl.date(int(d)) for d in days]
    quarter_of = np.array([f"{d.year}Q{(d.month - 1) // 3 + 1}" for d in dates])
    apart = np.zeros(tl.contract.shape, dtype=bool)
    for k, rc in enumerate(tl.contracts):
        if usable is not None and rc.name not in usable:
            apart |= tl.contract == k
    unusable = np.where(apart, tl.gpus, 0)
    gpus = np.where(apart, 0, tl.gpus)
    mw = np.where(apart, 0.0, tl.facility_mw)
    # $ per GPU-hour per cluster and day: the holding contract's price, and the product's list price (0: none)
    price = np.zeros(gpus.shape)
    list_price = np.zeros(gpus.shape)
    listed = np.zeros(gpus.shape, dtype=bool)
    for k, rc in enumerate(tl.contracts):
        lp = catalog.list_price(rc.product.id)
        mask = tl.contract == k
        price[mask] = rc.price_per_gpu_hour_usd
        list_price[mask] = lp.usd_per_gpu_hour if lp else 0.0
        listed[mask] = lp is not None
    rows = []
    for provider in dict.fromkeys(tl.providers):
        sel = np.array([p == provider for p in tl.providers])
        for q in dict.fromkeys(quarter_of):
            cols = quarter_of == q
            g = gpus[np.ix_(sel, cols)]
            hours = g * 24.0
            rows.append(
                QuarterRow(
                    provider=provider,
                    quarter=str(q),
                    gpus_online_end=int(g[:, -1].sum()),
                    gpus_online_avg=float(g.sum(axis=0).mean()),
                    facility_mw_avg=float(mw[np.ix_(sel, cols)].sum(axis=0).mean()),
                    gpu_hours=float(hours.sum()),
                    contract_value_usd=float((hours * price[np.ix_(sel, cols)]).sum()),
                    list_value_usd=float((hours * list_price[np.ix_(sel, cols)]).sum()),
                    unlisted_gpu_hours=float((hours * ~listed[np.ix_(sel, cols)]).sum()),
                    unusable_gpu_hours=float(unusable[np.ix_(sel, cols)].sum() * 24.0),
                )
            )
    return rows
