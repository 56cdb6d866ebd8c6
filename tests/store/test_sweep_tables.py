"""A store made before sweeps gains their side tables on open, its runs untouched."""

from __future__ import annotations

from pathlib import Path

import duckdb

from gpufleet.store import open_store
from gpufleet.store.schema import SIDE_TABLES
from gpufleet.store.sweeps import list_sweeps


def test_an_older_store_gains_the_sweep_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute('DROP TABLE "sweep_samples"')
    con.execute('DROP TABLE "sweeps"')
    con.close()
    with open_store(path) as store:
        assert len(list_sweeps(store)) == 0
        have = set(store.query("SELECT table_name FROM information_schema.tables")["table_name"])
    assert {"sweeps", "sweep_samples"} <= have and {"sweeps", "sweep_samples"} <= set(SIDE_TABLES)
