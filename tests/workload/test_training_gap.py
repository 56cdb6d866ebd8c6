"""The per-run comparison, estimate vs simulation, on constructed jobs tables whose gap is known."""

from __future__ import annotations

import pandas as pd
import pytest

from gpufleet.catalog import load_builtin_catalog
from gpufleet.scenario.schema import TrainingRun
from gpufleet.tables import check_table
from gpufleet.workload.training import plan_training
from gpufleet.workload.training_gap import training_gap

DAY = 86400.0
T0 = pd.Timestamp("2027-01-01", tz="UTC")
RUN = TrainingRun.model_validate(
    {"name": "big", "team": "t", "params": 1e12, "tokens": 1e13, "accelerator": "gb200",
     "precision": "fp8", "gpus": 32768, "checkpoint": {"cost_s": 10, "restart_s": 180}}
)  # fmt: skip
PLAN = plan_training(RUN, load_builtin_catalog())


def _job(start_after_s: float, wait_s: float, run_s: float | None, lost_gpu_h: float, restarts: int,
         preemptions: int, state: str = "finished") -> pd.Series:  # fmt: skip
    row = {
        "id": [0], "workload": ["big"], "team": ["t"], "class": ["training"], "gpus": [RUN.gpus],
        "submit": [T0], "start": [T0 + pd.Timedelta(seconds=start_after_s)],
        "end": pd.Series([T0 + pd.Timedelta(seconds=wait_s + run_s) if run_s is not None else pd.NaT],
                         dtype="datetime64[us, UTC]"),
        "cluster": ["c"], "provider": ["p"], "contract": ["k"], "wait_s": [wait_s],
        "restarts": [restarts], "preemptions": [preemptions], "lost_gpu_hours": [lost_gpu_h],
        "state": [state], "reason": [""],
    }  # fmt: skip
    return check_table("jobs", pd.DataFrame(row)).iloc[0]


def test_a_run_exactly_as_planned_has_no_gap() -> None:
    lost_s = PLAN.expected_wall_s - PLAN.work_s
    job = _job(0.0, 0.0, PLAN.expected_wall_s, RUN.gpus * lost_s / 3600, 10, 0)
    g = training_gap(job, PLAN, price_per_gpu_hour_usd=3.0)
    assert g.finished and g.gap_days == pytest.approx(0.0, abs=1e-6)
    assert g.simulated_goodput == pytest.approx(PLAN.expected_goodput, rel=1e-6)
    assert g.simulated_cost_usd == pytest.approx(g.estimated_cost_usd, rel=1e-6)
    assert g.estimated_cost_usd == pytest.approx(PLAN.expected_gpu_hours * 3.0)
    for part in (
        g.wait_before_start_days,
        g.requeued_wait_days,
        g.preemption_days,
        g.failures_days,
        g.other_days,
    ):
        assert part == pytest.approx(0.0, abs=1e-6)


def test_the_gap_splits_into_its_known_causes() -> None:
    # waits 2 days for capacity, then 1 more day requeued; 2 preemptions; failures lost 5 hours
    # more running time than expected
    per_preemption = PLAN.restart_s + PLAN.checkpoint_period_s / 2
    expected_lost = PLAN.expected_wall_s - PLAN.work_s
    lost_s = expected_lost + 2 * per_preemption + 5 * 3600
    run_s = PLAN.work_s + lost_s
    job = _job(2 * DAY, 3 * DAY, run_s, RUN.gpus * lost_s / 3600, 40, 2)
    g = training_gap(job, PLAN, price_per_gpu_hour_usd=2.0)
    assert g.wait_before_start_days == pytest.approx(2.0)
    assert g.requeued_wait_days == pytest.approx(1.0)
    assert g.preemption_days == pytest.approx(2 * per_preemption / DAY)
    assert g.failures_days == pytest.approx(5 / 24)
    assert g.other_days == pytest.approx(0.0, abs=1e-6)
    parts = g.wait_before_start_days + g.requeued_wait_days + g.preemption_days + g.failures_days
    assert g.gap_days == pytest.approx(parts)
    assert g.simulated_days == pytest.approx((3 * DAY + run_s) / DAY)
    # goodput and cost count only the time the run held GPUs, not its waits
    assert g.simulated_goodput == pytest.approx(PLAN.compute_s / run_s)
    assert g.simulated_gpu_hours == pytest.approx(RUN.gpus * run_s / 3600)
    assert g.simulated_cost_usd == pytest.approx(2.0 * RUN.gpus * run_s / 3600)
    assert g.simulated_lost_gpu_hours - g.estimated_lost_gpu_hours == pytest.approx(
        RUN.gpus * (2 * per_preemption + 5 * 3600) / 3600
    )
    d = g.to_dict()
    assert d["gap_days"] == pytest.approx(g.gap_days) and d["name"] == "big"


def test_a_run_unfinished_at_the_horizon_shows_the_work_not_done() -> None:
    # started after 1 day, ran 10 days without losing anything, still running at the horizon
    horizon = T0 + pd.Timedelta(days=11)
    job = _job(DAY, DAY, None, 0.0, 0, 0, state="running")
    g = training_gap(job, PLAN, until=horizon)
    assert not g.finished and g.simulated_days == pytest.approx(11.0)
    done = 10 * DAY / PLAN.work_s
    expected_lost = PLAN.expected_wall_s - PLAN.work_s
    # it lost nothing where a tenth-or-so of the expected loss was due: fewer failures than expected
    assert g.failures_days == pytest.approx(-expected_lost * done / DAY)
    # the rest is the expected wall time of the work left
    assert g.other_days == pytest.approx(-PLAN.expected_wall_s * (1 - done) / DAY)
    parts = g.wait_before_start_days + g.requeued_wait_days + g.preemption_days + g.failures_days
    assert g.gap_days == pytest.approx(parts + g.other_days)
    assert g.simulated_goodput != g.simulated_goodput  # NaN: no goodput for a run not done
    assert g.to_dict()["simulated_goodput"] is None


def test_an_unfinished_run_failing_as_expected_shows_no_failure_gap() -> None:
    # half the work done, with exactly half the expected loss: the failures column is 0, not
    # minus the half of the loss still to come
    expected_lost = PLAN.expected_wall_s - PLAN.work_s
    lost_s = expected_lost / 2
    run_s = PLAN.work_s / 2 + lost_s
    horizon = T0 + pd.Timedelta(seconds=run_s)
    job = _job(0.0, 0.0, None, RUN.gpus * lost_s / 3600, 5, 0, state="running")
    g = training_gap(job, PLAN, until=horizon)
    assert g.failures_days == pytest.approx(0.0, abs=1e-6)
    assert g.other_days == pytest.approx(-PLAN.expected_wall_s / 2 / DAY)
    assert g.gap_days == pytest.approx(g.other_days)
