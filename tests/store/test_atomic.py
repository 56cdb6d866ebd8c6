"""Store: a run that fails or is killed midway leaves no rows; a store of another version is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from gpufleet.errors import InputError
from gpufleet.store import open_store
from gpufleet.store.schema import META_TABLE
from gpufleet.store.store import Store
from gpufleet.tables import SCHEMAS
from store.test_builder import make_tables
from store.test_roundtrip import make_meta

TESTS = Path(__file__).resolve().parents[1]


def rows_per_table(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in [*SCHEMAS, "runs"]}
    finally:
        con.close()


def test_failure_midway_leaves_no_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.duckdb"
    first = make_meta(minutes=0)
    with open_store(path) as store:
        store.save_run(first, make_tables(seed=1))
    before = rows_per_table(path)

    real = Store._insert_table
    seen: list[str] = []

    def flaky(self: Store, name: str, frame: object, run_id: str) -> None:
        if len(seen) == 3:
            raise RuntimeError("disk on fire")
        seen.append(name)
        real(self, name, frame, run_id)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "_insert_table", flaky)
    doomed = make_meta(minutes=1)
    with open_store(path) as store:
        with pytest.raises(RuntimeError, match="disk on fire"):
            store.save_run(doomed, make_tables(seed=2))
        assert len(seen) == 3  # three tables were inserted before the failure ...
        assert store.run_ids() == [first.run_id]  # ... and the store is still usable
    after = rows_per_table(path)
    assert after == before  # ... yet none of their rows remain
    assert all(after[n] > 0 for n in SCHEMAS)  # the earlier run is untouched


def test_interrupt_midway_leaves_no_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.duckdb"
    real = Store._insert_table

    def interrupted(self: Store, name: str, frame: object, run_id: str) -> None:
        real(self, name, frame, run_id)  # type: ignore[arg-type]
        if name == "usage":
            raise KeyboardInterrupt

    monkeypatch.setattr(Store, "_insert_table", interrupted)
    with open_store(path) as store, pytest.raises(KeyboardInterrupt):
        store.save_run(make_meta(), make_tables(seed=2))
    assert set(rows_per_table(path).values()) == {0}


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from store.test_builder import make_tables
from store.test_roundtrip import make_meta
from gpufleet.store import open_store
from gpufleet.store.store import Store

path, marker = Path(sys.argv[1]), Path(sys.argv[2])
real = Store._insert_table
def slow(self, name, frame, run_id):
    real(self, name, frame, run_id)
    if name == "inference":
        marker.write_text("inserted")
        time.sleep(120)
Store._insert_table = slow
with open_store(path) as store:
    store.save_run(make_meta(minutes=9), make_tables(seed=4, n_jobs=3000))
"""


def test_process_killed_midway_leaves_no_rows(tmp_path: Path) -> None:
    path, marker = tmp_path / "r.duckdb", tmp_path / "marker"
    first = make_meta(minutes=0)
    with open_store(path) as store:
        store.save_run(first, make_tables(seed=1))
    before = rows_per_table(path)
    script = tmp_path / "writer.py"
    script.write_text(_KILLED_WRITER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(script), str(path), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, f"writer exited early with {proc.returncode}"
            assert time.monotonic() < deadline, "writer never reached the middle of save_run"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert rows_per_table(path) == before
    with open_store(path) as store:  # the store still opens, holds the first run, and takes new ones
        assert store.run_ids() == [first.run_id]
        store.save_run(make_meta(minutes=3), make_tables(seed=3))


def test_schema_version_mismatch_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "r.duckdb"
    with open_store(path):
        pass
    con = duckdb.connect(str(path))
    con.execute(f"UPDATE {META_TABLE} SET value = '0.deadbeef' WHERE key = 'schema_version'")
    con.close()
    for read_only in (False, True):
        with pytest.raises(InputError) as err:
            open_store(path, read_only=read_only)
        msg = str(err.value)
        assert str(path) in msg and "schema version 0.deadbeef" in msg and "--store" in msg


def test_not_a_store_is_refused_clearly(tmp_path: Path) -> None:
    text = tmp_path / "notes.duckdb"
    text.write_text("hello, I am not a database\n" * 100)
    with pytest.raises(InputError, match="not a gpufleet results store"):
        open_store(text)
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INT)")
    con.close()
    with pytest.raises(InputError, match="not a gpufleet results store"):
        open_store(other)
    with pytest.raises(InputError, match="no results store"):
        open_store(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()
