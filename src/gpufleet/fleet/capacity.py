"""Capacity over time: domains online per cluster and day, from the contracts' ramps and terms.

Arrays of shape (clusters, days), never an object per GPU or per domain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gpufleet.catalog import Catalog
from gpufleet.scenario.ramp import ResolvedContract, cluster_ramps, resolve_contracts
from gpufleet.scenario.schema import Scenario


@dataclass(frozen=True)
class CapacityTimeline:
    """Domains online per cluster and day over the horizon, and which contract holds them."""

    start: dt.date
    days: int
    clusters: tuple[str, ...]
    providers: tuple[str, ...]  # per cluster
    sites: tuple[str, ...]  # per cluster
    gpus_per_domain: npt.NDArray[np.int64]  # per cluster
    it_kw_per_domain: npt.NDArray[np.float64]  # per cluster
    pue: npt.NDArray[np.float64]  # per cluster
    domains: npt.NDArray[np.int32]  # (clusters, days)
    contract: npt.NDArray[np.int16]  # (clusters, days): index into `contracts`, -1 when none
    contracts: tuple[ResolvedContract, ...]

    def day_index(self, day: dt.date) -> int:
        return (day - self.start).days

    def date(self, index: int) -> dt.date:
        return self.start + dt.timedelta(days=index)

    @property
    def gpus(self) -> npt.NDArray[np.int64]:
        """GPUs online, (clusters, days)."""
        return self.domains.astype(np.int64) * self.gpus_per_domain[:, None]

    @property
    def facility_mw(self) -> npt.NDArray[np.float64]:
        """Facility power of the racks online (IT kW x PUE), (clusters, days), in MW."""
        return self.domains * (self.it_kw_per_domain * self.pue)[:, None] / 1000.0


def build_capacity(scenario: Scenario, catalog: Catalog) -> CapacityTimeline:
    start, end = scenario.horizon.start, scenario.horizon.end
    days = (end - start).days + 1
    names = tuple(c.name for c in scenario.clusters)
    index = {n: i for i, n in enumerate(names)}
    sites = {s.name: s for s in scenario.sites}
    products = [catalog.products[c.product] for c in scenario.clusters]
    domains = np.zeros((len(names), days), dtype=np.int32)
    holder = np.full((len(names), days), -1, dtype=np.int16)
    contracts = tuple(resolve_contracts(scenario, catalog))
    for k, rc in enumerate(contracts):
        for cluster, spans in cluster_ramps(rc, scenario).items():
            i = index[cluster]
            for first, last, count in spans:
                a = max((first - start).days, 0)
                b = min((last - start).days, days - 1)
                if b < a:
                    continue
                domains[i, a : b + 1] = count
                holder[i, a : b + 1] = k
    return CapacityTimeline(
        start=start,
        days=days,
        clusters=names,
        providers=tuple(sites[c.site].provider for c in scenario.clusters),
        sites=tuple(c.site for c in scenario.clusters),
        gpus_per_domain=np.array([p.gpus_per_domain for p in products], dtype=np.int64),
        it_kw_per_domain=np.array([p.domain_it_kw for p in products], dtype=np.float64),
        pue=np.array([sites[c.site].pue for c in scenario.clusters], dtype=np.float64),
        domains=domains,
        contract=holder,
        contracts=contracts,
    )
