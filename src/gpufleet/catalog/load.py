"""Reads the catalog's data files and merges a scenario's additions and overrides."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gpufleet.catalog.model import Accelerator, Anchor, Price, Product
from gpufleet.catalog.workload_model import (
    InferenceData,
    PackagedSyntheticParams,
    ReliabilityData,
    TrainingData,
)
from gpufleet.errors import GpufleetError

_KIND_RANK = {"list": 0, "on-demand": 1, "capacity-block": 2, "reserved-1y": 3, "reserved-3y": 4}
M = TypeVar("M", bound=BaseModel)

# built-in synthetic stream parameters by the name a stream's `synthetic.source` gives
BUILTIN_STREAMS = {"philly": "synth_philly.yaml"}


class PackagedDataError(GpufleetError):
    """A data file packaged with gpufleet does not have its model's shape (an edit gone wrong, a broken
    install): the message names the file and each field at fault."""


# libyaml's parser where PyYAML was built with it (several times faster than the pure-Python one)
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_data_file(name: str) -> Any:
    """Parsed YAML of one file in catalog/data (packaged with gpufleet)."""
    text = resources.files("gpufleet.catalog").joinpath("data", name).read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError as exc:
        raise PackagedDataError(f"catalog/data/{name}: not valid YAML: {exc}") from None


def _validated(name: str, model: type[M]) -> M:
    """One packaged file read as its model; every source key it names must be in sources.yaml."""
    try:
        data = model.model_validate(_read_data_file(name))
    except ValidationError as exc:
        raise PackagedDataError("\n".join(f"catalog/data/{name}: {e}" for e in field_errors(exc))) from None
    known = load_sources()
    for where, key in _source_keys(data.model_dump()):
        if key not in known:
            raise PackagedDataError(f"catalog/data/{name}: {where}: {key!r} is not a key of sources.yaml")
    return data


def field_errors(exc: ValidationError) -> list[str]:
    """Each problem of a validation as "field.path: message" (the file's top level: "(top)")."""
    return [
        f"{'.'.join(str(x) for x in e['loc']) or '(top)'}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    ]


def _source_keys(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, key) of every `sources` or `*_sources` list in a dumped model."""
    if isinstance(node, dict):
        for k, v in node.items():
            here = f"{path}.{k}" if path else str(k)
            if (k == "sources" or str(k).endswith("_sources")) and isinstance(v, list):
                yield from ((here, str(x)) for x in v)
            else:
                yield from _source_keys(v, here)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _source_keys(v, f"{path}.{i}")


@cache
def load_sources() -> dict[str, str]:
    """sources.yaml: source key -> what it is (title and address)."""
    raw = _read_data_file("sources.yaml")
    if not isinstance(raw, dict):
        raise PackagedDataError("catalog/data/sources.yaml: expected a mapping of source keys")
    return {str(k): str(v) for k, v in raw.items()}


@cache
def load_inference_data() -> InferenceData:
    """inference.yaml, validated (workload.inference reads it)."""
    return _validated("inference.yaml", InferenceData)


@cache
def load_training_data() -> TrainingData:
    """training.yaml, validated (workload.training reads it)."""
    return _validated("training.yaml", TrainingData)


@cache
def load_reliability_data() -> ReliabilityData:
    """reliability.yaml, validated (workload.reliability reads it)."""
    return _validated("reliability.yaml", ReliabilityData)


@cache
def load_builtin_stream(name: str) -> PackagedSyntheticParams:
    """The built-in synthetic parameters of a stream source name (BUILTIN_STREAMS); KeyError if none."""
    if name not in BUILTIN_STREAMS:
        raise KeyError(f"no built-in synthetic parameters '{name}'; known: {', '.join(BUILTIN_STREAMS)}")
    return _validated(BUILTIN_STREAMS[name], PackagedSyntheticParams)


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
    sources = load_sources()
    accs = [Accelerator.model_validate(e) for e in _read_data_file("accelerators.yaml")]
    prods = [Product.model_validate(e) for e in _read_data_file("products.yaml")]
    prices = [Price.model_validate(e) for e in _read_data_file("prices.yaml")]
    return Catalog({a.id: a for a in accs}, {p.id: p for p in prods}, tuple(prices), dict(sources))


@cache
def load_anchors() -> tuple[Anchor, ...]:
    """The public anchors (anchors.yaml) in file order; a check without a measure and a day is refused."""
    anchors = tuple(
        Anchor.model_validate({"key": k} | v) for k, v in _read_data_file("anchors.yaml")["anchors"].items()
    )
    for a in anchors:
        if a.use == "check" and (a.measure is None or a.at is None):
            raise ValueError(f"anchors.yaml: check {a.key} needs a measure and a day (at)")
    return anchors
