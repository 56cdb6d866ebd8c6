"""The results store: runs and their tables in an embedded DuckDB file (see store/store.py).

Importing the package (or gpufleet.store.meta, as the pipeline does) does not import duckdb: `open_store`,
`Store` and `DEFAULT_STORE` load store/store.py on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gpufleet.store.meta import RunMeta, new_run_id

if TYPE_CHECKING:
    from gpufleet.store.store import DEFAULT_STORE, Store, open_store

__all__ = ["DEFAULT_STORE", "RunMeta", "Store", "new_run_id", "open_store"]


def __getattr__(name: str) -> Any:
    if name in ("DEFAULT_STORE", "Store", "open_store"):
        from gpufleet.store import store

        return getattr(store, name)
    raise AttributeError(f"module 'gpufleet.store' has no attribute {name!r}")
