"""The results store: runs and their tables in an embedded DuckDB file (see store/store.py)."""

from gpufleet.store.meta import RunMeta, new_run_id
from gpufleet.store.store import DEFAULT_STORE, Store, open_store

__all__ = ["DEFAULT_STORE", "RunMeta", "Store", "new_run_id", "open_store"]
