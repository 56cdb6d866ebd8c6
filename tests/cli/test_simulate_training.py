"""`gpufleet simulate` shows and returns each training run's estimate vs simulation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SMALL, run_cli


def test_simulate_compares_each_training_run_with_its_estimate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "runs.duckdb")
    res = run_cli("simulate", str(SMALL), "--store", store, "--no-report", "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    (run,) = json.loads(res.stdout)["training_runs"]
    assert run["name"] == "model-a" and run["gpus"] == 576
    assert run["price_per_gpu_hour_usd"] == 3.0  # the contract it ran on (aws-main)
    parts = ("wait_before_start_days", "requeued_wait_days", "preemption_days", "failures_days", "other_days")
    assert run["gap_days"] == pytest.approx(sum(run[p] for p in parts), abs=1e-9)
    assert run["simulated_days"] - run["estimated_days"] == pytest.approx(run["gap_days"])
    if run["finished"]:
        assert run["other_days"] == pytest.approx(0.0, abs=1e-6)
    text = run_cli("simulate", str(SMALL), "--store", store, "--no-report", capsys=capsys)
    assert text.code == 0 and "Training runs: estimate" in text.stdout and "model-a" in text.stdout
