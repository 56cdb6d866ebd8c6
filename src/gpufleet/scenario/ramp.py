"""A contract's price, term and ramp resolved against the catalog: how many domains are online when.

Ramps derived from a commitment follow DESIGN.md: full size in domains = commitment total /
(term hours x price per GPU-hour x GPUs per domain), where term hours = days in the term x 24.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from gpufleet.catalog import Catalog, Product
from gpufleet.scenario.schema import Contract, DerivedRamp, Scenario


@dataclass(frozen=True, slots=True)
class ResolvedContract:
    """A contract with every default filled in."""

    name: str
    provider: str
    kind: str
    product: Product
    clusters: tuple[str, ...]
    start: dt.date
    end: dt.date  # inclusive
    price_per_gpu_hour_usd: float
    ramp: tuple[tuple[dt.date, int], ...]  # (date, domains online from then), cumulative, ordered
    cap_gpus: int | None

    @property
    def term_hours(self) -> float:
        return ((self.end - self.start).days + 1) * 24.0


def contract_product_id(contract: Contract, scenario: Scenario) -> str | None:
    if contract.product:
        return contract.product
    by_name = {c.name: c for c in scenario.clusters}
    first = by_name.get(contract.clusters[0])
    return first.product if first else None


def contract_term(contract: Contract, scenario: Scenario) -> tuple[dt.date, dt.date]:
    if contract.term is not None:
        return contract.term.start, contract.term.end
    return scenario.horizon.start, scenario.horizon.end


def contract_price(contract: Contract, product_id: str | None, catalog: Catalog) -> float | None:
    """The contract's price, or the catalog's list price for its product; None when neither exists."""
    if contract.price_per_gpu_hour_usd is not None:
        return contract.price_per_gpu_hour_usd
    if product_id is None:
        return None
    listed = catalog.list_price(product_id)
    return listed.usd_per_gpu_hour if listed else None


def cluster_domains(contract: Contract, scenario: Scenario) -> int:
    by_name = {c.name: c for c in scenario.clusters}
    return sum(by_name[n].blocks * by_name[n].domains_per_block for n in contract.clusters if n in by_name)


def derived_full_domains(total_usd: float, term_hours: float, price: float, gpus_per_domain: int) -> int:
    return math.floor(total_usd / (term_hours * price * gpus_per_domain))


def ramp_steps(
    contract: Contract, scenario: Scenario, product: Product, price: float
) -> tuple[tuple[dt.date, int], ...]:
    start, end = contract_term(contract, scenario)
    size = cluster_domains(contract, scenario)
    if contract.kind != "committed":
        cap = contract.cap_gpus or 0
        return ((start, min(size, math.ceil(cap / product.gpus_per_domain))),)
    if contract.ramp is None:
        return ((start, size),)
    if isinstance(contract.ramp, DerivedRamp):
        assert contract.commitment is not None and contract.commitment.total_usd is not None
        hours = ((end - start).days + 1) * 24.0
        full = derived_full_domains(contract.commitment.total_usd, hours, price, product.gpus_per_domain)
        return tuple((s.date, round(s.share * full)) for s in contract.ramp.schedule)
    return tuple((s.date, s.domains) for s in contract.ramp)


def resolve_contract(contract: Contract, scenario: Scenario, catalog: Catalog) -> ResolvedContract:
    """Every default filled in; call only on a scenario that passed cross-checks."""
    product_id = contract_product_id(contract, scenario)
    assert product_id is not None
    product = catalog.products[product_id]
    price = contract_price(contract, product_id, catalog)
    assert price is not None
    start, end = contract_term(contract, scenario)
    return ResolvedContract(
        name=contract.name,
        provider=contract.provider,
        kind=contract.kind,
        product=product,
        clusters=tuple(contract.clusters),
        start=start,
        end=end,
        price_per_gpu_hour_usd=price,
        ramp=ramp_steps(contract, scenario, product, price),
        cap_gpus=contract.cap_gpus,
    )


def resolve_contracts(scenario: Scenario, catalog: Catalog) -> list[ResolvedContract]:
    return [resolve_contract(c, scenario, catalog) for c in scenario.contracts]


def split_over_clusters(domains: int, sizes: list[int]) -> list[int]:
    """Domains online per cluster when a contract's clusters fill in their listed order."""
    out = []
    left = domains
    for size in sizes:
        take = min(size, max(left, 0))
        out.append(take)
        left -= take
    return out


def cluster_ramps(
    contract: ResolvedContract, scenario: Scenario
) -> dict[str, list[tuple[dt.date, dt.date, int]]]:
    """Per cluster of the contract: (from, to inclusive, domains online) intervals within the term."""
    by_name = {c.name: c for c in scenario.clusters}
    sizes = [by_name[n].blocks * by_name[n].domains_per_block for n in contract.clusters]
    out: dict[str, list[tuple[dt.date, dt.date, int]]] = {n: [] for n in contract.clusters}
    steps = [(max(d, contract.start), n) for d, n in contract.ramp if d <= contract.end]
    for i, (day, domains) in enumerate(steps):
        until = steps[i + 1][0] - dt.timedelta(days=1) if i + 1 < len(steps) else contract.end
        if until < day:
            continue
        for name, count in zip(contract.clusters, split_over_clusters(domains, sizes), strict=True):
            out[name].append((day, until, count))
    return out
