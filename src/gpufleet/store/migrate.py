"""Store schema versions and migrations: a newer gpufleet opens every older store, migrating it forward.

A store records its version (a number) in the meta table. Opening an older store runs each step
from its version to STORE_VERSION in one transaction, then adds any run-table column that tables.py
has and the file lacks (old runs read it as null). No step drops a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb

from gpufleet.store.schema import (
    META_TABLE,
    RUNS_TABLE,
    STATUS_TABLE,
    STORE_VERSION,
    q,
    sql_type,
    status_table_statement,
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


def missing_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(table, column, dtype) of run-table columns that tables.py has and the file lacks."""
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall()
    have: dict[str, set[str]] = {}
    for table, column in rows:
        have.setdefault(table, set()).add(column)
    return [
        (name, col, dtype)
        for name, schema in SCHEMAS.items()
        for col, dtype in schema.items()
        if col not in have.get(name, set())
    ]


def needs_migration(con: duckdb.DuckDBPyConnection, version: int) -> bool:
    return version < STORE_VERSION or bool(missing_columns(con))


def migrate(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Every step from `version` to STORE_VERSION, then the missing columns, in one transaction."""
    con.begin()
    try:
        for v in range(version, STORE_VERSION):
            MIGRATIONS[v](con)
        for table, col, dtype in missing_columns(con):
            con.execute(f"ALTER TABLE {q(table)} ADD COLUMN {q(col)} {sql_type(dtype)}")
        con.execute(
            f"UPDATE {q(META_TABLE)} SET value = ? WHERE key = 'schema_version'", [str(STORE_VERSION)]
        )
    except BaseException:
        con.rollback()
        raise
    con.commit()
