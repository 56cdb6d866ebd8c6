"""Reads the catalog's data files and merges a scenario's additions and overrides."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from gpufleet.catalog.model import Accelerator, Anchor, Price, Product

_KIND_RANK = {"list": 0, "on-demand": 1, "capacity-block": 2, "reserved-1y": 3, "reserved-3y": 4}


def read_data_file(name: str) -> Any:
    """Parsed YAML of one file in catalog/data (packaged with gpufleet)."""
    text = resources.files("gpufleet.catalog").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class Catalog:
    """Accelerators and products by id, and price snapshots, after any scenario overrides."""

    accelerators: dict[str, Accelerator]
    products: dict[str, Product]
    prices: tuple[Price, ...]
    sources: dict[str, str] = field(default_factory=dict)

    def prices_for(self, product_id: str) -> list[Price]:
        return [p for p in self.prices if p.product == product_id]

    def list_price(self, product_id: str) -> Price | None:
        """The price that stands for "list": a published list or on-demand price, else a capacity block.

        Reserved prices are discounts, not list; a product with none of these has no list price.
        """
        candidates = [
            p for p in self.prices_for(product_id) if p.kind in ("list", "on-demand", "capacity-block")
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda p: (_KIND_RANK[p.kind], -p.as_of.toordinal()))

    def accelerator_of(self, product_id: str) -> Accelerator:
        return self.accelerators[self.products[product_id].accelerator]

    def with_overrides(
        self,
        accelerators: Iterable[Accelerator] = (),
        products: Iterable[Product] = (),
        prices: Iterable[Price] = (),
    ) -> Catalog:
        """A new catalog where entries with the same id replace built-in ones and new ids are added.

        A scenario price for (product, region, kind) replaces the built-in snapshot for that key.
        """
        accs = dict(self.accelerators)
        accs.update({a.id: a for a in accelerators})
        prods = dict(self.products)
        prods.update({p.id: p for p in products})
        new_prices = list(prices)
        keys = {(p.product, p.region, p.kind) for p in new_prices}
        kept = [p for p in self.prices if (p.product, p.region, p.kind) not in keys]
        return Catalog(accs, prods, tuple(kept + new_prices), self.sources)


@cache
def load_builtin_catalog() -> Catalog:
    """The catalog shipped in the package; cached, it never changes while we run."""
    sources = {str(k): str(v) for k, v in read_data_file("sources.yaml").items()}
    accs = [Accelerator.model_validate(e) for e in read_data_file("accelerators.yaml")]
    prods = [Product.model_validate(e) for e in read_data_file("products.yaml")]
    prices = [Price.model_validate(e) for e in read_data_file("prices.yaml")]
    return Catalog({a.id: a for a in accs}, {p.id: p for p in prods}, tuple(prices), sources)


@cache
def load_anchors() -> tuple[Anchor, ...]:
    """The public anchors (anchors.yaml) in file order; a check without a measure and a day is refused."""
    anchors = tuple(
        Anchor.model_validate({"key": k} | v) for k, v in read_data_file("anchors.yaml")["anchors"].items()
    )
    for a in anchors:
        if a.use == "check" and (a.measure is None or a.at is None):
            raise ValueError(f"anchors.yaml: check {a.key} needs a measure and a day (at)")
    return anchors
