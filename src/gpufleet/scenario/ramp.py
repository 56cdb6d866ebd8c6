"""A contract's price, term and ramp resolved against the catalog: how many domains are online when.

Ramps derived from a commitment follow DESIGN.md: full size in domains = commitment total /
(price per GPU-hour x GPUs per domain x ramp-weighted hours), where ramp-weighted hours = the sum
over the schedule of share x hours from its date to the next step (or the term's end), so that the
capacity the ramp delivers over the term, priced, equals the commitment (less whole-domain rounding).
`sizing: term-hours` keeps the older rule (term hours x 24, as if full from the start).

Two ramps per contract: the planned one (what the contract promises, which sizes the fleet and
pro-rates minimums) and the delivered one (the planned ramp moved later by `slip_months` and cut
by provider events): the capacity timeline, the engine and the bills follow the delivered one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass

from gpufleet.catalog import Catalog, Product
from gpufleet.scenario.schema import BillingModel, Contract, DerivedRamp, Scenario

Steps = tuple[tuple[dt.date, int], ...]


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
    ramp: Steps  # delivered: (date, domains online from then), ordered; slips and provider events applied
    cap_gpus: int | None
    planned_ramp: Steps = ()  # the contract's own ramp, before slips and events
    billing: BillingModel = "spend-commitment"

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
    """Whole domains at full size: `term_hours` is the term's hours weighted by the ramp's shares."""
    return math.floor(total_usd / (term_hours * price * gpus_per_domain))


def ramp_weighted_hours(shares: list[tuple[dt.date, float]], start: dt.date, end: dt.date) -> float:
    """Hours of full-size capacity a share schedule delivers over the term [start, end]."""
    total = 0.0
    steps = sorted(shares)
    for i, (day, share) in enumerate(steps):
        first = max(day, start)
        until = (
            min(steps[i + 1][0], end + dt.timedelta(days=1)) if i + 1 < len(steps) else end + dt.timedelta(1)
        )
        total += share * max((until - first).days, 0) * 24.0
    return total


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved on by whole calendar months; the 31st becomes the month's last day where it has none."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def planned_steps(contract: Contract, scenario: Scenario, product: Product, price: float) -> Steps:
    """The contract's own ramp: dated domain counts, derived from the commitment, or all at term start."""
    start, end = contract_term(contract, scenario)
    size = cluster_domains(contract, scenario)
    if contract.kind != "committed":
        cap = contract.cap_gpus or 0
        return ((start, min(size, math.ceil(cap / product.gpus_per_domain))),)
    if contract.ramp is None:
        return ((start, size),)
    if isinstance(contract.ramp, DerivedRamp):
        assert contract.commitment is not None and contract.commitment.total_usd is not None
        if contract.ramp.sizing == "term-hours":
            hours = ((end - start).days + 1) * 24.0
        else:
            hours = ramp_weighted_hours([(s.date, s.share) for s in contract.ramp.schedule], start, end)
        full = derived_full_domains(contract.commitment.total_usd, hours, price, product.gpus_per_domain)
        return tuple((s.date, round(s.share * full)) for s in contract.ramp.schedule)
    return tuple((s.date, s.domains) for s in contract.ramp)


def delivered_steps(contract: Contract, scenario: Scenario, planned: Steps) -> Steps:
    """The planned ramp moved `slip_months` later (steps past the term's end never arrive), then cut by
    the provider events that hit the contract: from an event's date, domains x (1 - withdrawn share),
    rounded down to whole domains."""
    _, end = contract_term(contract, scenario)
    steps = [(add_months(d, contract.slip_months), n) for d, n in planned]
    steps = [(d, n) for d, n in steps if d <= end]
    events = sorted(
        (e.date, e.withdraw_share)
        for e in scenario.provider_events
        if e.provider == contract.provider and (e.contracts is None or contract.name in e.contracts)
    )
    if not events:
        return tuple(steps)
    out: list[tuple[dt.date, int]] = []
    for day in sorted({d for d, _ in steps} | {d for d, _ in events}):
        base = max((i for i, (d, _) in enumerate(steps) if d <= day), default=None)
        domains = steps[base][1] if base is not None else 0
        keep = 1.0
        for d, share in events:
            if d <= day:
                keep *= 1.0 - share
        out.append((day, math.floor(domains * keep + 1e-9)))
    return tuple(out)


def ramp_steps(contract: Contract, scenario: Scenario, product: Product, price: float) -> Steps:
    """The delivered ramp (see `delivered_steps`)."""
    return delivered_steps(contract, scenario, planned_steps(contract, scenario, product, price))


def resolve_contract(contract: Contract, scenario: Scenario, catalog: Catalog) -> ResolvedContract:
    """Every default filled in; call only on a scenario that passed cross-checks."""
    product_id = contract_product_id(contract, scenario)
    assert product_id is not None
    product = catalog.products[product_id]
    price = contract_price(contract, product_id, catalog)
    assert price is not None
    start, end = contract_term(contract, scenario)
    planned = planned_steps(contract, scenario, product, price)
    return ResolvedContract(
        name=contract.name,
        provider=contract.provider,
        kind=contract.kind,
        product=product,
        clusters=tuple(contract.clusters),
        start=start,
        end=end,
        price_per_gpu_hour_usd=price,
        ramp=delivered_steps(contract, scenario, planned),
        cap_gpus=contract.cap_gpus,
        planned_ramp=planned,
        billing=contract.billing_model,
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
