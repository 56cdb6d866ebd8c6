"""What stated extra capacity is worth: `plan --add-capacity 1GW --provider oci [--site S]`.

The extra facility power is spread evenly over the provider's sites (or the one named) and, at each
site, evenly over the products it runs (its clusters' products, else its options'); each share buys
whole NVLink domains (domain IT kW x the site's PUE), online from the horizon's start for the whole
horizon, with the site's power budget raised by what they draw. The value is the plan's objective
saved (expected over the cases, options re-chosen) with that capacity free of charge: the most the
lab should pay for it, in present value, and per GPU-hour it adds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gpufleet.catalog import Catalog
from gpufleet.errors import InputError
from gpufleet.plan.model import discount_factors
from gpufleet.plan.run import PlanInputs, Start, solve_value
from gpufleet.scenario.schema import Billing, Cluster, Contract, Scenario, Term

WHATIF_PRICE = 1e-6  # $/GPU-hour of the added capacity: a contract needs a positive price; added back
_AMOUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(gw|mw|kw)?\s*$", re.IGNORECASE)


def parse_power_mw(text: str, where: str = "--add-capacity") -> float:
    """'1GW', '500 MW', '250' (MW) -> MW."""
    m = _AMOUNT.match(text)
    if not m:
        raise InputError(f"expected power such as 1GW or 500MW, got {text!r}", where=where)
    value = float(m.group(1)) * {"gw": 1000.0, "mw": 1.0, "kw": 0.001}[(m.group(2) or "mw").lower()]
    if not 0 < value <= 1e6:
        raise InputError(f"expected more than 0 and at most 1,000 GW, got {text!r}", where=where)
    return value


@dataclass
class AddedCapacity:
    """The capacity added and what it is worth."""

    mw: float
    provider: str
    blocks: list[dict[str, Any]] = field(default_factory=list)  # site, product, domains, gpus, mw
    value_usd: float = 0.0  # objective PV saved
    gpu_hours: float = 0.0  # GPU-hours the capacity adds over the horizon
    tolerance_usd: float = 0.0  # the MIP gap on the objective: a smaller value is solver noise

    def to_dict(self) -> dict[str, Any]:
        per = self.value_usd / self.gpu_hours if self.gpu_hours > 0 else None
        return {"mw": self.mw, "provider": self.provider, "added": self.blocks, "value_usd": self.value_usd,
                "gpu_hours": self.gpu_hours, "value_usd_per_gpu_hour": per,
                "tolerance_usd": self.tolerance_usd}  # fmt: skip


def with_added_capacity(
    scenario: Scenario, catalog: Catalog, mw: float, provider: str, site: str | None = None
) -> tuple[Scenario, list[dict[str, Any]]]:
    """The scenario with `mw` of facility power of racks added at the provider's sites (see above)."""
    if provider not in scenario.providers:
        raise InputError(
            f"unknown provider '{provider}' (known: {', '.join(scenario.providers)})", "--provider"
        )
    sites = [s for s in scenario.sites if s.provider == provider and (site is None or s.name == site)]
    if not sites:
        known = ", ".join(s.name for s in scenario.sites if s.provider == provider) or "none"
        raise InputError(f"no site '{site}' of provider '{provider}' (its sites: {known})", "--site")
    clusters, contracts = list(scenario.clusters), list(scenario.contracts)
    new_sites = list(scenario.sites)
    added: list[dict[str, Any]] = []
    names: list[str] = []
    for s in sites:
        products = list(dict.fromkeys(c.product for c in scenario.clusters if c.site == s.name))
        products = products or list(
            dict.fromkeys(o.product for o in scenario.plan.options if o.site == s.name)
        )
        if not products:
            raise InputError(f"site '{s.name}' runs no product to add: name another --site", "--site")
        drawn = 0.0
        for product_id in products:
            product = catalog.products[product_id]
            mw_per_domain = product.domain_it_kw * s.pue / 1000.0
            domains = int(mw / len(sites) / len(products) // mw_per_domain)
            if domains <= 0:
                continue
            name = f"whatif-{s.name}-{product_id.replace('/', '-')}"
            clusters.append(
                Cluster(name=name, site=s.name, product=product_id, blocks=1, domains_per_block=domains)
            )
            names.append(name)
            drawn += domains * mw_per_domain
            gpus = domains * product.gpus_per_domain
            added.append(
                {"site": s.name, "product": product_id, "domains": domains, "gpus": gpus,
                 "mw": domains * mw_per_domain}
            )  # fmt: skip
        new_sites[new_sites.index(s)] = s.model_copy(update={"power_mw": s.power_mw + drawn})
    if not names:
        raise InputError(f"{mw:g} MW buys not one NVLink domain at the sites named", "--add-capacity")
    h = scenario.horizon
    contracts.append(
        Contract(
            name="whatif-added-capacity",
            provider=provider,
            clusters=names,
            term=Term(start=h.start, end=h.end),
            price_per_gpu_hour_usd=WHATIF_PRICE,
            billing=Billing(model="reserved"),
        )
    )
    out = scenario.model_copy(update={"clusters": clusters, "contracts": contracts, "sites": new_sites})
    return out, added


def value_of_added_capacity(
    p: PlanInputs,
    objective: float,
    mw: float,
    provider: str,
    site: str | None = None,
    start: Start | None = None,
) -> AddedCapacity:
    """The objective saved by the added capacity (its token price added back), same demand cases;
    `start`: the plan's solution (still feasible with more capacity), so the re-solve is never worse."""
    scenario, added = with_added_capacity(p.scenario, p.catalog, mw, provider, site)
    q = PlanInputs(scenario, p.catalog, p.months, p.options, p.cases, p.time_limit_s, p.gap)
    gpus = sum(a["gpus"] for a in added)
    discount = discount_factors(p.months, p.scenario.plan.discount_rate_per_year)
    token_pv = WHATIF_PRICE * gpus * float((p.months.hours * discount).sum())
    after = solve_value(q, start=start) - token_pv
    hours = gpus * float(p.months.hours.sum())
    saved = objective - after
    saved = 0.0 if abs(saved) <= 1e-9 * abs(objective) else saved  # rounding, not value
    return AddedCapacity(mw, provider, added, saved, hours, p.gap * abs(objective))
