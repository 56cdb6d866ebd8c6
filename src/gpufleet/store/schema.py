"""The store's layout in DuckDB, derived from the run tables' SCHEMAS: DDL, version, and frame conversions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gpufleet.tables import SCHEMAS, TIME, check_table

# The store's schema version: a number. Bump it with a migration in store/migrate.py whenever the
# layout changes in a way that an added nullable column does not cover (see docs/results.md).
# 1: runs, scenarios and one table per run table (its meta held a fingerprint, "2.<hex>")
# 2: versions are numbers; `run_status` holds every run's status (queued, running, finished, failed)
STORE_VERSION = 2
META_TABLE = "gpufleet_store"
RUNS_TABLE = "runs"
STATUS_TABLE = "run_status"
SCENARIOS_TABLE = "scenarios"  # the scenario text a run ran, once per content hash
ROW_COLUMN = "_row"  # keeps each table's row order through the round trip

_SQL_TYPES = {
    "int64": "BIGINT",
    "Int64": "BIGINT",
    "float64": "DOUBLE",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    TIME: "TIMESTAMP",  # stored as naive UTC; localized again on load
}

RUNS_COLUMNS: dict[str, str] = {
    "run_id": "VARCHAR PRIMARY KEY",
    "scenario_name": "VARCHAR NOT NULL",
    "content_hash": "VARCHAR NOT NULL",
    "seed": "BIGINT NOT NULL",
    "gpufleet_version": "VARCHAR NOT NULL",
    "started": "TIMESTAMP NOT NULL",
    "finished": "TIMESTAMP NOT NULL",
    "status": "VARCHAR NOT NULL",
    "wall_s": "DOUBLE NOT NULL",
}


def q(name: str) -> str:
    """A quoted SQL identifier (columns such as `class` and `end` are keywords)."""
    return '"' + name.replace('"', '""') + '"'


STATUS_COLUMNS: dict[str, str] = {
    "run_id": "VARCHAR PRIMARY KEY",
    "status": "VARCHAR NOT NULL",  # queued | running | finished | failed
    "scenario_name": "VARCHAR",
    "seed": "BIGINT",
    "host": "VARCHAR",  # where the process that runs it lives, and its pid: a dead one is not running
    "pid": "BIGINT",
    "started": "TIMESTAMP",
    "updated": "TIMESTAMP NOT NULL",
    "message": "VARCHAR NOT NULL",  # why it failed, or ""
}


# Tables that are not run tables (plans, sweeps, ...): name -> column DDL. A store that lacks one
# gains it on open, as it gains a run table or column that tables.py added (store/migrate.py): adding
# a table never needs a version bump. Each feature registers its tables here.
SIDE_TABLES: dict[str, dict[str, str]] = {}

# Plans (gpufleet plan, store/plans.py): one row per plan, its signed options and monthly allocation;
# run_plans says which plan a simulated run followed (simulate --plan), so `runs` stays as it is.
PLANS_TABLE = "plans"
PLAN_SIGNED_TABLE = "plan_signed"
PLAN_ALLOCATION_TABLE = "plan_allocation"
RUN_PLANS_TABLE = "run_plans"
PLAN_CASH_TABLE = "plan_cash"
SIDE_TABLES[PLANS_TABLE] = {
    "plan_id": "VARCHAR PRIMARY KEY",
    "scenario_name": "VARCHAR NOT NULL",
    "content_hash": "VARCHAR NOT NULL",
    "gpufleet_version": "VARCHAR NOT NULL",
    "created": "TIMESTAMP NOT NULL",
    "status": "VARCHAR NOT NULL",  # the solver's: optimal | time limit (best plan found)
    "objective_pv_usd": "DOUBLE NOT NULL",
    "cost_pv_usd": "DOUBLE NOT NULL",
    "figures": "VARCHAR NOT NULL",  # JSON: what `gpufleet plan --json` prints
}
SIDE_TABLES[PLAN_SIGNED_TABLE] = {
    "plan_id": "VARCHAR NOT NULL",
    "option": "VARCHAR NOT NULL",
    "provider": "VARCHAR NOT NULL",
    "site": "VARCHAR NOT NULL",
    "product": "VARCHAR NOT NULL",
    "billing": "VARCHAR NOT NULL",
    "start": "VARCHAR NOT NULL",  # month, YYYY-MM
    "months": "BIGINT NOT NULL",  # active months inside the horizon
    "domains": "BIGINT NOT NULL",
    "gpus": "BIGINT NOT NULL",
    "price_per_gpu_hour_usd": "DOUBLE NOT NULL",
}
SIDE_TABLES[PLAN_ALLOCATION_TABLE] = {
    "plan_id": "VARCHAR NOT NULL",
    "case": "VARCHAR NOT NULL",
    "class": "VARCHAR NOT NULL",
    "target": "VARCHAR NOT NULL",  # a cluster or an option
    "provider": "VARCHAR NOT NULL",
    "contract": "VARCHAR NOT NULL",  # the contract holding the target that month ("" when none)
    "month": "VARCHAR NOT NULL",
    "quarter": "VARCHAR NOT NULL",
    "gpu_hours": "DOUBLE NOT NULL",  # at the class's reference accelerator
    "target_gpu_hours": "DOUBLE NOT NULL",  # on the target's accelerator
}
SIDE_TABLES[PLAN_CASH_TABLE] = {  # the base case's allocation billed by the ledger (plan/follow.py)
    "plan_id": "VARCHAR NOT NULL",
    "contract": "VARCHAR NOT NULL",
    "provider": "VARCHAR NOT NULL",
    "month": "VARCHAR NOT NULL",
    "quarter": "VARCHAR NOT NULL",
    "gpu_hours": "DOUBLE NOT NULL",
    "cash_usd": "DOUBLE NOT NULL",
}
SIDE_TABLES[RUN_PLANS_TABLE] = {"run_id": "VARCHAR PRIMARY KEY", "plan_id": "VARCHAR NOT NULL"}
# `gpufleet sweep` (store/sweeps.py): one row per sweep, one per finished or failed sample.
SWEEP_METRICS = (
    "utilization_pct",
    "unused_commitment_usd",
    "spend_usd",
    "cash_peak_usd",
    "funding_need_usd",
    "inference_unserved_pct",
)  # fmt: skip  (risk/metrics.py METRICS; a test keeps them equal)
SIDE_TABLES["sweeps"] = {
    "sweep_id": "VARCHAR PRIMARY KEY",
    "scenario_name": "VARCHAR NOT NULL",
    "content_hash": "VARCHAR NOT NULL",
    "file": "VARCHAR NOT NULL",  # the scenario file (relative trace paths resolve from its folder)
    "scenario_text": "VARCHAR NOT NULL",  # what --resume runs again
    "fidelity": "VARCHAR NOT NULL",  # full | fluid
    "samples": "BIGINT NOT NULL",
    "seed": "BIGINT NOT NULL",
    "sampling": "VARCHAR NOT NULL",  # random | lhs
    "gpufleet_version": "VARCHAR NOT NULL",
    "created": "TIMESTAMP NOT NULL",
    "updated": "TIMESTAMP NOT NULL",
    "status": "VARCHAR NOT NULL",  # running | finished | interrupted
}
# `gpufleet serve` (store/service_jobs.py): the server process that accepted each job (run or sweep), so
# a server started later tells the jobs of one that is gone (killed outright) from those of one alive,
# and a note on how a sweep ended (a run's note is its status message).
SIDE_TABLES["service_jobs"] = {
    "job_id": "VARCHAR PRIMARY KEY",
    "host": "VARCHAR NOT NULL",
    "pid": "BIGINT NOT NULL",
    "pid_started": "BIGINT",  # the process's start (clock ticks after boot): a pid reused is another
    "message": "VARCHAR NOT NULL",  # how it ended, when the server had something to say ("" else)
}
SIDE_TABLES["sweep_samples"] = {
    "sweep_id": "VARCHAR NOT NULL",
    "sample": "BIGINT NOT NULL",
    "seed": "BIGINT NOT NULL",  # the sample's simulation seed (from its SeedSequence child)
    "inputs": "VARCHAR NOT NULL",  # JSON: input name -> drawn value
    **{m: "DOUBLE" for m in SWEEP_METRICS},  # NULL when the sample failed
    "yearly": "VARCHAR",  # JSON: figure -> {year: value}, for fan charts
    "error": "VARCHAR",  # why the sample failed, NULL when it did not
}


def table_statement(name: str, columns: dict[str, str]) -> str:
    return f"CREATE TABLE {q(name)} (" + ", ".join(f"{q(c)} {t}" for c, t in columns.items()) + ")"


def run_table_columns(name: str) -> dict[str, str]:
    """A run table's DDL columns: the run id and row number, then its schema from tables.py."""
    cols = {"run_id": "VARCHAR NOT NULL", ROW_COLUMN: "BIGINT NOT NULL"}
    cols.update({c: sql_type(t) for c, t in SCHEMAS[name].items()})
    return cols


def schema_version() -> str:
    """The version this gpufleet writes, as the meta table holds it."""
    return str(STORE_VERSION)


def status_table_statement() -> str:
    return table_statement(STATUS_TABLE, STATUS_COLUMNS)


def sql_type(dtype: str) -> str:
    try:
        return _SQL_TYPES[dtype]
    except KeyError:
        raise ValueError(f"no SQL type for dtype {dtype!r}; add it to store/schema.py") from None


def create_statements() -> list[str]:
    """DDL for a new store: the meta table, `runs`, one table per run table keyed by run id, side tables."""
    stmts = [
        table_statement(META_TABLE, {"key": "VARCHAR PRIMARY KEY", "value": "VARCHAR NOT NULL"}),
        table_statement(RUNS_TABLE, RUNS_COLUMNS),
        table_statement(SCENARIOS_TABLE, {"content_hash": "VARCHAR PRIMARY KEY", "text": "VARCHAR NOT NULL"}),
        status_table_statement(),
    ]
    stmts += [table_statement(name, run_table_columns(name)) for name in SCHEMAS]
    stmts += [table_statement(name, cols) for name, cols in SIDE_TABLES.items()]
    return stmts


def to_db_frame(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table checked against its schema, with a row number, times as naive UTC for DuckDB."""
    out = check_table(name, df)
    for col, dtype in SCHEMAS[name].items():
        if dtype == TIME:
            out[col] = out[col].dt.tz_convert("UTC").dt.tz_localize(None)
    out.insert(0, ROW_COLUMN, np.arange(len(out), dtype="int64"))
    return out


def from_db_frame(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A table read back from DuckDB, with the declared dtypes (times in UTC again)."""
    out = df.drop(columns=[c for c in ("run_id", ROW_COLUMN) if c in df.columns])
    for col, dtype in SCHEMAS[name].items():
        if dtype == TIME:
            out[col] = pd.to_datetime(out[col]).astype("datetime64[us]").dt.tz_localize("UTC")
        elif dtype in ("int64",) and out[col].dtype != "int64":
            out[col] = out[col].astype("int64")
    return check_table(name, out)
