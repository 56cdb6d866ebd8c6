"""A sample's metrics at full fidelity equal what `simulate` reports for the same scenario and seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SCENARIOS, run_cli

from gpufleet.risk.metrics import METRICS
from gpufleet.risk.sweep import full_fidelity
from gpufleet.scenario import load_scenario
from gpufleet.store.schema import SWEEP_METRICS


def test_full_fidelity_matches_the_simulate_headline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = SCENARIOS / "uncertain.yaml"
    result = run_cli("simulate", str(file), "--seed", "5", "--store", str(tmp_path / "s.duckdb"),
                     "--no-report", "--json", capsys=capsys)  # fmt: skip
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    head = out["headline"]
    loaded = load_scenario(file)
    metrics, yearly = full_fidelity(loaded, loaded, 5)
    assert metrics["utilization_pct"] == pytest.approx(head["utilization_pct"])
    assert metrics["spend_usd"] == pytest.approx(head["spend_usd"])
    assert metrics["funding_need_usd"] == pytest.approx(head["funding_need_usd.base"])
    assert metrics["inference_unserved_pct"] == pytest.approx(head["inference_unserved_pct"] or 0.0)
    # the yearly cash out adds up to the run's spend, and its largest year is the cash peak
    assert sum(yearly["spend_usd"].values()) == pytest.approx(head["spend_usd"])
    assert max(yearly["spend_usd"].values()) == pytest.approx(metrics["cash_peak_usd"])


def test_the_store_has_a_column_for_every_metric() -> None:
    assert tuple(METRICS) == SWEEP_METRICS
