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
        "stranded_gpus": "float64",  # fragmentation: free GPUs no waiting job could use, at the step's start
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
    # one row per reporting step and priority class: work waiting for GPUs (demand not yet placed)
    "queue": {
        "time": TIME,
        "class": "string",
        "queued_jobs": "float64",  # average over the step
        "queued_gpus": "float64",  # GPUs the waiting jobs ask for, average over the step
    },
    # ---- after the run (unmet.py, from the tables above and the scenario) ----
    # one row per calendar month and demand that went partly unmet (no row: all of it served that month)
    "unmet": {
        "month": TIME,  # first instant of the calendar month
        "kind": "string",  # inference | training | research | best-effort
        "demand": "string",  # service/region, training run, or priority class (research, best-effort)
        "demand_gpu_hours": "float64",  # served + unmet
        "served_gpu_hours": "float64",
        "unmet_gpu_hours": "float64",  # inference: tokens unserved; training: its GPUs while it waited
        # to start; research, best-effort: the backlog (GPUs asked for by waiting jobs)
        "unmet_pct": "float64",  # unmet / demand (inference: of tokens)
        "demand_tokens": "float64",  # inference only (else NaN)
        "served_tokens": "float64",
        "unmet_tokens": "float64",
        "start_delay_days": "float64",  # training only: planned start to first start (or the horizon)
        "idle_gpu_hours": "float64",  # idle on contracts it may use, while it went unmet (listed below)
        "capacity_short_gpu_hours": "float64",  # unmet - idle, not below 0: what no contract could serve
        "idle_contracts": "string",  # "contract:GPU-hours; ..." most idle first; "" when none had any
    },
    # ---- finance (computed from usage and the scenario's contracts) ----
    # one row per contract and month
    "ledger": {
        "contract": "string",
        "provider": "string",
        "kind": "string",  # committed | on-demand | capacity-block
        "billing": "string",  # reserved | spend-commitment | prepaid | on-demand | capacity-block
        "month": TIME,
        "contract_year": "int64",  # 1-based, from the term's start (anniversaries); 0 outside the term
        "gpu_hours_available": "float64",  # usable capacity online (0 for a pool no workload may use)
        "gpu_hours_unusable": "float64",  # online, but no workload may use it (e.g. overflow off)
        "gpu_hours_used": "float64",
        "overflow_gpu_hours": "float64",
        "price_per_gpu_hour_usd": "float64",
        "usage_cost_usd": "float64",  # used GPU-hours x price
        "minimum_accrued_usd": "float64",  # the yearly minimum accrued by days
        "true_up_usd": "float64",  # paid at a contract-year end (or term end) to reach the minimum
        "cost_due_usd": "float64",  # cash out: billed usage + true-up + prepaid - service credit
        "accrued_cost_usd": "float64",  # cost recognized in the month (accrual basis)
        "prepaid_usd": "float64",  # prepaid: stated payments (a pro-rating refund is negative)
        "service_credit_usd": "float64",  # credits for capacity planned but not delivered
        "undelivered_usd": "float64",  # capacity planned but not delivered, priced: what a slip moved
        "unused_commitment_usd": "float64",  # committed but unused: structural + demand
        "structural_unused_usd": "float64",  # part the delivered capacity could never have used
        "demand_unused_usd": "float64",  # part capacity was there for and went unused
        "overflow_cost_usd": "float64",
        "plan_usd": "float64",  # commitment spread over the term in proportion to capacity online
        "projected_shortfall_usd": "float64",  # unused commitment expected by term end at this utilization
        "power_cost_usd": "float64",  # where the lab pays power
        "utilization_pct": "float64",
        "coverage_pct": "float64",
        "waste_pct": "float64",
        "usd_per_used_gpu_hour": "float64",
        "usd_per_pflop": "float64",  # effective $ per delivered PFLOP (at the accelerator's BF16 peak)
    },
    # one row per calendar year and provider
    "spend": {
        "year": "int64",
        "provider": "string",
        "spend_usd": "float64",  # cash out (billed)
        "accrued_cost_usd": "float64",
        "commitment_due_usd": "float64",
        "share_pct": "float64",
    },
    # one row per calendar year and revenue scenario
    "portfolio": {
        "year": "int64",
        "scenario": "string",
        "spend_usd": "float64",  # cash out (billed)
        "accrued_cost_usd": "float64",
        "power_cost_usd": "float64",
        "hhi": "float64",  # Herfindahl-Hirschman index of spend by provider, 0..10,000
        "revenue_usd": "float64",
        "inference_cost_usd": "float64",
        "inference_gross_margin_pct": "float64",
        "cash_gap_usd": "float64",  # spend - revenue (positive: money needed)
        "cumulative_funding_need_usd": "float64",
        "years_of_revenue_to_cover": "float64",  # remaining commitments / this year's revenue
        "run_case": "bool",  # the revenue case the run's demand followed (simulate --case)
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
    out = df.loc[:, list(schema)]  # no copy: pandas' copy-on-write keeps the caller's frame apart
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
    queue: pd.DataFrame = field(default_factory=lambda: empty_table("queue"))
    unmet: pd.DataFrame = field(default_factory=lambda: empty_table("unmet"))
    ledger: pd.DataFrame = field(default_factory=lambda: empty_table("ledger"))
    spend: pd.DataFrame = field(default_factory=lambda: empty_table("spend"))
    portfolio: pd.DataFrame = field(default_factory=lambda: empty_table("portfolio"))

    def items(self) -> list[tuple[str, pd.DataFrame]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]
