"""The default's revenue cases drive its demand: bear asks for no more than base, base no more than bull,
every month, and the runs differ in utilization and unused commitment (a short real run of each)."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import default_until

from gpufleet.pipeline import RunResult, run_scenario
from gpufleet.scenario.load import with_case

CASES = ("bear", "base", "bull")


@pytest.fixture(scope="module")
def runs() -> dict[str, RunResult]:
    """The default to the end of June 2026 under each case (every case's demand differs from the start)."""
    loaded = default_until("2026-06-30")
    return {case: run_scenario(with_case(loaded, case)) for case in CASES}


def _monthly_demand(result: RunResult) -> pd.Series:
    inf = result.tables.inference
    return inf.groupby(inf["time"].dt.strftime("%Y-%m"))["demand_tokens_s"].mean()


def test_bear_asks_for_no_more_than_base_and_base_no_more_than_bull_each_month(
    runs: dict[str, RunResult],
) -> None:
    bear, base, bull = (_monthly_demand(runs[c]) for c in CASES)
    assert list(bear.index) == list(base.index) == list(bull.index) and len(base) == 8
    assert (bear <= base).all() and (base <= bull).all()
    assert (bear < base).any() and (base < bull).any()
    for case, result in runs.items():  # each run records the case it followed
        p = result.tables.portfolio
        assert set(p.loc[p["run_case"].astype(bool), "scenario"]) == {case}


def test_a_slower_case_leaves_more_capacity_idle_and_more_commitment_unused(
    runs: dict[str, RunResult],
) -> None:
    util = {
        c: r.tables.usage["gpu_hours_used"].sum() / r.tables.usage["gpu_hours_available"].sum()
        for c, r in runs.items()
    }
    unused = {c: r.tables.ledger["unused_commitment_usd"].sum() for c, r in runs.items()}
    assert util["bear"] < util["base"] < util["bull"], util
    assert unused["bear"] > unused["base"] > unused["bull"], unused
