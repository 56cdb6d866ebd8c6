"""The scenario commands and the capacity timeline of `simulate`, checked against the YAML by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import SMALL, run_cli

from gpufleet.catalog import load_builtin_catalog
from gpufleet.scenario import builtin_scenario_text


def test_scenario_show_prints_the_packaged_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_cli("scenario", "show", "default", "--store", str(tmp_path / "none.duckdb"), capsys=capsys)
    assert res.code == 0
    text = builtin_scenario_text("default")
    assert res.stdout.startswith(text)
    tail = res.stdout[len(text) :].strip().splitlines()
    assert tail and all(line.startswith("#") for line in tail)  # the provenance footer: still YAML
    assert yaml.safe_load(res.stdout) == yaml.safe_load(text)
    # the calibration table: inputs with their sources, checks waiting for a run
    assert "# Calibration" in res.stdout and "revenue_2025_usd = 13B USD" in res.stdout
    assert "no stored run of this scenario" in res.stdout and "simulated -" in res.stdout


def test_scenario_show_reads_the_checks_from_a_stored_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy of the default cut at the checks' last day, simulated: the table shows every check's
    simulated value and gap from that run, as the calibration function computes them."""
    from gpufleet.catalog import load_anchors
    from gpufleet.finance.calibration import calibration
    from gpufleet.scenario import load_scenario_file
    from gpufleet.store import open_store

    copy = tmp_path / "default-short.yaml"
    copy.write_text(builtin_scenario_text("default").replace("  end: 2032-12-31 ", "  end: 2026-02-28 ", 1))
    store = str(tmp_path / "runs.duckdb")
    assert run_cli("simulate", str(copy), "--store", store, "--no-report", "--quiet", capsys=capsys).code == 0
    res = run_cli("scenario", "show", str(copy), "--store", store, "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    table = json.loads(res.stdout)["calibration"]
    with open_store(store, read_only=True) as st:
        assert table["run"] == st.run_ids()[-1]
        tables = st.load_run(table["run"])
    loaded = load_scenario_file(copy)
    expected = calibration(load_anchors(), loaded.catalog.sources, tables, loaded.scenario)
    checks = [r for r in table["rows"] if r["use"] == "check"]
    assert len(checks) == sum(r.use == "check" for r in expected) >= 3
    for row, want in zip(checks, [r for r in expected if r.use == "check"], strict=True):
        assert row["key"] == want.key and row["simulated"] == pytest.approx(want.simulated)
        assert row["within"] is True
    text = run_cli("scenario", "show", str(copy), "--store", store, capsys=capsys).stdout
    assert f"(run {table['run']})" in text and "OUT OF RANGE" not in text


def test_scenario_show_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("scenario", "show", "nope", capsys=capsys)
    assert res.code == 2 and "no built-in scenario 'nope'" in res.stderr and "default" in res.stderr


def test_scenario_new_writes_an_editable_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "mine.yaml"
    assert run_cli("scenario", "new", str(target), capsys=capsys).code == 0
    assert target.read_text() == builtin_scenario_text("default")
    assert run_cli("validate", str(target), capsys=capsys).code == 0
    again = run_cli("scenario", "new", str(target), capsys=capsys)
    assert again.code == 2 and "--force" in again.stderr
    assert run_cli("scenario", "new", str(target), "--force", capsys=capsys).code == 0


def test_validate_ok_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("validate", str(SMALL), "--json", capsys=capsys)
    assert res.code == 0
    doc = json.loads(res.stdout)
    assert doc["ok"] is True and doc["name"] == "small-two-cloud"


def test_validate_json_lists_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    text = SMALL.read_text().replace("seed: 7", "seed: -7")
    bad.write_text(text)
    seed_line = text.splitlines().index("seed: -7") + 1
    res = run_cli("validate", str(bad), "--json", capsys=capsys)
    assert res.code == 2
    doc = json.loads(res.stdout)
    assert doc["ok"] is False
    assert doc["problems"][0]["field"] == "seed" and doc["problems"][0]["where"] == f"{bad}:{seed_line}"


def test_usage_errors_exit_2_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("validate", "--no-such-option", capsys=capsys)
    assert res.code == 2 and "Traceback" not in res.stderr


def test_capacity_by_quarter_matches_the_ramp(capsys: pytest.CaptureFixture[str]) -> None:
    """small.yaml's azure-main: 8 NVL72 domains from Jan 1, 16 from Feb 15 (45 + 45 days of Q1 2026)."""
    from gpufleet.fleet.capacity import build_capacity
    from gpufleet.fleet.summary import quarterly_capacity
    from gpufleet.scenario import load_scenario_file

    loaded = load_scenario_file(SMALL)
    rows = {
        (r.provider, r.quarter): r
        for r in quarterly_capacity(build_capacity(loaded.scenario, loaded.catalog), loaded.catalog)
    }
    azure = rows[("azure", "2026Q1")]
    assert azure.gpus_online_end == 16 * 72
    assert azure.gpus_online_avg == pytest.approx((45 * 8 + 45 * 16) * 72 / 90)
    assert azure.gpu_hours == pytest.approx((45 * 8 + 45 * 16) * 72 * 24)
    # valued at the contract's $3.50; nd-gb300-v6 has no list price, so no list value is made up for it
    assert azure.contract_value_usd == pytest.approx(azure.gpu_hours * 3.5)
    assert load_builtin_catalog().list_price("azure/nd-gb300-v6") is None
    assert azure.list_value_usd == 0.0
    assert azure.unlisted_gpu_hours == pytest.approx(azure.gpu_hours)
    assert azure.facility_mw_avg == pytest.approx((45 * 8 + 45 * 16) / 90 * 135 * 1.15 / 1000)
