"""Candidate options resolved against the scenario and catalog, with problems named by file:line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gpufleet.aggregate.months import Months
from gpufleet.catalog import Catalog
from gpufleet.errors import InputError, Problem
from gpufleet.scenario.options import CandidateOption
from gpufleet.scenario.ramp import add_months
from gpufleet.scenario.schema import Scenario
from gpufleet.scenario.source import SourceMap


@dataclass(frozen=True)
class ResolvedOption:
    """An option with its price, product figures, site and the start months the plan may choose."""

    option: CandidateOption
    price: float
    accelerator: str
    gpus_per_domain: int
    mw_per_domain: float  # facility MW: IT kW x the site's PUE
    geo: str
    starts: tuple[int, ...]  # month indices

    @property
    def name(self) -> str:
        return self.option.name

    @property
    def signed(self) -> bool:
        """Whether a size is chosen (every billing model but on-demand)."""
        return self.option.billing != "on-demand"

    def active(self, start: int, months: Months) -> range:
        return range(start, min(start + self.option.term_months, months.count))


def option_problems(scenario: Scenario, catalog: Catalog, smap: SourceMap) -> list[Problem]:
    """Options that name a site, product or provider the scenario and catalog do not know."""
    sites = {s.name: s for s in scenario.sites}
    out: list[Problem] = []
    for i, o in enumerate(scenario.plan.options):
        base = ("plan", "options", i)
        if o.site not in sites:
            out.append(smap.problem((*base, "site"), f"unknown site '{o.site}' (known: {', '.join(sites)})"))
        elif sites[o.site].provider != o.provider:
            out.append(
                smap.problem((*base, "provider"), f"site '{o.site}' belongs to '{sites[o.site].provider}'")
            )
        if o.product not in catalog.products:
            out.append(smap.problem((*base, "product"), f"unknown product '{o.product}'"))
        elif o.price_per_gpu_hour_usd is None and catalog.list_price(o.product) is None:
            out.append(smap.problem((*base, "price_per_gpu_hour_usd"), "no list price: give one"))
    names = [o.name for o in scenario.plan.options]
    for i, name in enumerate(names):
        if name in names[:i]:
            out.append(smap.problem(("plan", "options", i, "name"), f"option '{name}' is named twice"))
    return out


def resolve_options(
    scenario: Scenario, catalog: Catalog, months: Months, smap: SourceMap
) -> list[ResolvedOption]:
    problems = option_problems(scenario, catalog, smap)
    if problems:
        raise InputError(problems)
    sites = {s.name: s for s in scenario.sites}
    out = []
    for o in scenario.plan.options:
        product = catalog.products[o.product]
        listed = catalog.list_price(o.product)
        price = o.price_per_gpu_hour_usd or (listed.usd_per_gpu_hour if listed else 0.0)
        first = max(
            o.earliest_start or scenario.horizon.start, add_months(scenario.horizon.start, o.lead_time_months)
        )
        starts = _starts(months, first, o.start_every_months)
        site = sites[o.site]
        out.append(
            ResolvedOption(
                option=o,
                price=price,
                accelerator=product.accelerator,
                gpus_per_domain=product.gpus_per_domain,
                mw_per_domain=product.domain_it_kw * site.pue / 1000.0,
                geo=site.geo,
                starts=starts,
            )
        )
    return out


def _starts(months: Months, first: dt.date, every: int) -> tuple[int, ...]:
    """Month indices from the first whole month on or after `first`, every `every` months."""
    begin = next((m for m in range(months.count) if months.first[m] >= first), None)
    return () if begin is None else tuple(range(begin, months.count, every))
