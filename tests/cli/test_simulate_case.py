"""`gpufleet simulate --case`: the case's revenue path drives the demand, and the run records the case."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import SMALL, run_cli

from gpufleet.store import open_store

USERS = """        weekly_users: 2.0e6
        tokens_per_user_per_day: 5000
        growth_per_month: 0.05
"""
# $1B a year x 5% / $15 per million tokens = 3.3e12 tokens a year, about 106k tokens/s
REVENUE = """        revenue: {share: 0.05, usd_per_million_tokens: 15.0, price_decline_per_year: 0.3}
"""
CASES = """    base: {start_usd: 1.0e9, growth_per_year: 0.5}
    tokens: {usd_per_million_tokens: 2.0}
"""
# both paths pass through $1B in mid-2025, before the horizon: the bear path is below from the start
NEW_CASES = """    bear: {start_usd: 1.0e9, start_year: 2025, growth_per_year: 0.1, weight: 0.3}
    base: {start_usd: 1.0e9, start_year: 2025, growth_per_year: 0.9, weight: 0.7}
"""


def _revenue_scenario(tmp_path: Path) -> Path:
    text = SMALL.read_text()
    assert USERS in text and CASES in text
    path = tmp_path / "revenue.yaml"
    path.write_text(text.replace(USERS, REVENUE).replace(CASES, NEW_CASES))
    return path


def _monthly_demand(store: str, run_id: str) -> tuple[pd.Series, pd.DataFrame]:
    with open_store(store, read_only=True) as s:
        tables = s.load_run(run_id)
    inf = tables.inference
    month = pd.to_datetime(inf["time"]).dt.strftime("%Y-%m")
    return inf["demand_tokens_s"].groupby(month).mean(), tables.portfolio


def test_a_bear_case_asks_for_no_more_than_base_and_the_run_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, store = _revenue_scenario(tmp_path), str(tmp_path / "runs.duckdb")
    runs = {}
    for case in (None, "bear"):
        args = ["simulate", str(path), "--store", store, "--no-report", "--json"]
        res = run_cli(*args, *(["--case", case] if case else []), capsys=capsys)
        assert res.code == 0, res.stderr
        runs[case or "default"] = json.loads(res.stdout)["run"]["run_id"]
    base, base_port = _monthly_demand(store, runs["default"])
    bear, bear_port = _monthly_demand(store, runs["bear"])
    assert list(base.index) == list(bear.index) and len(base) == 3
    assert np.all(bear.to_numpy() <= base.to_numpy())
    assert bear.iloc[-1] < base.iloc[-1]  # the paths part after the start
    # the default run follows the base case; the portfolio marks the case each run followed
    assert set(base_port.loc[base_port["run_case"], "scenario"]) == {"base"}
    assert set(bear_port.loc[bear_port["run_case"], "scenario"]) == {"bear"}


def test_an_unknown_case_is_refused_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "runs.duckdb")
    res = run_cli("simulate", str(SMALL), "--store", store, "--no-report", "--case", "boom", capsys=capsys)
    assert res.code == 2
    assert "--case" in res.stderr and "boom" in res.stderr and "base" in res.stderr


def test_a_case_from_tokens_served_cannot_drive_the_demand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _revenue_scenario(tmp_path)
    path.write_text(
        path.read_text().replace(NEW_CASES, NEW_CASES + "    tokens: {usd_per_million_tokens: 2.0}\n")
    )
    text = path.read_text().replace("weight: 0.3}", "}").replace("weight: 0.7}", "}")
    path.write_text(text)
    store = str(tmp_path / "runs.duckdb")
    res = run_cli("simulate", str(path), "--store", store, "--no-report", "--case", "tokens", capsys=capsys)
    assert res.code == 2 and "--case" in res.stderr and "in dollars" in res.stderr


def test_validate_reports_the_gap_between_users_and_revenue_paths(capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parents[2] / "src" / "gpufleet" / "scenario" / "data" / "default.yaml"
    res = run_cli("validate", str(example), "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    gaps = json.loads(res.stdout)["driver_gap"]
    assert set(gaps) == {"chat", "api"}
    for rows in gaps.values():
        assert [r["year"] for r in rows] == list(range(2025, 2033))
        for r in rows:
            assert r["gap_pct"] == pytest.approx(100 * (r["users_tokens"] / r["revenue_tokens"] - 1))
    # the chat prices were set so that both paths agree at the start (2025: ~800M users x 5k tokens)
    assert abs(gaps["chat"][0]["gap_pct"]) < 5
    text = run_cli("validate", str(example), capsys=capsys)
    assert "users path vs revenue path (base)" in text.stdout
