"""The run tables: the contract between engine, finance, store and report (DESIGN.md).

Flat tables, one row per thing, explicit units in column names, times as UTC timestamps. Each table
is a pandas DataFrame whose columns and dtypes are listed here once; `check_table` enforces them at
the boundaries (the engine's output, finance's output, the store's input).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

TIME = "datetime64[us, UTC]"

PRIORITY_CLASSES: tuple[str, ...] = ("inference", "training", "research", "best-effort")
CLASS_COLUMN = {c: c.replace("-", "_") for c in PRIORITY_CLASSES}
JOB_STATES: tuple[str, ...] = ("finished", "failed", "queued", "running")

# column -> dtype. Strings are pandas' "string" dtype; nullable integers are "Int64".
SCHEMAS: dict[str, dict[str, str]] = {
    # one row per job (training runs, research jobs); inference replicas are in `inference`
    "jobs": {
        "id": "int64",
        "workload": "string",
        "team": "string",
        "class": "string",
        "gpus": "int64",
        "submit": TIME,
        "start": TIME,  # first start; NaT if it never started
        "end": TIME,  # finish or failure time; NaT while queued or running at the horizon
        "cluster": "string",  # where it last ran; <NA> if it never started
        "provider": "string",
        "contract": "string",
        "wait_s": "float64",  # total time queued (first wait and requeues), up to end or horizon
        "restarts": "int64",  # restarts after failures
        "preemptions": "int64",
        "lost_gpu_hours": "float64",  # work thrown away by failures and preemptions, plus restart overheads
        "state": "string",  # finished | failed | queued | running (at the horizon)
        "reason": "string",  # why it failed, or "" otherwise
    },
    # one row per cluster and reporting step; GPU figures are averages over the step
    "series": {
        "time": TIME,  # start of the step
        "cluster": "string",
        "provider": "string",
        "contract": "string",
        "capacity_gpus": "float64",
        "allocated_inference_gpus": "float64",
        "allocated_training_gpus": "float64",
        "allocated_research_gpus": "float64",
        "allocated_best_effort_gpus": "float64",
        "failed_gpus": "float64",
        "idle_gpus": "float64",
        "power_mw": "float64",  # facility power drawn (IT power x PUE)
    },
    # one row per contract and calendar month (UTC)
    "usage": {
        "contract": "string",
        "provider": "string",
        "month": TIME,  # first instant of the month, or of the term if it starts mid-month
        "gpu_hours_available": "float64",
        "gpu_hours_used": "float64",
        "gpu_hours_used_inference": "float64",
        "gpu_hours_used_training": "float64",
        "gpu_hours_used_research": "float64",
        "gpu_hours_used_best_effort": "float64",
        "overflow_gpu_hours": "float64",  # used on an on-demand / capacity-block contract
    },
    # one row per inference service, region and reporting step
    "inference": {
        "service": "string",
        "region": "string",
        "time": TIME,
        "demand_tokens_s": "float64",
        "served_tokens_s": "float64",
        "replicas": "float64",  # average replicas over the step
        "gpus": "float64",
    },
}


def empty_table(name: str) -> pd.DataFrame:
    """An empty table with the right columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in SCHEMAS[name].items()})


def check_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table with its declared columns, in order, cast to their dtypes; raises if a column is missing."""
    schema = SCHEMAS[name]
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise ValueError(f"table {name!r} lacks columns {missing}")
    out = df.loc[:, list(schema)].copy()
    for col, dtype in schema.items():
        if str(out[col].dtype) != dtype:
            out[col] = out[col].astype(dtype)  # type: ignore[call-overload]
    return out.reset_index(drop=True)


@dataclass
class RunTables:
    """Everything one run produced, table by table."""

    jobs: pd.DataFrame = field(default_factory=lambda: empty_table("jobs"))
    series: pd.DataFrame = field(default_factory=lambda: empty_table("series"))
    usage: pd.DataFrame = field(default_factory=lambda: empty_table("usage"))
    inference: pd.DataFrame = field(default_factory=lambda: empty_table("inference"))

    def items(self) -> list[tuple[str, pd.DataFrame]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]
