"""One model: `estimate training` and a simulation of the same inputs agree (tiny scenario, real pipeline)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import run_cli

from gpufleet.pipeline import run_scenario
from gpufleet.scenario.load import load_scenario_text
from gpufleet.workload.training_gap import scenario_training_gaps

SCENARIO = """
name: tiny-training
horizon: {start: 2026-01-01, end: 2026-06-30, step: 1d}
seed: 3
providers: [aws]
sites:
  - {name: east, provider: aws, region: us-east-1, geo: us, power_mw: 5, pue: 1.2}
clusters:
  - {name: c1, site: east, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 8}
contracts:
  - name: main
    provider: aws
    clusters: [c1]
    term: {start: 2026-01-01, end: 2026-12-31}
    price_per_gpu_hour_usd: 3.0
teams:
  - {name: frontier, quota_share: 1.0, priority_class: training}
workloads:
  - training_run:
      name: model-a
      team: frontier
      params: 70.0e9
      tokens: 4.0e12
      accelerator: gb200
      gpus: 504
      earliest_start: 2026-01-10
      checkpoint: CHECKPOINT
policies:
  failures: FAILURES
"""
ESTIMATE = ("--params", "70e9", "--tokens", "4e12", "--accelerator", "gb200", "--gpus", "504",
            "--checkpoint-cost", "30", "--price", "3", "--json")  # fmt: skip


def _scenario(failures: str, checkpoint: str = "{cost_s: 30}") -> str:
    return SCENARIO.replace("FAILURES", failures).replace("CHECKPOINT", checkpoint)


def _simulated(failures: str, checkpoint: str = "{cost_s: 30}") -> tuple[pd.Series, float]:
    """The run's jobs-table row, and its days from start to end."""
    loaded = load_scenario_text(_scenario(failures, checkpoint), "tiny.yaml")
    tables = run_scenario(loaded).tables
    job = tables.jobs[tables.jobs["workload"] == "model-a"].iloc[0]
    assert job["state"] == "finished"
    assert job["start"] == pd.Timestamp("2026-01-10", tz="UTC")  # an empty cluster: no wait
    return job, (job["end"] - job["start"]).total_seconds() / 86400


def test_a_failure_free_run_on_an_empty_cluster_takes_the_estimated_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the same inputs on both sides: no failures, a checkpoint of 30 s every 600 s of training
    job, days = _simulated("{enabled: false}", "{cost_s: 30, interval_s: 600}")
    res = run_cli("estimate", "training", *ESTIMATE, "--failure-rate", "0", "--checkpoint-interval", "600",
                  capsys=capsys)  # fmt: skip
    assert res.code == 0, res.stderr
    est = json.loads(res.stdout)
    assert est["expected_interruptions"] == 0 and est["precision"] == "fp8"
    assert est["expected_wall_days"] == pytest.approx(est["compute_days"] * 630 / 600)
    assert days == pytest.approx(est["expected_wall_days"], rel=0.01)
    assert job["lost_gpu_hours"] == 0 and job["restarts"] == 0
    assert 504 * days * 24 == pytest.approx(est["expected_gpu_hours"], rel=0.01)
    assert 504 * days * 24 * 3.0 == pytest.approx(est["expected_cost_usd"], rel=0.01)


def test_with_many_failures_the_simulation_averages_to_the_estimate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rate = 2e-3  # a failure every hour for 504 GPUs: hundreds of them, the average settles
    job, days = _simulated(f"{{enabled: true, rate_per_gpu_hour: {{gb200: {rate}}}}}")
    res = run_cli("estimate", "training", *ESTIMATE, "--failure-rate", str(rate), capsys=capsys)
    est = json.loads(res.stdout)
    assert job["restarts"] > 300
    assert job["restarts"] == pytest.approx(est["expected_interruptions"], rel=0.1)
    assert days == pytest.approx(est["expected_wall_days"], rel=0.015)
    assert job["lost_gpu_hours"] == pytest.approx(est["expected_lost_gpu_hours"], rel=0.15)


def test_the_comparison_of_a_simulated_run_has_no_unexplained_gap() -> None:
    loaded = load_scenario_text(_scenario("{enabled: true}"), "tiny.yaml")
    tables = run_scenario(loaded).tables
    (gap,) = scenario_training_gaps(tables.jobs, loaded.scenario, loaded.catalog, {"main": 3.0})
    assert gap.finished and gap.price_per_gpu_hour_usd == 3.0
    assert gap.other_days == pytest.approx(0.0, abs=1e-6)  # the engine ran exactly the plan's work
    assert gap.wait_before_start_days == 0 and gap.requeued_wait_days == 0
    assert gap.gap_days == pytest.approx(gap.failures_days)
