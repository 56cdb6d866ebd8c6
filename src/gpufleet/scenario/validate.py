"""Cross-checks a schema-valid scenario: references, catalog ids, contracts, ramps, power budgets."""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable

from gpufleet.catalog import Catalog
from gpufleet.errors import Problem
from gpufleet.scenario.ramp import (
    ResolvedContract,
    cluster_domains,
    cluster_ramps,
    contract_price,
    contract_product_id,
    contract_term,
    resolve_contract,
)
from gpufleet.scenario.schema import DerivedRamp, Inference, Roadmap, Scenario, Stream, TrainingRun
from gpufleet.scenario.source import Path, SourceMap, in_file_order


def _unknown(kind: str, value: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    shown = ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
    return f"unknown {kind} '{value}'{hint}; known: {shown or 'none'}"


class _Checker:
    def __init__(self, scenario: Scenario, catalog: Catalog, smap: SourceMap) -> None:
        self.s = scenario
        self.catalog = catalog
        self.smap = smap
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str) -> None:
        self.problems.append(self.smap.problem(path, message))

    def ref(self, path: Path, kind: str, value: str, known: Iterable[str]) -> bool:
        known = list(known)
        if value in known:
            return True
        self.add(path, _unknown(kind, value, known))
        return False

    def run(self) -> list[Problem]:
        self.names()
        self.fleet()
        self.contracts()
        self.work()
        self.policies()
        return self.problems

    # -------------------------------------------------------------------------------- names
    def names(self) -> None:
        s = self.s
        groups: list[tuple[str, list[tuple[Path, str]]]] = [
            ("provider", [(("providers", i), p) for i, p in enumerate(s.providers)]),
            ("site", [(("sites", i, "name"), x.name) for i, x in enumerate(s.sites)]),
            ("cluster", [(("clusters", i, "name"), x.name) for i, x in enumerate(s.clusters)]),
            ("contract", [(("contracts", i, "name"), x.name) for i, x in enumerate(s.contracts)]),
            ("team", [(("teams", i, "name"), x.name) for i, x in enumerate(s.teams)]),
            (
                "workload",
                [(("workloads", i, _kind(w.item), "name"), w.item.name) for i, w in enumerate(s.workloads)],
            ),
        ]
        for kind, items in groups:
            counts = Counter(name for _, name in items)
            seen: set[str] = set()
            for path, name in items:
                if counts[name] > 1 and name in seen:
                    self.add(path, f"duplicate {kind} name '{name}'")
                seen.add(name)

    # -------------------------------------------------------------------------------- fleet
    def fleet(self) -> None:
        s = self.s
        sites = {x.name: x for x in s.sites}
        for i, site in enumerate(s.sites):
            self.ref(("sites", i, "provider"), "provider", site.provider, s.providers)
        for i, cl in enumerate(s.clusters):
            if self.ref(("clusters", i, "site"), "site", cl.site, sites) and self.ref(
                ("clusters", i, "product"), "product", cl.product, self.catalog.products
            ):
                prod = self.catalog.products[cl.product]
                if prod.provider != sites[cl.site].provider:
                    self.add(
                        ("clusters", i, "product"),
                        f"product '{cl.product}' is sold by {prod.provider}, but site '{cl.site}' "
                        f"belongs to {sites[cl.site].provider}",
                    )
                if prod.accelerator not in self.catalog.accelerators:
                    self.add(
                        ("clusters", i, "product"), f"product's accelerator '{prod.accelerator}' is unknown"
                    )

    # ---------------------------------------------------------------------------- contracts
    def contracts(self) -> None:
        s = self.s
        clusters = {c.name: c for c in s.clusters}
        sites = {x.name: x for x in s.sites}
        resolved: list[ResolvedContract] = []
        holders: dict[str, list[tuple[int, dt.date, dt.date]]] = defaultdict(list)
        for i, c in enumerate(s.contracts):
            ok = self.ref(("contracts", i, "provider"), "provider", c.provider, s.providers)
            products = set()
            for j, name in enumerate(c.clusters):
                if not self.ref(("contracts", i, "clusters", j), "cluster", name, clusters):
                    ok = False
                    continue
                cl = clusters[name]
                if cl.product not in self.catalog.products:
                    ok = False  # reported on the cluster itself
                products.add(cl.product)
                site = sites.get(cl.site)
                if site is not None and site.provider != c.provider:
                    self.add(
                        ("contracts", i, "clusters", j),
                        f"cluster '{name}' is at {site.provider} site '{site.name}', "
                        f"but contract '{c.name}' is with {c.provider}",
                    )
                    ok = False
            if len(products) > 1:
                self.add(
                    ("contracts", i, "clusters"),
                    f"clusters of one contract must share a product, got {sorted(products)}",
                )
                ok = False
            if c.product is not None:
                if not self.ref(("contracts", i, "product"), "product", c.product, self.catalog.products):
                    ok = False
                elif products and c.product not in products:
                    self.add(
                        ("contracts", i, "product"),
                        f"contract product '{c.product}' differs from its clusters' {sorted(products)}",
                    )
                    ok = False
            start, end = contract_term(c, s)
            for name in c.clusters:
                holders[name].append((i, start, end))
            if not ok:
                continue
            product_id = contract_product_id(c, s)
            price = contract_price(c, product_id, self.catalog)
            if price is None:
                self.add(
                    ("contracts", i),
                    f"no price: the catalog has no list price for '{product_id}'; "
                    "give price_per_gpu_hour_usd",
                )
                continue
            self.ramp(i)
            rc = resolve_contract(c, s, self.catalog)
            size = cluster_domains(c, s)
            for k, (date, domains) in enumerate(rc.planned_ramp):
                if domains > size:
                    path: Path = ("contracts", i, "ramp")
                    path = (*path, "schedule", k) if isinstance(c.ramp, DerivedRamp) else (*path, k)
                    self.add(
                        path,
                        f"ramp reaches {domains:,} domains on {date} but its clusters hold {size:,}",
                    )
            resolved.append(rc)
        for name, held in holders.items():
            held.sort(key=lambda h: h[1])
            for (a, _, a_end), (b, b_start, _) in itertools.pairwise(held):
                if b_start <= a_end:
                    self.add(
                        ("contracts", b, "clusters"),
                        f"cluster '{name}' is already under contract '{s.contracts[a].name}' until {a_end}",
                    )
        self.power(resolved)
        self.events()

    def events(self) -> None:
        s = self.s
        for i, ev in enumerate(s.provider_events):
            if not self.ref(("provider_events", i, "provider"), "provider", ev.provider, s.providers):
                continue
            own = [c.name for c in s.contracts if c.provider == ev.provider]
            for k, name in enumerate(ev.contracts or []):
                self.ref(("provider_events", i, "contracts", k), f"contract of {ev.provider}", name, own)

    def ramp(self, i: int) -> None:
        c = self.s.contracts[i]
        start, end = contract_term(c, self.s)
        for k, pay in enumerate(c.billing.payments if c.billing else []):
            if not start <= pay.date <= end:
                self.add(
                    ("contracts", i, "billing", "payments", k, "date"),
                    f"payment date {pay.date} is outside the term {start} .. {end}",
                )
        if c.ramp is None:
            return
        if isinstance(c.ramp, DerivedRamp):
            dated: list[tuple[Path, dt.date]] = [
                (("contracts", i, "ramp", "schedule", k, "date"), st.date)
                for k, st in enumerate(c.ramp.schedule)
            ]
        else:
            dated = [(("contracts", i, "ramp", k, "date"), st.date) for k, st in enumerate(c.ramp)]
        for k, (path, date) in enumerate(dated):
            if k and date <= dated[k - 1][1]:
                self.add(path, f"ramp dates out of order: {date} follows {dated[k - 1][1]}")
            if not start <= date <= end:
                self.add(path, f"ramp date {date} is outside the term {start} .. {end}")

    def power(self, resolved: list[ResolvedContract]) -> None:
        s = self.s
        clusters = {c.name: c for c in s.clusters}
        # site -> date -> change in IT kW
        changes: dict[str, dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
        for rc in resolved:
            kw = rc.product.domain_it_kw
            for name, spans in cluster_ramps(rc, s).items():
                site = clusters[name].site
                for first, last, domains in spans:
                    changes[site][first] += domains * kw
                    changes[site][last + dt.timedelta(days=1)] -= domains * kw
        for i, site_model in enumerate(s.sites):
            level = peak = 0.0
            peak_day = None
            for day in sorted(changes.get(site_model.name, {})):
                level += changes[site_model.name][day]
                if level > peak + 1e-9:
                    peak, peak_day = level, day
            facility_mw = peak * site_model.pue / 1000.0
            if facility_mw > site_model.power_mw * (1 + 1e-9):
                self.add(
                    ("sites", i, "power_mw"),
                    f"racks draw {peak / 1000:,.1f} MW IT x PUE {site_model.pue:g} = "
                    f"{facility_mw:,.1f} MW on {peak_day}, above the site's budget of "
                    f"{site_model.power_mw:,.1f} MW",
                )

    # --------------------------------------------------------------------------------- work
    def work(self) -> None:
        s = self.s
        teams = [t.name for t in s.teams]
        geos = {x.geo for x in s.sites}
        total = sum(t.quota_share for t in s.teams)
        if total > 1 + 1e-6:
            self.add(("teams",), f"quota shares add up to {total:g}, more than 1")
        for i, w in enumerate(s.workloads):
            item = w.item
            base: Path = ("workloads", i, _kind(item))
            self.ref((*base, "team"), "team", item.team, teams)
            allowed = getattr(item, "allowed_providers", None) or []
            for k, p in enumerate(allowed):
                self.ref((*base, "allowed_providers", k), "provider", p, s.providers)
            if isinstance(item, TrainingRun):
                self.ref((*base, "accelerator"), "accelerator", item.accelerator, self.catalog.accelerators)
            elif isinstance(item, Roadmap):
                for k, step in enumerate(item.accelerators):
                    self.ref(
                        (*base, "accelerators", k, "accelerator"),
                        "accelerator",
                        step.accelerator,
                        self.catalog.accelerators,
                    )
            elif isinstance(item, Inference):
                for acc in item.tokens_per_s_per_gpu:
                    self.ref(
                        (*base, "tokens_per_s_per_gpu", acc), "accelerator", acc, self.catalog.accelerators
                    )
                for k, g in enumerate(item.allowed_regions or []):
                    self.ref((*base, "allowed_regions", k), "region (site geo)", g, geos)
                if item.demand.revenue is not None:
                    cases = s.finance.revenue_scenarios
                    run_case = s.finance.default_case
                    if run_case is None or not cases[run_case].is_path:
                        self.add(
                            (*base, "demand", "revenue"),
                            f"revenue-driven demand needs its revenue case ({run_case or 'none'}) in "
                            "dollars: finance.revenue_scenarios with start_usd or by_year_usd",
                        )
            elif isinstance(item, Stream) and item.trace is not None:
                for key, team in item.trace.team_map.items():
                    self.ref((*base, "trace", "team_map", key), "team", team, teams)

    def policies(self) -> None:
        p = self.s.policies
        pc = p.provider_choice
        if pc.name == "diversify" and pc.max_share is None:
            self.add(("policies", "provider_choice", "max_share"), "diversify needs max_share")
        if pc.name == "pinned":
            if pc.provider is None:
                self.add(("policies", "provider_choice", "provider"), "pinned needs a provider")
            else:
                self.ref(
                    ("policies", "provider_choice", "provider"), "provider", pc.provider, self.s.providers
                )
        order = p.preemption.order
        if len(set(order)) != len(order):
            self.add(("policies", "preemption", "order"), "each priority class at most once")
        for acc in p.failures.rate_per_gpu_hour:
            self.ref(
                ("policies", "failures", "rate_per_gpu_hour", acc),
                "accelerator",
                acc,
                self.catalog.accelerators,
            )


def _kind(item: object) -> str:
    if isinstance(item, TrainingRun):
        return "training_run"
    if isinstance(item, Inference):
        return "inference"
    if isinstance(item, Roadmap):
        return "roadmap"
    return "stream"


def cross_check(scenario: Scenario, catalog: Catalog, smap: SourceMap) -> list[Problem]:
    """Every problem the schema alone cannot see, in file order."""
    return in_file_order(_Checker(scenario, catalog, smap).run())
