"""Plans in the results store: one row per plan, its signed options and monthly allocation, and the
runs that followed a plan (side tables registered in store/schema.py, so an older store gains them).

The functions take an open DuckDB connection; `Store` (store/store.py) calls them inside its
transactions and read guards. Importing this module does not import duckdb.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from gpufleet.jsontext import to_json
from gpufleet.store.meta import new_run_id
from gpufleet.store.schema import (
    PLAN_ALLOCATION_TABLE,
    PLAN_CASH_TABLE,
    PLAN_SIGNED_TABLE,
    PLANS_TABLE,
    RUN_PLANS_TABLE,
    SIDE_TABLES,
    q,
)

if TYPE_CHECKING:
    import duckdb

PLAN_PREFIX = "plan-"
SIGNED_COLUMNS = [c for c in SIDE_TABLES[PLAN_SIGNED_TABLE] if c != "plan_id"]
ALLOCATION_COLUMNS = [c for c in SIDE_TABLES[PLAN_ALLOCATION_TABLE] if c != "plan_id"]
CASH_COLUMNS = [c for c in SIDE_TABLES[PLAN_CASH_TABLE] if c != "plan_id"]
_FRAMES = ((PLAN_SIGNED_TABLE, SIGNED_COLUMNS), (PLAN_ALLOCATION_TABLE, ALLOCATION_COLUMNS),
           (PLAN_CASH_TABLE, CASH_COLUMNS))  # fmt: skip
_META_COLUMNS = [c for c in SIDE_TABLES[PLANS_TABLE] if c != "figures"]


def new_plan_id(now: dt.datetime | None = None) -> str:
    """`plan-20261130-235959-3fa9c2`: unique per plan, sorts by creation, never mistaken for a run id."""
    return PLAN_PREFIX + new_run_id(now)


@dataclass(frozen=True)
class PlanMeta:
    """One stored plan's identity and headline (the figures are in StoredPlan)."""

    plan_id: str
    scenario_name: str
    content_hash: str  # of the scenario planned: simulate --plan checks the FILE against it
    gpufleet_version: str
    created: dt.datetime  # UTC
    status: str
    objective_pv_usd: float
    cost_pv_usd: float

    def to_dict(self) -> dict[str, Any]:
        out = dict(vars(self))
        out["created"] = self.created.isoformat()
        return out


@dataclass(frozen=True)
class StoredPlan:
    """A plan as stored: its meta, what `plan --json` printed, the signed options, the allocation (per
    case, class, target and month) and the base case's planned use and cash per contract and month."""

    meta: PlanMeta
    figures: dict[str, Any]
    signed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SIGNED_COLUMNS))
    allocation: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ALLOCATION_COLUMNS))
    cash: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CASH_COLUMNS))


def insert_plan(con: duckdb.DuckDBPyConnection, plan: StoredPlan) -> None:
    """The plan's rows in the three plan tables (the caller holds the transaction)."""
    m = plan.meta
    cols = list(SIDE_TABLES[PLANS_TABLE])
    row = {**m.to_dict(), "created": _naive_utc(m.created), "figures": to_json(plan.figures, indent=None)}
    con.execute(
        f"INSERT INTO {q(PLANS_TABLE)} ({', '.join(map(q, cols))}) VALUES ({', '.join('?' for _ in cols)})",
        [row[c] for c in cols],
    )
    for (table, columns), frame in zip(_FRAMES, (plan.signed, plan.allocation, plan.cash), strict=True):
        if frame.empty:
            continue
        rows = frame[columns].astype(object).values.tolist()
        con.executemany(
            f"INSERT INTO {q(table)} ({q('plan_id')}, {', '.join(map(q, columns))}) "
            f"VALUES (?, {', '.join('?' for _ in columns)})",
            [[m.plan_id, *r] for r in rows],
        )


def plan_metas(con: duckdb.DuckDBPyConnection) -> list[PlanMeta]:
    """Every plan's meta, oldest first."""
    rows = con.execute(
        f"SELECT {', '.join(map(q, _META_COLUMNS))} FROM {q(PLANS_TABLE)} ORDER BY created, plan_id"
    ).fetchall()
    out = []
    for r in rows:
        d = dict(zip(_META_COLUMNS, r, strict=True))
        d["created"] = d["created"].replace(tzinfo=dt.UTC)
        out.append(PlanMeta(**d))
    return out


def load_plan(con: duckdb.DuckDBPyConnection, plan_id: str) -> StoredPlan:
    """One plan with its tables (the caller checked that it exists)."""
    meta = next(m for m in plan_metas(con) if m.plan_id == plan_id)
    figures = con.execute(f"SELECT figures FROM {q(PLANS_TABLE)} WHERE plan_id = ?", [plan_id]).fetchone()
    frames = []
    for table, columns in _FRAMES:
        df = con.execute(
            f"SELECT {', '.join(map(q, columns))} FROM {q(table)} WHERE plan_id = ? ORDER BY rowid", [plan_id]
        ).df()
        frames.append(df)
    return StoredPlan(meta, json.loads(str(figures[0])) if figures else {}, *frames)


def link_run(con: duckdb.DuckDBPyConnection, run_id: str, plan_id: str) -> None:
    con.execute(f"INSERT INTO {q(RUN_PLANS_TABLE)} VALUES (?, ?)", [run_id, plan_id])


def unlink_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    con.execute(f"DELETE FROM {q(RUN_PLANS_TABLE)} WHERE run_id = ?", [run_id])


def plan_of_run(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    """The plan a run followed (simulate --plan), or None."""
    row = con.execute(f"SELECT plan_id FROM {q(RUN_PLANS_TABLE)} WHERE run_id = ?", [run_id]).fetchone()
    return None if row is None else str(row[0])


def runs_of_plan(con: duckdb.DuckDBPyConnection, plan_id: str) -> list[str]:
    """The runs that followed the plan, by id (ids sort by start time)."""
    rows = con.execute(
        f"SELECT run_id FROM {q(RUN_PLANS_TABLE)} WHERE plan_id = ? ORDER BY run_id", [plan_id]
    ).fetchall()
    return [str(r[0]) for r in rows]


def _naive_utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)
