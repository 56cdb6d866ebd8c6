"""simulate --plan runs the plan's signed options, following its allocation; compare PLAN RUN: how close."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli

from tests.plan.tiny import HOURS, tiny

# 900 GPUs of research all year on 720 held: the plan signs 3 domains (216 GPUs) of `more`
RESEARCH = """\
teams: [{name: res, quota_share: 1.0}]
workloads:
  - stream:
      name: research
      team: res
      synthetic: {source: philly, gpus_schedule: [{date: 2026-01-01, gpus: 900}], size_scale: 8}
"""


def test_simulate_plan_runs_the_signed_options_close_to_the_allocation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(tiny(workloads=RESEARCH).text)
    store = str(tmp_path / "s.duckdb")
    plan = json.loads(
        run_cli("plan", str(scenario), "--json", "--no-values", "--store", store, capsys=capsys).stdout
    )
    assert [(s["option"], s["domains"]) for s in plan["signed"]] == [("more", 3)]
    res = run_cli("simulate", str(scenario), "--plan", plan["plan_id"], "--store", store, "--no-report",
                  "--json", capsys=capsys)  # fmt: skip
    assert res.code == 0, res.stderr
    run = json.loads(res.stdout)
    assert run["plan_id"] == plan["plan_id"]
    cmp = run_cli("compare", plan["plan_id"], run["run"]["run_id"], "--store", store, "--json", capsys=capsys)
    assert cmp.code == 0, cmp.stderr
    d = json.loads(cmp.stdout)
    assert d["run_followed_plan"] == plan["plan_id"]
    rows = d["by_contract_quarter"]
    # only the existing contract and the signed option ran, the option at its signed size
    assert {r["contract"] for r in rows} == {"k-aa", "more"}
    by: dict[str, dict[str, float]] = {}
    for r in rows:
        c = by.setdefault(r["contract"], {})
        for k in ("planned_gpu_hours", "simulated_gpu_hours", "planned_cash_usd", "simulated_cash_usd"):
            c[k] = c.get(k, 0.0) + r[k]
    # both reserved: cash is capacity x price, planned and simulated alike (216 GPUs of `more` at $3)
    assert by["more"]["simulated_cash_usd"] == pytest.approx(216 * HOURS * 3.0)
    assert by["k-aa"]["simulated_cash_usd"] == pytest.approx(by["k-aa"]["planned_cash_usd"])
    # capacity suffices: each contract's simulated use is within 15% of the plan's
    for c in by.values():
        assert c["simulated_gpu_hours"] == pytest.approx(c["planned_gpu_hours"], rel=0.15)
    text = run_cli("compare", plan["plan_id"], run["run"]["run_id"], "--store", store, capsys=capsys)
    assert text.code == 0 and "by contract" in text.stdout and "by quarter" in text.stdout
    page = tmp_path / "plan.html"
    rep = run_cli("plans", "report", plan["plan_id"], "--run", run["run"]["run_id"], "--store", store,
                  "-o", str(page), capsys=capsys)  # fmt: skip
    assert rep.code == 0 and 'data-table="versus"' in page.read_text()


def test_simulate_plan_of_another_scenario_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(tiny(workloads=RESEARCH).text)
    store = str(tmp_path / "s.duckdb")
    assert run_cli("plan", str(scenario), "--no-values", "--store", store, capsys=capsys).code == 0
    other = tmp_path / "other.yaml"
    other.write_text(tiny(workloads=RESEARCH, power_mw=90.0).text)
    res = run_cli("simulate", str(other), "--plan", "latest", "--store", store, "--no-report", capsys=capsys)
    assert res.code == 2 and "run `gpufleet plan` on it again" in res.stderr
    missing = run_cli("simulate", str(scenario), "--plan", "plan-x", "--store", store, "--no-report",
                      capsys=capsys)  # fmt: skip
    assert missing.code == 2 and "no plan 'plan-x'" in missing.stderr
