"""Store schema versions and migrations: a newer gpufleet opens every older store, migrating it forward.

A store records its version (a number) in the meta table. Opening an older store runs each step
from its version to STORE_VERSION in one transaction, then creates any run table or side table
that this gpufleet has and the file lacks, and adds any run-table column it lacks (old runs read
it as null). No step drops a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb

from gpufleet.store.schema import (
    META_TABLE,
    RUNS_TABLE,
    SIDE_TABLES,
    STATUS_TABLE,
    STORE_VERSION,
    q,
    run_table_columns,
    sql_type,
    status_table_statement,
    table_statement,
)
from gpufleet.tables import SCHEMAS

# Version 1 stores held "LAYOUT.FINGERPRINT" (layout 2, 12 hex digits) instead of a number.
_V1_FINGERPRINT = re.compile(r"^2\.[0-9a-f]{12}$")


def stored_version(text: str | None) -> int | None:
    """The version number a meta value stands for; None when it is none gpufleet ever wrote."""
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    if _V1_FINGERPRINT.match(text):
        return 1
    return None


def _v1_to_v2(con: duckdb.DuckDBPyConnection) -> None:
    """Add the status table; every stored run was finished (version 1 kept only finished runs)."""
    con.execute(status_table_statement())
    con.execute(
        f"INSERT INTO {q(STATUS_TABLE)} (run_id, status, scenario_name, seed, started, updated, message) "
        f"SELECT run_id, status, scenario_name, seed, started, finished, '' FROM {q(RUNS_TABLE)}"
    )


# MIGRATIONS[n] takes a store from version n to n + 1.
MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {1: _v1_to_v2}


def _have(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall()
    have: dict[str, set[str]] = {}
    for table, column in rows:
        have.setdefault(table, set()).add(column)
    return have


def missing_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """CREATE statements of the run tables and side tables that this gpufleet has and the file lacks."""
    have = _have(con)
    stmts = [table_statement(n, run_table_columns(n)) for n in SCHEMAS if n not in have]
    return stmts + [table_statement(n, cols) for n, cols in SIDE_TABLES.items() if n not in have]


def missing_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(table, column, dtype) of columns of existing run tables that tables.py has and the file lacks."""
    have = _have(con)
    return [
        (name, col, dtype)
        for name, schema in SCHEMAS.items()
        if name in have
        for col, dtype in schema.items()
        if col not in have[name]
    ]


def needs_migration(con: duckdb.DuckDBPyConnection, version: int) -> bool:
    return version < STORE_VERSION or bool(missing_tables(con)) or bool(missing_columns(con))


def migrate(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Every step from `version` to STORE_VERSION, then the missing tables and columns, in one transaction."""
    con.begin()
    try:
        for v in range(version, STORE_VERSION):
            MIGRATIONS[v](con)
        for stmt in missing_tables(con):
            con.execute(stmt)
        for table, col, dtype in missing_columns(con):
            con.execute(f"ALTER TABLE {q(table)} ADD COLUMN {q(col)} {sql_type(dtype)}")
        con.execute(
            f"UPDATE {q(META_TABLE)} SET value = ? WHERE key = 'schema_version'", [str(STORE_VERSION)]
        )
    except BaseException:
        con.rollback()
        raise
    con.commit()
