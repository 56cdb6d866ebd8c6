"""CLI: `gpufleet plan` stores the plan and prints its id; `plans list|show|report` read it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli

from tests.plan.tiny import tiny

RESEARCH = """\
teams: [{name: res, quota_share: 1.0}]
workloads:
  - stream: {name: research, team: res, synthetic: {source: philly, fleet_share: 0.5}}
"""


def test_plan_is_stored_listed_shown_and_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(tiny(workloads=RESEARCH).text)
    store = str(tmp_path / "s.duckdb")
    made = run_cli("plan", str(scenario), "--json", "--no-values", "--store", store, capsys=capsys)
    assert made.code == 0, made.stderr
    d = json.loads(made.stdout)
    plan_id = d["plan_id"]
    assert plan_id.startswith("plan-") and d["store"] == store
    text = run_cli("plan", str(scenario), "--no-values", "--store", store, capsys=capsys)
    assert text.code == 0 and "stored as plan plan-" in text.stdout
    listed = run_cli("plans", "list", "--store", store, "--json", capsys=capsys)
    ids = [p["plan_id"] for p in json.loads(listed.stdout)]
    assert len(ids) == 2 and ids[0] == plan_id
    shown = run_cli("plans", "show", plan_id, "--store", store, "--json", capsys=capsys)
    s = json.loads(shown.stdout)
    assert s["plan_id"] == plan_id and s["signed"] == d["signed"]
    assert s["objective_pv_usd"] == pytest.approx(d["objective_pv_usd"])
    # the allocation serves the research stream: half the fleet's GPU-hours
    assert sum(r["gpu_hours"] for r in s["allocation"]) == pytest.approx(
        sum(r["gpu_hours"] for r in d["routing_by_quarter"])
    )
    shown_text = run_cli("plans", "show", plan_id, "--store", store, capsys=capsys)
    assert shown_text.code == 0 and "Cash out by year" in shown_text.stdout
    page = tmp_path / "plan.html"
    rep = run_cli("plans", "report", plan_id, "--store", store, "-o", str(page), capsys=capsys)
    assert rep.code == 0, rep.stderr
    html = page.read_text()
    assert plan_id in html and 'data-table="signed"' in html and 'data-table="cash"' in html


def test_no_store_keeps_nothing_and_an_unknown_plan_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(tiny(workloads=RESEARCH).text)
    store = tmp_path / "s.duckdb"
    res = run_cli("plan", str(scenario), "--json", "--no-values", "--no-store", "--store", str(store),
                  capsys=capsys)  # fmt: skip
    assert res.code == 0 and json.loads(res.stdout)["plan_id"] is None and not store.exists()
    none = run_cli("plans", "list", "--store", str(store), capsys=capsys)
    assert none.code == 0 and "no plans" in none.stdout
    run_cli("plan", str(scenario), "--no-values", "--store", str(store), capsys=capsys)
    bad = run_cli("plans", "show", "plan-nope", "--store", str(store), capsys=capsys)
    assert bad.code == 2 and "no plan 'plan-nope'" in bad.stderr and "Traceback" not in bad.stderr
