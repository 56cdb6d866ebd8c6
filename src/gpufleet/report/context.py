"""What the report knows of a run beyond its tables: the horizon's end, training deadlines and estimates.

Built from the scenario the run ran (the store keeps its text). A run stored without it gets an empty
context: the findings then date training runs without a deadline or an estimate, and take the horizon
from the tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from gpufleet.catalog import Catalog
from gpufleet.errors import InputError
from gpufleet.scenario.schema import Scenario, TrainingRun

if TYPE_CHECKING:
    from gpufleet.store.store import Store


@dataclass(frozen=True, slots=True)
class TrainingTarget:
    """A training run's plan: wanted by (deadline) and expected finish from the training-time model."""

    deadline: pd.Timestamp | None = None  # the deadline day (00:00 UTC); the run is due by its end
    estimate_end: pd.Timestamp | None = None  # submit + expected wall time (with expected failures)
    work_gpu_hours: float | None = None  # GPU-hours of compute the run needs at full speed
    compute_share: float = 1.0  # compute / (compute + checkpoint writes): the part of work that trains
    restart_s: float | None = None  # seconds from an interruption to training again (the model's)
    checkpoint_interval_s: float | None = None  # training seconds between checkpoints (inf: none)


CONTRACT_COLUMNS: tuple[str, ...] = (
    "contract", "provider", "kind", "product", "accelerator", "term_start", "term_end",
    "price_per_gpu_hour_usd", "commitment_total_usd", "commitment_min_per_year_usd", "take_or_pay",
    "gpus_full_ramp", "provenance",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RunContext:
    horizon_end: pd.Timestamp | None = None
    training: Mapping[str, TrainingTarget] = field(default_factory=dict)
    contracts: pd.DataFrame | None = None  # CONTRACT_COLUMNS, one row per contract


def contract_table(scenario: Scenario, catalog: Catalog) -> pd.DataFrame:
    """The scenario's contracts as the report lists them: terms, price, commitment, GPUs at full ramp,
    and which figures are facts (with their sources) or assumptions (each contract's `provenance`).

    GPUs at full ramp = the ramp's largest domain count × GPUs per domain (for on-demand and capacity-block
    contracts, their cap). Prices and ramps are resolved as the engine resolves them (list price where
    the contract states none; a ramp derived from the commitment where it says so).
    """
    from gpufleet.scenario.provenance import contract_marks, marks_by_contract
    from gpufleet.scenario.ramp import resolve_contracts

    given = {c.name: c for c in scenario.contracts}
    marks = marks_by_contract(contract_marks(scenario, catalog.sources))
    rows = []
    for rc in resolve_contracts(scenario, catalog):
        commitment = given[rc.name].commitment
        ramp_gpus = max((d for _, d in rc.ramp), default=0) * rc.product.gpus_per_domain
        rows.append(
            {
                "contract": rc.name,
                "provider": rc.provider,
                "kind": rc.kind,
                "product": rc.product.id,
                "accelerator": rc.product.accelerator,
                "term_start": rc.start,
                "term_end": rc.end,
                "price_per_gpu_hour_usd": rc.price_per_gpu_hour_usd,
                "commitment_total_usd": commitment.total_usd if commitment else None,
                "commitment_min_per_year_usd": commitment.min_per_year_usd if commitment else None,
                "take_or_pay": commitment.take_or_pay if commitment else None,
                "gpus_full_ramp": rc.cap_gpus if rc.kind != "committed" and rc.cap_gpus else ramp_gpus,
                "provenance": marks.get(rc.name, "not marked"),
            }
        )
    return pd.DataFrame(rows, columns=list(CONTRACT_COLUMNS))


def _day_end(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day + dt.timedelta(days=1), tz="UTC")


def run_context(scenario: Scenario, catalog: Catalog) -> RunContext:
    """The context of a run of `scenario`: its horizon and each training run's deadline and estimate."""
    from gpufleet.workload.training import plan_scenario_run

    start = pd.Timestamp(scenario.horizon.start, tz="UTC")
    targets: dict[str, TrainingTarget] = {}
    for w in scenario.workloads:
        run = w.item
        if not isinstance(run, TrainingRun):
            continue
        estimate, work, share, restart, interval = None, None, 1.0, None, None
        try:  # the one training-time model, as the engine runs it (workload.training)
            plan = plan_scenario_run(run, scenario, catalog)
        except InputError:
            plan = None
        if plan is not None:
            wall = plan.expected_wall_s
            submit = max(start, pd.Timestamp(run.earliest_start, tz="UTC")) if run.earliest_start else start
            estimate = submit + pd.Timedelta(seconds=wall) if wall < 1e12 else None
            work = plan.gpu_hours
            share = plan.compute_s / plan.work_s if plan.work_s > 0 else 1.0
            restart, interval = plan.restart_s, plan.checkpoint_interval_s
        deadline = pd.Timestamp(run.deadline, tz="UTC") if run.deadline else None
        targets[run.name] = TrainingTarget(deadline, estimate, work, share, restart, interval)
    return RunContext(_day_end(scenario.horizon.end), targets, contract_table(scenario, catalog))


def stored_context(store: Store, run_id: str) -> RunContext:
    """The context from the scenario text the store kept with the run; empty when it kept none."""
    from gpufleet.scenario import load_scenario_text

    text = store.load_scenario_text(run_id)
    if text is None:
        return RunContext()
    try:
        loaded = load_scenario_text(text, f"<scenario of run {run_id}>")
    except InputError:
        return RunContext()  # a scenario this version no longer reads: report from the tables alone
    return run_context(loaded.scenario, loaded.catalog)
