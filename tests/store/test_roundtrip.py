"""Store: every table comes back exactly as saved (values, order, dtypes); listing, delete, export."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.store import RunMeta, new_run_id, open_store
from gpufleet.tables import SCHEMAS, RunTables, check_table, empty_table
from store.test_builder import make_tables


def make_meta(run_id: str | None = None, minutes: int = 0, seed: int = 7) -> RunMeta:
    started = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
    return RunMeta(
        run_id=run_id or new_run_id(started),
        scenario_name="two-clouds",
        content_hash="sha256:abc123",
        seed=seed,
        gpufleet_version="0.1.0",
        started=started,
        finished=started + dt.timedelta(seconds=42.5),
        status="finished",
        wall_s=42.5,
    )


def assert_tables_equal(a: RunTables, b: RunTables) -> None:
    for (name, x), (_, y) in zip(a.items(), b.items(), strict=True):
        assert list(y.columns) == list(SCHEMAS[name]), name
        assert {c: str(t) for c, t in y.dtypes.items()} == SCHEMAS[name], name
        pd.testing.assert_frame_equal(
            x.reset_index(drop=True), y, check_dtype=True, check_exact=True, obj=name
        )


def test_every_table_round_trips_exactly(tmp_path: Path) -> None:
    tables = make_tables(seed=1)
    meta = make_meta()
    with open_store(tmp_path / "r.duckdb") as store:
        assert store.save_run(meta, tables) == meta.run_id
        other = make_meta(minutes=5, seed=8)
        store.save_run(other, make_tables(seed=2))  # a second run must not leak into the first
    with open_store(tmp_path / "r.duckdb", read_only=True) as store:
        back = store.load_run(meta.run_id)
        assert store.load_meta(meta.run_id) == meta
        assert [m.run_id for m in store.list_runs()] == [meta.run_id, other.run_id]
    assert_tables_equal(tables, back)
    # the builder's tables have NA strings and NaT times, which must survive as such
    assert back.jobs["cluster"].isna().any() and back.jobs["start"].isna().any()


def test_empty_tables_round_trip(tmp_path: Path) -> None:
    with open_store(tmp_path / "r.duckdb") as store:
        run_id = store.save_run(make_meta(), RunTables())
        back = store.load_run(run_id)
    assert_tables_equal(RunTables(), back)


_text = st.one_of(st.none(), st.text(max_size=12))
_times = st.one_of(
    st.none(),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda t: pd.Timestamp(t, tz="UTC")
    ),
)
_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.integers(-(2**63), 2**63 - 1), _text, _times, _floats, st.text(max_size=5)),
        max_size=8,
    )
)
def test_odd_values_round_trip(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple]) -> None:  # type: ignore[type-arg]
    """Quotes, unicode, empty strings, NA, NaT, extreme integers and infinities come back unchanged."""
    df = empty_table("jobs")
    if rows:
        base = {c: [None] * len(rows) for c in SCHEMAS["jobs"]}
        base.update({"gpus": [1] * len(rows), "restarts": [0] * len(rows), "preemptions": [0] * len(rows)})
        base["wait_s"] = [0.0] * len(rows)
        base["lost_gpu_hours"] = [0.0] * len(rows)
        base["id"] = [r[0] for r in rows]
        base["team"] = [r[1] for r in rows]
        base["submit"] = [r[2] for r in rows]
        base["wait_s"] = [r[3] for r in rows]
        base["reason"] = [r[4] for r in rows]
        df = check_table("jobs", pd.DataFrame(base))
    path = tmp_path_factory.mktemp("odd") / "r.duckdb"
    with open_store(path) as store:
        run_id = store.save_run(make_meta(), RunTables(jobs=df))
        back = store.load_run(run_id).jobs
    pd.testing.assert_frame_equal(df, back, check_exact=True)
    if rows:  # NaN is stored as NULL: both read back as missing
        assert np.array_equal(np.isnan(df["wait_s"]), np.isnan(back["wait_s"]))


def test_delete_removes_every_row_of_the_run_only(tmp_path: Path) -> None:
    path = tmp_path / "r.duckdb"
    keep, drop = make_meta(minutes=1), make_meta(minutes=2)
    with open_store(path) as store:
        store.save_run(keep, make_tables(seed=1))
        store.save_run(drop, make_tables(seed=2))
        store.delete_run(drop.run_id)
        assert store.run_ids() == [keep.run_id]
    con = duckdb.connect(str(path), read_only=True)
    for name in SCHEMAS:
        ids = {r[0] for r in con.execute(f'SELECT DISTINCT run_id FROM "{name}"').fetchall()}
        assert drop.run_id not in ids, name
    con.close()


def test_unknown_run_lists_close_ids(tmp_path: Path) -> None:
    meta = make_meta(run_id="20261129-080000-3fa9c2")
    with open_store(tmp_path / "r.duckdb") as store:
        store.save_run(meta, RunTables())
        with pytest.raises(InputError) as err:
            store.load_run("20261129-080000-3fa9c3")
        assert "20261129-080000-3fa9c2" in str(err.value) and "no run" in str(err.value)
        assert store.resolve("20261129-08") == meta.run_id  # unique prefix
        assert store.resolve("latest") == meta.run_id
        with pytest.raises(InputError):
            store.delete_run("nope")


def test_export_parquet_and_csv(tmp_path: Path) -> None:
    tables = make_tables(seed=5)
    meta = make_meta()
    with open_store(tmp_path / "r.duckdb") as store:
        store.save_run(meta, tables)
        pq = store.export_run(meta.run_id, tmp_path / "pq", "parquet")
        csv = store.export_run(meta.run_id, tmp_path / "csv", "csv")
        with pytest.raises(InputError, match="unknown export format"):
            store.export_run(meta.run_id, tmp_path / "x", "xlsx")
    assert sorted(p.name for p in pq) == sorted([f"{n}.parquet" for n in SCHEMAS] + ["run.json"])
    for name, df in tables.items():
        back = check_table(name, pd.read_parquet(tmp_path / "pq" / f"{name}.parquet"))
        pd.testing.assert_frame_equal(df, back, check_exact=True, obj=name)
        rows = pd.read_csv(tmp_path / "csv" / f"{name}.csv")
        assert len(rows) == len(df) and list(rows.columns) == list(SCHEMAS[name])
    assert {p.name for p in csv} == {f"{n}.csv" for n in SCHEMAS} | {"run.json"}
    assert json.loads((tmp_path / "pq" / "run.json").read_text())["run_id"] == meta.run_id
    assert not list((tmp_path / "pq").glob(".*"))  # no temp files left behind


def test_run_meta_rejects_naive_times_and_unknown_status() -> None:
    m = make_meta()
    with pytest.raises(ValueError, match="UTC"):
        RunMeta(**{**m.to_dict(), "started": dt.datetime(2026, 1, 1), "finished": m.finished})
    with pytest.raises(ValueError, match="status"):
        RunMeta(**{**m.to_dict(), "started": m.started, "finished": m.finished, "status": "done"})
    ids = {new_run_id() for _ in range(200)}
    assert len(ids) == 200 and all(len(i) == 22 for i in ids)
