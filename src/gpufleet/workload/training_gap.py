"""A simulated training run against its estimate: days, goodput, lost GPU-hours, cost, and why they differ.

Pure: the run's row of the jobs table and its plan (workload.training) in, figures out. The engine
runs the plan's work (compute + checkpoint writes), so for a run that finished

    simulated days = wait before start + requeued waits + work + lost running time,
    estimated days = work + expected lost running time,

and the gap splits exactly into: the wait before the first start (queueing, capacity not yet there),
waits after a requeue (a preemption, or a failed node with no spare), work lost to preemptions
(each loses on average half a checkpoint period and a restart: charged at that expectation), and
failures as drawn against the expected (the rest of the lost time). A run still queued or running at
the horizon has no end: its simulated figures are lower bounds (`finished` False); its failures are
weighed against the loss expected for the share of the work it did, and `other` is the expected
wall time of the work left (< 0), so a half-done run is not shown as having failed less than planned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gpufleet.catalog import Catalog
from gpufleet.scenario.schema import Scenario, TrainingRun
from gpufleet.workload.training import TrainingPlan, plan_scenario_run

DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class TrainingGap:
    """Estimated and simulated figures of one training run, and the gap in days by cause."""

    name: str
    state: str  # the job's state at the horizon
    finished: bool
    gpus: int
    estimated_days: float  # expected wall time (no queueing)
    simulated_days: float  # submit to end (or to the horizon's last event seen: a lower bound)
    estimated_goodput: float
    simulated_goodput: float  # compute time / time holding GPUs
    estimated_interruptions: float
    simulated_interruptions: int  # restarts after failures
    preemptions: int
    estimated_lost_gpu_hours: float
    simulated_lost_gpu_hours: float
    estimated_gpu_hours: float
    simulated_gpu_hours: float  # GPUs x time holding them
    price_per_gpu_hour_usd: float | None
    estimated_cost_usd: float | None
    simulated_cost_usd: float | None
    wait_before_start_days: float
    requeued_wait_days: float
    preemption_days: float
    failures_days: float  # lost time to failures as drawn minus the expected
    other_days: float  # what the causes above leave unexplained (0 when both run one model)

    @property
    def gap_days(self) -> float:
        return self.simulated_days - self.estimated_days

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["gap_days"] = self.gap_days
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}


def training_gap(
    job: pd.Series, plan: TrainingPlan, price_per_gpu_hour_usd: float | None = None, until: Any = None
) -> TrainingGap:
    """Compare one training run's jobs-table row with its plan.

    `until` (a UTC timestamp) closes a run still running or queued at the horizon; without it such a
    run is measured to its last start. `price_per_gpu_hour_usd` prices both sides alike (the contract
    the run used), so the cost gap is the GPU-hour gap.
    """
    g = int(job["gpus"])
    submit = pd.Timestamp(job["submit"])
    start = job["start"]
    end = job["end"]
    finished = str(job["state"]) == "finished" and not pd.isna(end)
    stop = end if not pd.isna(end) else (pd.Timestamp(until) if until is not None else start)
    if pd.isna(stop):
        stop = submit
    total_s = max(0.0, (pd.Timestamp(stop) - submit).total_seconds())
    first_wait_s = (pd.Timestamp(start) - submit).total_seconds() if not pd.isna(start) else total_s
    wait_s = min(float(job["wait_s"]), total_s) if not pd.isna(job["wait_s"]) else first_wait_s
    wait_s = max(wait_s, first_wait_s)
    run_s = total_s - wait_s  # time holding GPUs
    lost_s = float(job["lost_gpu_hours"]) * 3600.0 / g
    est_lost_s = plan.expected_wall_s - plan.work_s
    preempts = int(job["preemptions"])
    per_preemption_s = (
        plan.restart_s + plan.checkpoint_period_s / 2.0
        if math.isfinite(plan.checkpoint_period_s)
        else plan.restart_s + plan.work_s / 2.0
    )
    preempt_s = min(preempts * per_preemption_s, lost_s)
    # the share of the plan's work done: the expected loss accrues with it
    done = 1.0 if finished or plan.work_s <= 0 else min(1.0, max(0.0, (run_s - lost_s) / plan.work_s))
    failures_s = (lost_s - preempt_s) - est_lost_s * done
    # work run beyond the plan's, less the expected loss of the work not done (< 0: not done)
    other_s = run_s - lost_s - plan.work_s - est_lost_s * (1.0 - done)
    sim_gpu_h = g * run_s / 3600.0
    price = price_per_gpu_hour_usd
    return TrainingGap(
        name=plan.name,
        state=str(job["state"]),
        finished=finished,
        gpus=g,
        estimated_days=plan.expected_wall_s / DAY_S,
        simulated_days=total_s / DAY_S,
        estimated_goodput=plan.expected_goodput,
        simulated_goodput=plan.compute_s / run_s if finished and run_s > 0 else math.nan,
        estimated_interruptions=plan.expected_interruptions,
        simulated_interruptions=int(job["restarts"]),
        preemptions=preempts,
        estimated_lost_gpu_hours=plan.expected_lost_gpu_hours,
        simulated_lost_gpu_hours=float(job["lost_gpu_hours"]),
        estimated_gpu_hours=plan.expected_gpu_hours,
        simulated_gpu_hours=sim_gpu_h,
        price_per_gpu_hour_usd=price,
        estimated_cost_usd=None if price is None else plan.expected_gpu_hours * price,
        simulated_cost_usd=None if price is None else sim_gpu_h * price,
        wait_before_start_days=first_wait_s / DAY_S,
        requeued_wait_days=(wait_s - first_wait_s) / DAY_S,
        preemption_days=preempt_s / DAY_S,
        failures_days=failures_s / DAY_S,
        other_days=other_s / DAY_S,
    )


def scenario_training_gaps(
    jobs: pd.DataFrame,
    scenario: Scenario,
    catalog: Catalog,
    prices: Mapping[str, float] | None = None,
    until: Any = None,
) -> list[TrainingGap]:
    """One comparison per training run of the scenario that has a row in the jobs table, in the
    scenario's order; `prices` maps a contract name to its $ per GPU-hour."""
    out = []
    for w in scenario.workloads:
        run = w.item
        if not isinstance(run, TrainingRun):
            continue
        rows = jobs[jobs["workload"] == run.name]
        if rows.empty:
            continue
        job = rows.iloc[0]
        contract = job["contract"]
        price = None if prices is None or pd.isna(contract) else prices.get(str(contract))
        out.append(training_gap(job, plan_scenario_run(run, scenario, catalog), price, until))
    return out
