"""`gpufleet simulate` end to end on the small scenario: stored, reported, summarized, reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import SMALL, run_cli

from gpufleet.store import open_store


def test_simulate_stores_the_run_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "runs.duckdb"
    res = run_cli("simulate", str(SMALL), "--store", str(store), "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    doc = json.loads(res.stdout)
    run_id = doc["run"]["run_id"]
    report = Path(doc["report"])
    assert report == Path("reports") / f"{run_id}.html" and report.exists()
    assert "<html" in report.read_text()[:2000].lower()
    with open_store(store, read_only=True) as st:
        assert st.run_ids() == [run_id]
        tables = st.load_run(run_id)
        meta = st.load_meta(run_id)
    assert meta.seed == 7 and meta.scenario_name == "small-two-cloud" and meta.status == "finished"
    assert len(tables.jobs) == doc["headline"]["jobs_submitted"]
    assert not tables.ledger.empty and not tables.series.empty
    # the capacity timeline printed with the run equals the stored series' capacity at the quarter's end
    q1 = {r["provider"]: r["gpus_online_end"] for r in doc["capacity_by_quarter"] if r["quarter"] == "2026Q1"}
    last = tables.series[tables.series["time"] == tables.series["time"].max()]
    assert last.groupby("provider")["capacity_gpus"].sum().to_dict() == pytest.approx(q1)


def test_same_seed_same_tables_other_seed_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = str(tmp_path / "runs.duckdb")
    ids = []
    for seed in ("3", "3", "4"):
        res = run_cli("simulate", str(SMALL), "--store", store, "--seed", seed, "--no-report", "--json",
                      capsys=capsys)  # fmt: skip
        assert res.code == 0, res.stderr
        ids.append(json.loads(res.stdout)["run"]["run_id"])
    assert len(set(ids)) == 3, "a run id is unique per run"
    with open_store(store, read_only=True) as st:
        a, b, c = (st.load_run(i) for i in ids)
    for (name, ta), (_, tb) in zip(a.items(), b.items(), strict=True):
        pd.testing.assert_frame_equal(ta, tb, obj=name)
    assert not a.jobs.equals(c.jobs)


def test_simulate_prints_summary_and_capacity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    res = run_cli("simulate", str(SMALL), "--store", str(tmp_path / "s.duckdb"), capsys=capsys)
    assert res.code == 0, res.stderr
    assert "2026Q1" in res.stdout and "3,168" in res.stdout  # 28 + 16 NVL72 domains x 72, see small.yaml
    assert "report: reports/" in res.stdout and "stored as run" in res.stdout


def test_simulate_bad_scenario_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.read_text().replace("blocks: 4,", "blocks: -4,"))
    store = tmp_path / "s.duckdb"
    res = run_cli("simulate", str(bad), "--store", str(store), capsys=capsys)
    assert res.code == 2 and f"{bad}:" in res.stderr
    assert not store.exists() and not (tmp_path / "reports").exists()


def test_stored_run_keeps_its_scenario_for_later_accounting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = str(tmp_path / "s.duckdb")
    res = run_cli("simulate", str(SMALL), "--store", store, "--no-report", "--json", capsys=capsys)
    run_id = json.loads(res.stdout)["run"]["run_id"]
    with open_store(store, read_only=True) as st:
        assert st.load_scenario_text(run_id) == SMALL.read_text()
    out = tmp_path / "focus.csv"
    res = run_cli("finance", "export", "--run", run_id, "--store", store, "-o", str(out), capsys=capsys)
    assert res.code == 0, res.stderr
    focus = pd.read_csv(out)
    assert len(focus) > 0 and set(focus["ProviderName"]) <= {"aws", "azure", "AWS", "Azure", "Microsoft"}
    assert run_cli("runs", "delete", run_id, "--store", store, capsys=capsys).code == 0
    with open_store(store, read_only=True) as st:
        assert st.run_ids() == []
        n = st._con.execute("SELECT count(*) FROM scenarios").fetchone()
    assert n == (0,), "a scenario no run refers to is removed with its last run"


def test_trace_stream_jobs_past_the_horizon_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generic trace of 15 daily jobs on a 10-day horizon: 10 simulated, 5 reported as after the horizon."""
    monkeypatch.chdir(tmp_path)
    rows = ["submit_s,duration_s,gpus,team"] + [f"{d * 86400 + 60},3600,72,research" for d in range(15)]
    (tmp_path / "jobs.csv").write_text("\n".join(rows) + "\n")
    text = SMALL.read_text().replace("end: 2026-03-31", "end: 2026-01-10")
    text = text.replace(
        "      synthetic: {source: philly, jobs_per_day: 200, size_scale: 8}",
        "      trace: {path: jobs.csv, format: generic}",
    )
    scenario = tmp_path / "traced.yaml"
    scenario.write_text(text)
    store = str(tmp_path / "s.duckdb")
    res = run_cli("simulate", str(scenario), "--store", store, "--no-report", "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["trace_jobs_skipped"] == {"research-jobs": {"after_horizon": 5}}
    with open_store(store, read_only=True) as st:
        jobs = st.load_run(doc["run"]["run_id"]).jobs
    traced = jobs[jobs["workload"] == "research-jobs"]
    assert len(traced) == 10 and set(traced["gpus"]) == {72}
    res = run_cli("simulate", str(scenario), "--store", store, "--no-report", capsys=capsys)
    assert "trace stream 'research-jobs': jobs not simulated: 5 after horizon" in res.stdout


def test_wrong_store_or_report_folder_fails_before_simulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    calls: list[object] = []
    monkeypatch.setattr("gpufleet.pipeline.run_scenario", lambda *a, **k: calls.append(a))
    not_a_store = tmp_path / "notes.duckdb"
    not_a_store.write_text("plain text, not DuckDB")
    res = run_cli("simulate", str(SMALL), "--store", str(not_a_store), capsys=capsys)
    assert res.code == 2 and str(not_a_store) in res.stderr
    res = run_cli("simulate", str(SMALL), "--store", str(tmp_path / "s.duckdb"), "--report", str(tmp_path),
                  capsys=capsys)  # fmt: skip
    assert res.code == 2 and "is a folder" in res.stderr
    assert calls == [], "nothing was simulated"
