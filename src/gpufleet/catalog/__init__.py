"""The built-in catalog: accelerators, products, price snapshots and the workload data (inference,
training, reliability, synthetic streams), typed and validated once, each figure with its source."""

from gpufleet.catalog.load import (
    BUILTIN_STREAMS,
    Catalog,
    PackagedDataError,
    load_anchors,
    load_builtin_catalog,
    load_builtin_stream,
    load_inference_data,
    load_reliability_data,
    load_sources,
    load_training_data,
)
from gpufleet.catalog.model import Accelerator, Anchor, Price, Product

__all__ = [
    "BUILTIN_STREAMS",
    "Accelerator",
    "Anchor",
    "Catalog",
    "PackagedDataError",
    "Price",
    "Product",
    "load_anchors",
    "load_builtin_catalog",
    "load_builtin_stream",
    "load_inference_data",
    "load_reliability_data",
    "load_sources",
    "load_training_data",
]
