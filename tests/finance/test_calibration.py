"""The calibration table: its measures by hand on tiny tables, and every check of the default met by a
real (horizon-cut) run within 15%."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from helpers import SMALL, default_until

from gpufleet.catalog import Anchor, load_anchors
from gpufleet.finance.calibration import MEASURES, TOLERANCE_PCT, calibration
from gpufleet.pipeline import RunResult, run_scenario
from gpufleet.scenario import LoadedScenario, load_builtin_scenario, load_scenario_file
from gpufleet.scenario.schema import RevenueDriver
from gpufleet.tables import RunTables, check_table, empty_table

DOCS = Path(__file__).parents[2] / "docs" / "workloads.md"
CHECKS = [a for a in load_anchors() if a.use == "check"]


def _anchor(**fields: object) -> Anchor:
    base = {
        "key": "x",
        "value": 1.0,
        "use": "check",
        "sources": ["llama3"],
        "confidence": "estimate",
        "note": "n",
    }
    return Anchor.model_validate(base | fields)


def _frame(name: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    empty = empty_table(name)
    filled = pd.DataFrame([{c: None for c in empty.columns} | r for r in rows])
    for col in empty.columns:
        if str(empty[col].dtype) == "float64":
            filled[col] = filled[col].fillna(0.0)
    return check_table(name, filled)


def _utc(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def test_every_check_names_a_known_measure_and_the_docs_list_every_anchor() -> None:
    text = DOCS.read_text()
    assert CHECKS and {a.measure for a in CHECKS} <= set(MEASURES)
    for a in load_anchors():
        assert f"`{a.key}`" in text, a.key


def test_power_and_research_share_by_hand() -> None:
    s = load_builtin_scenario().scenario
    series = _frame(
        "series",
        [
            {"time": _utc("2025-12-30"), "cluster": "a", "power_mw": 999.0},
            {"time": _utc("2025-12-31"), "cluster": "a", "power_mw": 700.0},
            {"time": _utc("2025-12-31"), "cluster": "b", "power_mw": 500.0},
            {"time": _utc("2026-01-01"), "cluster": "a", "power_mw": 999.0},
        ],
    )
    usage = _frame(
        "usage",
        [  # 30 research + 10 best-effort of 100 used in Nov; 20 + 0 of 100 in Dec; Jan is outside
            {
                "contract": "c",
                "month": _utc("2025-11-01"),
                "gpu_hours_used": 100.0,
                "gpu_hours_used_research": 30.0,
                "gpu_hours_used_best_effort": 10.0,
            },
            {
                "contract": "c",
                "month": _utc("2025-12-01"),
                "gpu_hours_used": 100.0,
                "gpu_hours_used_research": 20.0,
            },
            {
                "contract": "c",
                "month": _utc("2026-01-01"),
                "gpu_hours_used": 100.0,
                "gpu_hours_used_research": 100.0,
            },
        ],
    )
    tables = RunTables(series=series, usage=usage)
    gw = MEASURES["facility_power_gw"](tables, s, _anchor(at=dt.date(2025, 12, 31)))
    assert gw == pytest.approx(1.2)
    share = MEASURES["research_share"](
        tables, s, _anchor(at=dt.date(2025, 11, 1), until=dt.date(2025, 12, 31))
    )
    assert share == pytest.approx(60.0 / 200.0)


def test_revenue_and_users_by_hand() -> None:
    """One service of SMALL given a revenue driver: a month of served tokens at a known price."""
    s = load_scenario_file(SMALL).scenario
    svc = next(w.inference for w in s.workloads if w.inference is not None)
    demand = svc.demand.model_copy(
        update={
            "revenue": RevenueDriver(share=0.5, usd_per_million_tokens=2.0),
            "tokens_per_user_per_day": 1000.0,
            "tokens_per_user_growth_per_year": 0.0,
            "driver": "revenue",
        }
    )
    s = s.model_copy(
        update={
            "workloads": [
                w.model_copy(update={"inference": svc.model_copy(update={"demand": demand})})
                if w.inference is not None
                else w
                for w in s.workloads
            ]
        }
    )
    start = pd.Timestamp(s.horizon.start, tz="UTC")
    days = pd.date_range(start, periods=30, freq="D")
    inference = _frame(
        "inference",
        [{"service": svc.name, "region": "us", "time": t, "served_tokens_s": 1.0e6} for t in days],
    )
    month = _anchor(at=s.horizon.start)
    # 1M tokens/s x 86,400 s x 30 days at $2 per million = $5.184B earned in the month (January:
    # 31 days); over a 0.5 share and annualized: 5.184e9 / 0.5 x 365.25 / 31
    assert start.month == 1
    expected = 1e6 * 86_400 * 30 * 2.0 / 1e6 / 0.5 * 365.25 / 31
    assert MEASURES["annualized_revenue_usd"](RunTables(inference=inference), s, month) == pytest.approx(
        expected
    )
    week = _anchor(at=(start + pd.Timedelta(days=20)).date(), service=svc.name)
    users = MEASURES["weekly_users_implied"](RunTables(inference=inference), s, week)
    assert users == pytest.approx(1e6 * 86_400 / 1000.0)


@pytest.fixture(scope="module")
def short_run() -> tuple[LoadedScenario, RunResult]:
    """The default to the end of February 2026: every check's day and window, and no more."""
    last = max((a.until or a.at) for a in CHECKS if a.at is not None)
    loaded = default_until(f"{last.year}-{last.month:02d}-28" if last.month == 2 else last.isoformat())
    return loaded, run_scenario(loaded)


def test_every_check_of_the_default_is_met_by_a_run(short_run: tuple[LoadedScenario, RunResult]) -> None:
    loaded, result = short_run
    rows = calibration(load_anchors(), loaded.catalog.sources, result.tables, loaded.scenario)
    checks = [r for r in rows if r.use == "check"]
    assert [r.key for r in checks] == [a.key for a in CHECKS]
    for r in checks:
        assert r.simulated is not None and r.gap_pct is not None
        assert r.gap_pct == pytest.approx(100 * (r.simulated / r.value - 1))
        assert abs(r.gap_pct) <= TOLERANCE_PCT, (r.key, r.value, r.simulated)
        assert r.within and r.source
    inputs = [r for r in rows if r.use == "input"]
    assert inputs and all(r.simulated is None and r.takes for r in inputs)


def test_nov_and_dec_2025_leave_under_2pct_of_inference_unserved(
    short_run: tuple[LoadedScenario, RunResult],
) -> None:
    inf = short_run[1].tables.inference
    month = inf["time"].dt.strftime("%Y-%m")
    for m in ("2025-11", "2025-12"):
        rows = inf[month == m]
        unserved = 1 - rows["served_tokens_s"].sum() / rows["demand_tokens_s"].sum()
        assert 0 <= unserved < 0.02, (m, unserved)
