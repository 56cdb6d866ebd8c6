"""The results store: runs and their tables in one embedded DuckDB file, each run in one transaction.

Many processes share one store: DuckDB lets one process write at a time, so opening waits (bounded,
saying so) for another's lock instead of failing, and connections are held only while reading or
writing. A file that is not a store, or a corrupt one, is refused (exit 2) and never written to.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from gpufleet.errors import GpufleetError, InputError, Problem
from gpufleet.store import plans
from gpufleet.store.export import EXPORT_FORMATS, write_run_files
from gpufleet.store.meta import LIFECYCLE, RunMeta, RunStatus
from gpufleet.store.migrate import migrate, needs_migration, stored_version
from gpufleet.store.plans import PlanMeta, StoredPlan
from gpufleet.store.schema import (
    META_TABLE,
    ROW_COLUMN,
    RUNS_COLUMNS,
    RUNS_TABLE,
    SCENARIOS_TABLE,
    STATUS_COLUMNS,
    STATUS_TABLE,
    STORE_VERSION,
    create_statements,
    from_db_frame,
    q,
    schema_version,
    to_db_frame,
)
from gpufleet.tables import SCHEMAS, RunTables

DEFAULT_STORE = Path("gpufleet-results.duckdb")
APP = "gpufleet"
LOCK_WAIT_S = 300.0  # how long opening waits for another process's lock (GPUFLEET_STORE_WAIT_S)
_TELL_EVERY_S = 10.0
_DUCKDB_MAGIC = b"DUCK"  # bytes 8..12 of every DuckDB file
_LIVE = ("queued", "running")  # statuses held by a live process (queued: the front end that accepted it)
_CORRUPT = ("not a valid duckdb database", "corrupt", "checksum", "could not read enough bytes", "truncat")

Notify = Callable[[str], None]


class CommittedInterrupt(KeyboardInterrupt):
    """Ctrl-C came while a write was in progress; the write was completed first, then this raised."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Store:
    """An open results store. Use `open_store`; close it (or leave the `with` block) to release the file."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only

    # ------------------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------------ writing

    def save_run(
        self, meta: RunMeta, tables: RunTables, scenario_text: str | None = None, plan_id: str | None = None
    ) -> str:
        """Store a run and all its tables in one transaction: after a failure or interrupt, no rows remain.

        `scenario_text` is the YAML the run ran; kept once per content hash, so a stored run can be
        re-accounted or exported later without its file. `plan_id`: the stored plan the run followed.
        """
        frames = {name: to_db_frame(name, df) for name, df in tables.items()}  # a bad table fails here
        if meta.run_id in self.run_ids():
            raise GpufleetError(f"run {meta.run_id} is already in {self.path}")
        with self._transaction():
            row = meta.to_dict()
            row["started"] = _naive_utc(meta.started)
            row["finished"] = _naive_utc(meta.finished)
            cols = list(RUNS_COLUMNS)
            self._con.execute(
                f"INSERT INTO {q(RUNS_TABLE)} ({', '.join(map(q, cols))}) "
                f"VALUES ({', '.join('?' for _ in cols)})",
                [row[c] for c in cols],
            )
            for name, frame in frames.items():
                self._insert_table(name, frame, meta.run_id)
            if scenario_text is not None:
                self._con.execute(
                    f"INSERT INTO {q(SCENARIOS_TABLE)} VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [meta.content_hash, scenario_text],
                )
            if plan_id is not None:
                plans.link_run(self._con, meta.run_id, plan_id)
            self._upsert_status(
                meta.run_id, meta.status, "", row["finished"],
                scenario_name=meta.scenario_name, seed=meta.seed, started=meta.started,
            )  # fmt: skip
        return meta.run_id

    # ------------------------------------------------------------------------------ plans

    def save_plan(self, plan: StoredPlan) -> str:
        """Store a plan (its row, signed options and allocation) in one transaction."""
        if plan.meta.plan_id in self.plan_ids():
            raise GpufleetError(f"plan {plan.meta.plan_id} is already in {self.path}")
        with self._transaction():
            plans.insert_plan(self._con, plan)
        return plan.meta.plan_id

    def plan_ids(self) -> list[str]:
        """Plan ids, oldest first."""
        return [m.plan_id for m in self.list_plans()]

    def list_plans(self) -> list[PlanMeta]:
        with _guard(self.path):
            return plans.plan_metas(self._con)

    def load_plan(self, ref: str) -> StoredPlan:
        """A plan by id, unique prefix or `latest`, with its tables."""
        plan_id = self.resolve_plan(ref)
        with _guard(self.path):
            return plans.load_plan(self._con, plan_id)

    def resolve_plan(self, ref: str) -> str:
        """A plan id from what a person typed: the id, a unique prefix of it, or `latest`."""
        ids = self.plan_ids()
        matches = matching(ids, ref)
        if len(matches) == 1:
            return matches[0]
        if matches:
            msg = f"plan {ref!r} is ambiguous: {', '.join(matches[:10])}"
        elif not ids:
            msg = f"no plan {ref!r}: the store holds no plans (run `gpufleet plan` first)"
        else:
            msg = f"no plan {ref!r}; latest plans: {', '.join(ids[-5:][::-1])}"
        raise InputError([Problem(str(self.path), "", msg)])

    def plan_of_run(self, run_id: str) -> str | None:
        """The stored plan a run followed (simulate --plan), or None."""
        with _guard(self.path):
            return plans.plan_of_run(self._con, run_id)

    def runs_of_plan(self, plan_id: str) -> list[str]:
        """The stored runs that followed a plan (simulate --plan), oldest first."""
        with _guard(self.path):
            return plans.runs_of_plan(self._con, plan_id)

    def _insert_table(self, name: str, frame: pd.DataFrame, run_id: str) -> None:
        cols = [ROW_COLUMN, *SCHEMAS[name]]
        view = f"_gpufleet_in_{name}"
        self._con.register(view, frame)
        try:
            self._con.execute(
                f"INSERT INTO {q(name)} ({q('run_id')}, {', '.join(map(q, cols))}) "
                f"SELECT ?, {', '.join(map(q, cols))} FROM {q(view)}",
                [run_id],
            )
        finally:
            self._con.unregister(view)

    def delete_run(self, run_id: str) -> None:
        """Remove a run and every row of its tables, in one transaction."""
        self._require(run_id)
        with self._transaction():
            for name in SCHEMAS:
                self._con.execute(f"DELETE FROM {q(name)} WHERE run_id = ?", [run_id])
            plans.unlink_run(self._con, run_id)
            self._con.execute(f"DELETE FROM {q(RUNS_TABLE)} WHERE run_id = ?", [run_id])
            self._con.execute(f"DELETE FROM {q(STATUS_TABLE)} WHERE run_id = ?", [run_id])
            self._con.execute(
                f"DELETE FROM {q(SCENARIOS_TABLE)} WHERE content_hash NOT IN "
                f"(SELECT content_hash FROM {q(RUNS_TABLE)})"
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction; Ctrl-C during it is held until it ends, then raised (CommittedInterrupt)."""
        if self.read_only:
            raise GpufleetError(f"{self.path} is open read-only")
        with _sigint_held() as caught:
            self._con.begin()
            try:
                yield
            except BaseException:  # nothing half-written
                with suppress(duckdb.Error):  # an aborted transaction is rolled back already
                    self._con.rollback()
                raise
            self._con.commit()
        if caught:
            raise CommittedInterrupt

    # ------------------------------------------------------------------------------ side tables

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Rows a side table's module (sweeps, plans) reads with its own SQL."""
        with _guard(self.path):
            return self._con.execute(sql, params or []).df()

    @contextmanager
    def side_write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction for a side table's module to write in (all of it or nothing)."""
        with self._transaction():
            yield self._con

    # ------------------------------------------------------------------------------ run status

    def queue_run(self, run_id: str, scenario_name: str, seed: int, started: dt.datetime) -> None:
        """Record a run accepted by a front end (this process) that no worker has taken yet."""
        self._set_status(run_id, "queued", "", scenario_name=scenario_name, seed=seed, started=started)

    def forget_run(self, run_id: str) -> None:
        """Remove the status of a run that stored no tables (a failed one); a stored run: `delete_run`."""
        with self._transaction():
            self._con.execute(f"DELETE FROM {q(STATUS_TABLE)} WHERE run_id = ?", [run_id])

    def begin_run(self, run_id: str, scenario_name: str, seed: int, started: dt.datetime) -> None:
        """Record a run as running in this process (its host and pid tell a dead run from a live one)."""
        self._set_status(run_id, "running", "", scenario_name=scenario_name, seed=seed, started=started)

    def fail_run(self, run_id: str, message: str) -> None:
        """Record that a run ended without its tables stored, and why."""
        self._set_status(run_id, "failed", message)

    def _set_status(self, run_id: str, status: str, message: str, **fields: Any) -> None:
        with self._transaction():
            self._upsert_status(run_id, status, message, _naive_utc(dt.datetime.now(dt.UTC)), **fields)

    def _upsert_status(self, run_id: str, status: str, message: str, now: dt.datetime, **fields: Any) -> None:
        assert status in LIFECYCLE, status
        row = self._con.execute(
            f"SELECT scenario_name, seed, started FROM {q(STATUS_TABLE)} WHERE run_id = ?", [run_id]
        ).fetchone()
        keep = dict(zip(("scenario_name", "seed", "started"), row, strict=True)) if row else {}
        started = fields.get("started")
        values = {
            "run_id": run_id,
            "status": status,
            "scenario_name": fields.get("scenario_name", keep.get("scenario_name")),
            "seed": fields.get("seed", keep.get("seed")),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": _naive_utc(started) if started else keep.get("started"),
            "updated": now,
            "message": message,
        }
        cols = list(STATUS_COLUMNS)
        self._con.execute(
            f"INSERT OR REPLACE INTO {q(STATUS_TABLE)} ({', '.join(map(q, cols))}) "
            f"VALUES ({', '.join('?' for _ in cols)})",
            [values[c] for c in cols],
        )

    def statuses(self) -> list[RunStatus]:
        """Every run the store knows, oldest first; a `running` run whose process is gone reads `failed`."""
        cols = list(STATUS_COLUMNS)
        with _guard(self.path):
            rows = self._con.execute(
                f"SELECT {', '.join(map(q, cols))} FROM {q(STATUS_TABLE)} ORDER BY started, run_id"
            ).fetchall()
        out = []
        for r in rows:
            d = dict(zip(cols, r, strict=True))
            if d["status"] in _LIVE and _dead(d["host"], d["pid"]):
                d["status"], d["message"] = "failed", _dead_message(d["pid"], d["status"])
            d["started"] = d["started"].replace(tzinfo=dt.UTC) if d["started"] else None
            d["updated"] = d["updated"].replace(tzinfo=dt.UTC)
            out.append(RunStatus(**d))
        return out

    def _reconcile(self) -> None:
        """Mark failed the runs left `queued` or `running` by a process of this host that no longer exists."""
        rows = self._con.execute(
            f"SELECT run_id, host, pid, status FROM {q(STATUS_TABLE)} WHERE status IN ('queued', 'running')"
        ).fetchall()
        stale = [(run_id, pid, status) for run_id, host, pid, status in rows if _dead(host, pid)]
        if not stale:
            return
        now = _naive_utc(dt.datetime.now(dt.UTC))
        with self._transaction():
            for run_id, pid, status in stale:
                self._con.execute(
                    f"UPDATE {q(STATUS_TABLE)} SET status = 'failed', message = ?, updated = ? "
                    "WHERE run_id = ?",
                    [_dead_message(pid, status), now, run_id],
                )

    # ------------------------------------------------------------------------------ reading

    def run_ids(self) -> list[str]:
        """Run ids, oldest first."""
        with _guard(self.path):
            rows = self._con.execute(
                f"SELECT run_id FROM {q(RUNS_TABLE)} ORDER BY started, run_id"
            ).fetchall()
        return [r[0] for r in rows]

    def list_runs(self) -> list[RunMeta]:
        """Every run's metadata, oldest first."""
        cols = list(RUNS_COLUMNS)
        with _guard(self.path):
            rows = self._con.execute(
                f"SELECT {', '.join(map(q, cols))} FROM {q(RUNS_TABLE)} ORDER BY started, run_id"
            ).fetchall()
        return [_meta_from_row(dict(zip(cols, r, strict=True))) for r in rows]

    def load_meta(self, run_id: str) -> RunMeta:
        self._require(run_id)
        return next(m for m in self.list_runs() if m.run_id == run_id)

    def load_run(self, run_id: str) -> RunTables:
        """The run's tables, exactly as saved (columns, order, dtypes)."""
        self._require(run_id)
        return RunTables(**{name: self._read_table(run_id, name, 0, None) for name in SCHEMAS})

    def load_table(self, run_id: str, name: str, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """One table of the run, or its rows offset .. offset + limit - 1 in saved order, read alone
        (a page of one table costs that page, not the whole run)."""
        self._check_table(name)
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError(f"offset and limit must be 0 or more, got {offset} and {limit}")
        self._require(run_id)
        return self._read_table(run_id, name, offset, limit)

    def table_rows(self, run_id: str, name: str) -> int:
        """How many rows one table of the run has (counted in the store)."""
        self._check_table(name)
        self._require(run_id)
        with _guard(self.path):
            row = self._con.execute(f"SELECT count(*) FROM {q(name)} WHERE run_id = ?", [run_id]).fetchone()
        return int(row[0]) if row else 0

    def _check_table(self, name: str) -> None:
        if name not in SCHEMAS:
            known = ", ".join(SCHEMAS)
            raise InputError([Problem(str(self.path), "", f"no table {name!r}; tables: {known}")])

    def _read_table(self, run_id: str, name: str, offset: int, limit: int | None) -> pd.DataFrame:
        cols = ", ".join(map(q, SCHEMAS[name]))  # the columns this gpufleet knows, whatever the file adds
        page = f" LIMIT {int(limit)}" if limit is not None else ""
        page += f" OFFSET {int(offset)}" if offset else ""
        with _guard(self.path):
            df = self._con.execute(
                f"SELECT {cols} FROM {q(name)} WHERE run_id = ? ORDER BY {q(ROW_COLUMN)}{page}", [run_id]
            ).df()
        return from_db_frame(name, df)

    def load_scenario_text(self, run_id: str) -> str | None:
        """The scenario YAML the run ran, when it was stored with it."""
        meta = self.load_meta(run_id)
        with _guard(self.path):
            row = self._con.execute(
                f"SELECT text FROM {q(SCENARIOS_TABLE)} WHERE content_hash = ?", [meta.content_hash]
            ).fetchone()
        return None if row is None else str(row[0])

    def export_run(self, run_id: str, directory: Path, format: str = "parquet") -> list[Path]:
        """Write the run's tables (one file each) and its metadata (run.json) into `directory`."""
        if format not in EXPORT_FORMATS:
            raise InputError(
                f"unknown export format {format!r}; expected one of {', '.join(EXPORT_FORMATS)}", "--format"
            )
        return write_run_files(self.load_meta(run_id), self.load_run(run_id), Path(directory), format)

    def resolve(self, ref: str) -> str:
        """A run id from what a person typed: the id, a unique prefix of it, or `latest`."""
        matches = matching(self.run_ids(), ref)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InputError(
                [Problem(str(self.path), "", f"run {ref!r} is ambiguous: {', '.join(matches[:10])}")]
            )
        self._require(ref)
        return ref  # unreachable: _require raised

    def _require(self, run_id: str) -> None:
        ids = self.run_ids()
        if run_id in ids:
            return
        if not ids:
            msg = f"no run {run_id!r}: the store holds no runs (run `gpufleet simulate` first)"
        else:
            close = difflib.get_close_matches(run_id, ids, n=5, cutoff=0.5)
            close += [i for i in ids if run_id and run_id in i and i not in close]
            if close:
                msg = f"no run {run_id!r}; close: {', '.join(close[:5])}"
            else:
                msg = f"no run {run_id!r}; latest runs: {', '.join(ids[-5:][::-1])}"
        raise InputError([Problem(str(self.path), "", msg)])


def open_store(
    path: Path | str = DEFAULT_STORE,
    read_only: bool = False,
    create: bool = True,
    wait_s: float | None = None,
    notify: Notify | None = None,
) -> Store:
    """Open a results store, waiting up to `wait_s` for another process's lock, and migrating an older one.

    A writable open of an existing file first checks it read-only (the whole file is read once), so a
    corrupt store is refused before anything is written to it. With `create`, a missing file becomes
    a new store; without it (or read-only), a missing file is bad input.
    """
    path = Path(path)
    where = str(path)
    wait = _wait_s() if wait_s is None else wait_s
    tell = notify or _stderr
    if path.is_dir():
        raise InputError([Problem(where, "", "is a folder, not a results store (--store)")])
    if not path.exists():
        if read_only or not create:
            raise InputError(
                [Problem(where, "", "no results store here (run `gpufleet simulate` first, or pass --store)")]
            )
        if not path.parent.is_dir():
            raise InputError([Problem(where, "", f"folder {path.parent} does not exist (--store)")])
    else:
        _check_magic(path)
        con = _connect(path, True, wait, tell)
        try:
            version = _check(con, where)
            migrating = needs_migration(con, version)
            if not read_only:
                _verify(con, where)
        except BaseException:
            con.close()
            raise
        if read_only and not migrating:
            return Store(con, path, read_only=True)
        con.close()
    con = _connect(path, False, wait, tell)
    try:
        _prepare(con, where)
        store = Store(con, path, read_only=False)
        store._reconcile()
    except BaseException:
        con.close()
        raise
    if read_only:
        store.close()
        return Store(_connect(path, True, wait, tell), path, read_only=True)
    return store


def matching(ids: list[str], ref: str) -> list[str]:
    """Stored ids (oldest first) that what a person typed names: the id, `latest`, or those it prefixes."""
    if ref in ids:
        return [ref]
    if ref == "latest" and ids:
        return [ids[-1]]
    return [i for i in ids if i.startswith(ref)] if ref else []


def record_failure(path: Path, run_id: str, exc: BaseException, wait_s: float) -> None:
    """Best effort, within `wait_s`: record the run failed and why; if that fails too, the dead pid tells."""
    why = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
    with (
        suppress(Exception, KeyboardInterrupt),
        open_store(path, wait_s=wait_s, notify=lambda _: None) as store,
    ):
        store.fail_run(run_id, why[:500])


def _wait_s() -> float:
    text = os.environ.get("GPUFLEET_STORE_WAIT_S")
    try:
        return LOCK_WAIT_S if text is None else max(0.0, float(text))
    except ValueError:
        return LOCK_WAIT_S


def _connect(path: Path, read_only: bool, wait_s: float, notify: Notify) -> duckdb.DuckDBPyConnection:
    """Connect, retrying while another process holds the lock (telling so every few seconds)."""
    start = time.monotonic()
    told = -_TELL_EVERY_S
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            text = str(exc)
            if "could not set lock" not in text.lower() and "conflicting lock" not in text.lower():
                raise _open_error(path, text) from None
            waited = time.monotonic() - start
            if waited >= wait_s:
                raise GpufleetError(
                    f"{path}: the store is still in use by another process{_holder(text)} after "
                    f"{waited:.0f} s; try again when it is done (GPUFLEET_STORE_WAIT_S waits longer)"
                ) from None
            if waited - told >= _TELL_EVERY_S:
                notify(
                    f"waiting for {path}: in use by another process{_holder(text)} "
                    f"(up to {wait_s - waited:.0f} s more)"
                )
                told = waited
            time.sleep(min(delay, max(0.0, wait_s - waited)))
            delay = min(delay * 2, 0.25)


def _holder(text: str) -> str:
    m = re.search(r"PID (\d+)", text)
    return f" (pid {m.group(1)})" if m else ""


def _corrupt(where: str, text: str) -> InputError:
    return InputError(
        [
            Problem(
                where,
                "",
                f"the results store is corrupt or truncated ({text.strip()}); gpufleet will not write to "
                "it: restore it from a copy, or pass another --store",
            )
        ]
    )


def _open_error(path: Path, text: str) -> InputError:
    where, low = str(path), text.lower()
    if any(k in low for k in _CORRUPT):
        return _corrupt(where, text)
    if "no such file" in low or "does not exist" in low:
        return InputError([Problem(where, "", "no such file or folder (--store)")])
    if "permission denied" in low:
        return InputError([Problem(where, "", "cannot open the store: permission denied")])
    return InputError([Problem(where, "", f"not a gpufleet results store ({text})")])


def _check_magic(path: Path) -> None:
    """A file that is no DuckDB database at all is named so (not 'corrupt')."""
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError as exc:
        raise InputError([Problem(str(path), "", f"cannot read the store: {exc.strerror}")]) from None
    if len(head) < 12 or head[8:12] != _DUCKDB_MAGIC:
        raise InputError(
            [Problem(str(path), "", "not a gpufleet results store (not a DuckDB database file)")]
        )


@contextmanager
def _guard(path: Path) -> Iterator[None]:
    """A read that meets a corrupt block is bad input naming the store, not an internal error."""
    try:
        yield
    except duckdb.Error as exc:
        if any(k in str(exc).lower() for k in _CORRUPT):
            raise _corrupt(str(path), str(exc)) from None
        raise


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {r[0] for r in rows}


def _check(con: duckdb.DuckDBPyConnection, where: str) -> int:
    """The store's version; refuses a file that is not a gpufleet store or is newer than this gpufleet."""
    try:
        tables = _tables(con)
        if META_TABLE not in tables:
            raise InputError([Problem(where, "", "not a gpufleet results store (it has no gpufleet tables)")])
        meta = dict(con.execute(f"SELECT key, value FROM {q(META_TABLE)}").fetchall())
    except duckdb.Error as exc:
        raise _open_error(Path(where), str(exc)) from None
    if meta.get("app") != APP:
        raise InputError([Problem(where, "", "not a gpufleet results store")])
    found = meta.get("schema_version")
    version = stored_version(found)
    if version is None or version > STORE_VERSION:
        newer = version is not None
        raise InputError(
            [
                Problem(
                    where,
                    "",
                    f"results store schema version {found} "
                    + ("is newer than" if newer else "is unknown to")
                    + f" this gpufleet (it reads versions 1 to {STORE_VERSION}): open it with the "
                    "gpufleet that wrote it (export its runs), or pass a new --store",
                )
            ]
        )
    return version


def _verify(con: duckdb.DuckDBPyConnection, where: str) -> None:
    """Read every block of every table once: a corrupt block is found before anything is written."""
    for name in sorted(_tables(con)):
        try:
            con.execute(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM {q(name)}").fetchall()
        except duckdb.Error as exc:
            raise _corrupt(where, str(exc)) from None


def _prepare(con: duckdb.DuckDBPyConnection, where: str) -> None:
    """Create a new store, or bring an existing one to this version (one transaction)."""
    tables = _tables(con)
    if META_TABLE not in tables:
        if tables:
            raise InputError([Problem(where, "", "not a gpufleet results store (it has no gpufleet tables)")])
        con.begin()
        try:
            for stmt in create_statements():
                con.execute(stmt)
            con.executemany(
                f"INSERT INTO {q(META_TABLE)} VALUES (?, ?)",
                [["app", APP], ["schema_version", schema_version()]],
            )
        except BaseException:
            con.rollback()
            raise
        con.commit()
        return
    version = _check(con, where)
    if needs_migration(con, version):
        migrate(con, version)


@contextmanager
def _sigint_held() -> Iterator[list[int]]:
    """Hold Ctrl-C (SIGINT) for the duration: the caller finishes its write, then raises."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, previous)


def _dead(host: str | None, pid: int | None) -> bool:
    """Whether the process that ran a run is gone (only knowable for this host)."""
    if host != socket.gethostname() or pid is None:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _dead_message(pid: int | None, status: str = "running") -> str:
    if status == "queued":
        return f"the service that queued it (process {pid}) stopped before the run started"
    return f"its process ({pid}) ended before the run was stored (killed?)"


def _naive_utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def _meta_from_row(row: dict[str, Any]) -> RunMeta:
    row["started"] = row["started"].replace(tzinfo=dt.UTC)
    row["finished"] = row["finished"].replace(tzinfo=dt.UTC)
    return RunMeta(**row)
