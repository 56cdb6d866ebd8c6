"""The built-in catalog: accelerators, products and price snapshots, each figure with its source."""

from gpufleet.catalog.load import Catalog, load_anchors, load_builtin_catalog, read_data_file
from gpufleet.catalog.model import Accelerator, Anchor, Price, Product

__all__ = [
    "Accelerator",
    "Anchor",
    "Catalog",
    "Price",
    "Product",
    "load_anchors",
    "load_builtin_catalog",
    "read_data_file",
]
