"""`gpufleet sweep`: the printed quantiles and probabilities are those of the stored samples; a report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import SCENARIOS, run_cli

from gpufleet.report.units import usd_text
from gpufleet.store import open_store
from gpufleet.store.sweeps import load_samples


def test_sweep_json_summarizes_the_stored_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, report = tmp_path / "s.duckdb", tmp_path / "sweep.html"
    file = str(SCENARIOS / "uncertain.yaml")
    args = ["-n", "4", "--seed", "2", "--store", str(store), "-o", str(report), "--funding-threshold", "0"]
    result = run_cli("sweep", file, *args, "--json", capsys=capsys)
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["sweep"]["status"] == "finished" and out["sweep"]["samples"] == 4
    with open_store(store, read_only=True) as s:
        samples = load_samples(s, out["sweep"]["sweep_id"])
    ok = samples[samples["error"].isna()]
    assert out["samples"]["finished"] == len(ok) and out["samples"]["failed"] == 4 - len(ok)
    spend = ok["spend_usd"].to_numpy()
    assert out["metrics"]["spend_usd"]["p50"] == pytest.approx(np.median(spend))
    assert (
        out["metrics"]["spend_usd"]["p10"]
        <= out["metrics"]["spend_usd"]["p50"]
        <= out["metrics"]["spend_usd"]["p90"]
    )
    assert out["probabilities"]["funding_need_above"]["probability"] == pytest.approx(
        float(np.mean(ok["funding_need_usd"].to_numpy() > 0))
    )
    assert {(s["input"], s["metric"]) for s in out["sensitivity"]} >= {("azure-price", "spend_usd")}
    assert set(out["yearly"]) >= {"spend_usd"}
    page = report.read_text(encoding="utf-8")
    assert 'id="tornado-spend_usd"' in page and 'id="fan-spend_usd"' in page
    assert 'src="http' not in page  # offline: plotly.js is embedded, nothing loaded from a CDN
    assert 'data-table="quantiles"' in page and 'data-table="sensitivity"' in page
    assert f'<td data-col="p50">{usd_text(float(np.median(spend)))}</td>' in page
    listed = run_cli("sweeps", "--store", str(store), "--json", capsys=capsys)
    assert listed.code == 0
    (row,) = json.loads(listed.stdout)
    assert row["sweep_id"] == out["sweep"]["sweep_id"] and row["stored"] == 4
    assert row["failed"] == out["samples"]["failed"] and row["status"] == "finished"
    # the text output prints the same sweep again from the store, without recomputing
    again = run_cli("sweep", "--resume", out["sweep"]["sweep_id"], "--store", str(store), "--no-report",
                    capsys=capsys)  # fmt: skip
    assert again.code == 0, again.stderr
    assert "P10" in again.stdout and "What drives what" in again.stdout


def test_a_sweep_with_an_uncertainty_file_resumes_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (SCENARIOS / "uncertain.yaml").read_text(encoding="utf-8")
    cut = text.index("uncertainty:")
    scenario, block = tmp_path / "scenario.yaml", tmp_path / "inputs.yaml"
    scenario.write_text(text[:cut], encoding="utf-8")
    block.write_text(text[cut:], encoding="utf-8")
    store = str(tmp_path / "s.duckdb")
    first = run_cli("sweep", str(scenario), "-u", str(block), "-n", "2", "--store", store, "--no-report",
                    "--json", capsys=capsys)  # fmt: skip
    assert first.code == 0, first.stderr
    sweep_id = json.loads(first.stdout)["sweep"]["sweep_id"]
    again = run_cli("sweep", str(scenario), "-u", str(block), "--resume", sweep_id, "--store", store,
                    "--no-report", capsys=capsys)  # fmt: skip
    assert again.code == 0, again.stderr
    without = run_cli("sweep", str(scenario), "--resume", sweep_id, "--store", store, capsys=capsys)
    assert without.code == 2 and "is not the scenario" in without.stderr
