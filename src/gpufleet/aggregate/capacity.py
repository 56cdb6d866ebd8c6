"""Monthly capacity per cluster and facility power per site, from the daily capacity timeline
(fleet/capacity.py: the contracts' delivered ramps, slips and provider events)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gpufleet.aggregate.months import Months
from gpufleet.catalog import Catalog
from gpufleet.fleet.capacity import CapacityTimeline, build_capacity
from gpufleet.scenario.schema import Scenario

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MonthlyCapacity:
    """Per cluster and month: GPU-hours online, the fewest GPUs online on any day, and the contract."""

    timeline: CapacityTimeline
    gpu_hours: Floats  # (clusters, months)
    min_gpus: Floats  # (clusters, months): what a gang job can count on all month
    contract: tuple[tuple[str, ...], ...]  # (clusters, months): the contract holding most days, "" when none
    site_mw: dict[str, Floats]  # facility MW of the racks online, the month's peak day, per site


def monthly_capacity(scenario: Scenario, catalog: Catalog, months: Months) -> MonthlyCapacity:
    tl = build_capacity(scenario, catalog)
    gpus = tl.gpus.astype(np.float64)
    mw = tl.facility_mw
    n = len(tl.clusters)
    hours = np.zeros((n, months.count))
    low = np.zeros((n, months.count))
    holder: list[list[str]] = [[] for _ in range(n)]
    site_mw = {s.name: np.zeros(months.count) for s in scenario.sites}
    for m in range(months.count):
        sl = months.day_slice(m)
        hours[:, m] = gpus[:, sl].sum(axis=1) * 24.0
        low[:, m] = gpus[:, sl].min(axis=1)
        for i in range(n):
            k = np.bincount(tl.contract[i, sl] + 1, minlength=len(tl.contracts) + 1)
            best = int(np.argmax(k))
            holder[i].append(tl.contracts[best - 1].name if best > 0 else "")
        for s in site_mw:
            rows = [i for i, site in enumerate(tl.sites) if site == s]
            if rows:
                site_mw[s][m] = float(mw[rows][:, sl].sum(axis=0).max())
    return MonthlyCapacity(tl, hours, low, tuple(tuple(h) for h in holder), site_mw)
