"""The results store: runs and their tables in one embedded DuckDB file, each run in one transaction."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from gpufleet.errors import GpufleetError, InputError, Problem
from gpufleet.store.export import EXPORT_FORMATS, write_run_files
from gpufleet.store.meta import RunMeta
from gpufleet.store.schema import (
    META_TABLE,
    ROW_COLUMN,
    RUNS_COLUMNS,
    RUNS_TABLE,
    SCENARIOS_TABLE,
    create_statements,
    from_db_frame,
    q,
    schema_version,
    to_db_frame,
)
from gpufleet.tables import SCHEMAS, RunTables

DEFAULT_STORE = Path("gpufleet-results.duckdb")
APP = "gpufleet"


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

    def save_run(self, meta: RunMeta, tables: RunTables, scenario_text: str | None = None) -> str:
        """Store a run and all its tables in one transaction: after a failure or interrupt, no rows remain.

        `scenario_text` is the YAML the run ran; kept once per content hash, so a stored run can be
        re-accounted or exported later without its file.
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
        return meta.run_id

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
            self._con.execute(f"DELETE FROM {q(RUNS_TABLE)} WHERE run_id = ?", [run_id])
            self._con.execute(
                f"DELETE FROM {q(SCENARIOS_TABLE)} WHERE content_hash NOT IN "
                f"(SELECT content_hash FROM {q(RUNS_TABLE)})"
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self.read_only:
            raise GpufleetError(f"{self.path} is open read-only")
        self._con.begin()
        try:
            yield
        except BaseException:  # KeyboardInterrupt too: nothing half-written
            self._con.rollback()
            raise
        self._con.commit()

    # ------------------------------------------------------------------------------ reading

    def run_ids(self) -> list[str]:
        """Run ids, oldest first."""
        rows = self._con.execute(f"SELECT run_id FROM {q(RUNS_TABLE)} ORDER BY started, run_id").fetchall()
        return [r[0] for r in rows]

    def list_runs(self) -> list[RunMeta]:
        """Every run's metadata, oldest first."""
        cols = list(RUNS_COLUMNS)
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
        out: dict[str, pd.DataFrame] = {}
        for name in SCHEMAS:
            df = self._con.execute(
                f"SELECT * FROM {q(name)} WHERE run_id = ? ORDER BY {q(ROW_COLUMN)}", [run_id]
            ).df()
            out[name] = from_db_frame(name, df)
        return RunTables(**out)

    def load_scenario_text(self, run_id: str) -> str | None:
        """The scenario YAML the run ran, when it was stored with it."""
        meta = self.load_meta(run_id)
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
        ids = self.run_ids()
        if ref in ids:
            return ref
        if ref == "latest" and ids:
            return ids[-1]
        matches = [i for i in ids if i.startswith(ref)] if ref else []
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


def open_store(path: Path | str = DEFAULT_STORE, read_only: bool = False) -> Store:
    """Open (or, when writable, create) a results store; its schema version must match this gpufleet's."""
    path = Path(path)
    where = str(path)
    if path.is_dir():
        raise InputError([Problem(where, "", "is a folder, not a results store (--store)")])
    if read_only and not path.exists():
        raise InputError(
            [Problem(where, "", "no results store here (run `gpufleet simulate` first, or pass --store)")]
        )
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise GpufleetError(f"{where}: the store is in use by another process ({text})") from None
        raise InputError([Problem(where, "", f"not a gpufleet results store ({text})")]) from None
    try:
        _check_or_create(con, where, read_only)
    except BaseException:
        con.close()
        raise
    return Store(con, path, read_only)


def _check_or_create(con: duckdb.DuckDBPyConnection, where: str, read_only: bool) -> None:
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    expected = schema_version()
    if META_TABLE not in tables:
        if tables or read_only:
            raise InputError([Problem(where, "", "not a gpufleet results store (it has no gpufleet tables)")])
        con.begin()
        try:
            for stmt in create_statements():
                con.execute(stmt)
            con.executemany(
                f"INSERT INTO {q(META_TABLE)} VALUES (?, ?)", [["app", APP], ["schema_version", expected]]
            )
        except BaseException:
            con.rollback()
            raise
        con.commit()
        return
    meta = dict(con.execute(f"SELECT key, value FROM {q(META_TABLE)}").fetchall())
    if meta.get("app") != APP:
        raise InputError([Problem(where, "", "not a gpufleet results store")])
    found = meta.get("schema_version")
    if found != expected:
        raise InputError(
            [
                Problem(
                    where,
                    "",
                    f"results store schema version {found} does not match this gpufleet's {expected}: "
                    "open it with the gpufleet that wrote it (export its runs), or pass a new --store",
                )
            ]
        )


def _naive_utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def _meta_from_row(row: dict[str, Any]) -> RunMeta:
    row["started"] = row["started"].replace(tzinfo=dt.UTC)
    row["finished"] = row["finished"].replace(tzinfo=dt.UTC)
    return RunMeta(**row)
