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

    deadline: pd.Timestamp | None = None  # end of the deadline day, UTC
    estimate_end: pd.Timestamp | None = None  # submit + expected wall time (with expected failures)
    work_gpu_hours: float | None = None  # GPU-hours of compute the run needs at full speed


@dataclass(frozen=True, slots=True)
class RunContext:
    horizon_end: pd.Timestamp | None = None
    training: Mapping[str, TrainingTarget] = field(default_factory=dict)


def _day_end(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day + dt.timedelta(days=1), tz="UTC")


def run_context(scenario: Scenario, catalog: Catalog) -> RunContext:
    """The context of a run of `scenario`: its horizon and each training run's deadline and estimate."""
    from gpufleet.workload.training import plan_training

    start = pd.Timestamp(scenario.horizon.start, tz="UTC")
    failures = scenario.policies.failures
    targets: dict[str, TrainingTarget] = {}
    for w in scenario.workloads:
        run = w.item
        if not isinstance(run, TrainingRun):
            continue
        estimate, work = None, None
        try:
            plan = plan_training(run, catalog, failures.rate_per_gpu_hour.get(run.accelerator))
        except InputError:
            plan = None
        if plan is not None:
            wall = plan.expected_wall_s if failures.enabled else plan.compute_s
            submit = max(start, pd.Timestamp(run.earliest_start, tz="UTC")) if run.earliest_start else start
            estimate = submit + pd.Timedelta(seconds=wall) if wall < 1e12 else None
            work = plan.gpu_hours
        deadline = _day_end(run.deadline) if run.deadline else None
        targets[run.name] = TrainingTarget(deadline, estimate, work)
    return RunContext(_day_end(scenario.horizon.end), targets)


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
