"""CLI: `gpufleet plan` prints what to sign and the values, exports the routing, refuses bad options."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from helpers import run_cli

from tests.plan.tiny import HOURS, tiny

RESEARCH = """\
teams: [{name: res, quota_share: 1.0}]
workloads:
  - stream: {name: research, team: res, synthetic: {source: philly, fleet_share: 0.5}}
"""


def _file(tmp_path: Path, **kw: str) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(tiny(workloads=RESEARCH, **kw).text)
    return path


def test_plan_json_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "plan.csv"
    res = run_cli("plan", str(_file(tmp_path)), "--json", "-o", str(out), "--no-store", capsys=capsys)
    assert res.code == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["status"] == "optimal"
    # half the fleet's 720 GPUs of research fits on it: nothing to sign, the reserved bill is the cost
    assert d["signed"] == [] and d["unmet_gpu_hours"] == {}
    assert d["cost_pv_usd"] == pytest.approx(720 * HOURS * 2.0)
    assert set(d["value_of_extra_power_usd"]) == {"bb-1"} and d["value_of_extra_power_usd"]["bb-1"] >= 0
    assert set(d["option_value_usd"]) == {"more"}
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert rows and {"class", "target", "provider", "month", "gpu_hours"} <= set(rows[0])
    text = run_cli("plan", str(_file(tmp_path)), "--no-values", "--no-store", capsys=capsys)
    assert text.code == 0 and "Sign" in text.stdout and "Cash out by year" in text.stdout


def test_plan_bad_option_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = "{name: more, provider: azure, site: bb-1, product: nope/x, max_domains: 2}"
    res = run_cli("plan", str(_file(tmp_path, option=bad)), "--no-store", capsys=capsys)
    assert res.code == 2
    assert "tiny.yaml:" in res.stderr and "plan.options[0].product" in res.stderr
    assert "Traceback" not in res.stderr


def test_plan_infeasible_budget_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path, plan_extra="  yearly_budget_usd: {2026: 1000.0}")
    res = run_cli("plan", str(path), "--no-values", "--no-store", capsys=capsys)
    assert res.code == 2 and "budget of 2026" in res.stderr


def test_plan_gap_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("plan", str(_file(tmp_path)), "--gap", "2", "--no-store", capsys=capsys)
    assert res.code == 2 and "--gap" in res.stderr
