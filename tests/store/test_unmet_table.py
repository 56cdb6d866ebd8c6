"""The `unmet` run table in the store: it round-trips, and a store written before it opens with it empty."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from gpufleet.store import open_store
from gpufleet.tables import SCHEMAS
from gpufleet.unmet import idle_contracts
from store.test_builder import make_tables
from store.test_migrate import RUN, write_v1_store
from store.test_roundtrip import make_meta


def test_unmet_rows_round_trip_exactly(tmp_path: Path) -> None:
    tables = make_tables(seed=3)
    assert len(tables.unmet) >= 3  # the builder's 90 days span four calendar months
    with open_store(tmp_path / "r.duckdb") as store:
        run_id = store.save_run(make_meta(), tables)
    with open_store(tmp_path / "r.duckdb", read_only=True) as store:
        back = store.load_run(run_id).unmet
    pd.testing.assert_frame_equal(tables.unmet, back, check_exact=True)
    assert back["unmet_tokens"].isna().all()  # NaN (not inference) stays NaN
    first = idle_contracts(str(back["idle_contracts"].iloc[0]))
    assert set(first) == {"aws-gb200", "azure-gb300"}


def test_a_store_written_without_the_table_reads_the_old_run_with_it_empty(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old = make_tables(seed=4)
    with open_store(path) as store:
        old_id = store.save_run(make_meta(), old)
    con = duckdb.connect(str(path))
    con.execute('DROP TABLE "unmet"')  # as a gpufleet before this table wrote it
    con.close()

    with open_store(path) as store:
        back = store.load_run(old_id)
        assert back.unmet.empty and list(back.unmet.columns) == list(SCHEMAS["unmet"])
        pd.testing.assert_frame_equal(back.jobs, old.jobs)  # the rest of the old run untouched
        new_id = store.save_run(make_meta(minutes=5), make_tables(seed=5))
    with open_store(path, read_only=True) as store:
        assert len(store.load_run(new_id).unmet) > 0
        assert store.load_run(old_id).unmet.empty


def test_a_version_1_store_gains_an_empty_unmet_table(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    write_v1_store(path)
    with open_store(path) as store:
        u = store.load_run(RUN).unmet
    assert u.empty
    assert {c: str(t) for c, t in u.dtypes.items()} == SCHEMAS["unmet"]


def test_builder_unmet_is_consistent() -> None:
    u = make_tables(seed=6).unmet
    served, unmet, demand = (
        u[c].to_numpy(np.float64) for c in ("served_gpu_hours", "unmet_gpu_hours", "demand_gpu_hours")
    )
    np.testing.assert_allclose(served + unmet, demand)
    listed = np.array([sum(idle_contracts(str(c)).values()) for c in u["idle_contracts"]])
    np.testing.assert_allclose(listed, u["idle_gpu_hours"], atol=1.0)  # cells round to whole GPU-hours
