"""The fleet's run-off at the horizon, on a constructed year whose capacity and shortages are known by hand.

Daily steps through 2026. Contract a: 1,000 GPUs all year. Contract b: 1,000 GPUs from Mar 1 to Sep 30.
Contract c: 500 GPUs to Nov 15. GPUs online by month (hand): Jan–Feb 1,500 (b not yet there: the ramp),
Mar–Sep 2,500 (the peak, first in Mar), Oct 1,500 (60%), Nov (1,500 × 15 + 1,000 × 15) / 30 = 1,250,
Dec 1,000. Below 80% of the peak (2,000) from Oct to the end: the run-off starts in Oct; b and c ended.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import run_table

from gpufleet.report.context import CONTRACT_COLUMNS, RunContext
from gpufleet.report.findings import Finding, findings
from gpufleet.report.runoff import fleet_runoff, monthly_capacity, split_worst
from gpufleet.tables import RunTables

UTC = "UTC"
DAYS = pd.date_range("2026-01-01", "2026-12-31", freq="D", tz=UTC)
HORIZON = pd.Timestamp("2027-01-01", tz=UTC)
M = {m: pd.Timestamp(f"2026-{m:02d}-01", tz=UTC) for m in range(1, 13)}


def capacity(contract: str, t: pd.Timestamp) -> float:
    if contract == "a":
        return 1000.0
    if contract == "b":
        return 1000.0 if M[3] <= t < M[10] else 0.0
    return 500.0 if t < pd.Timestamp("2026-11-16", tz=UTC) else 0.0  # c: its last day Nov 15


def series(cap: Any = capacity) -> pd.DataFrame:
    rows = [
        {"time": t, "cluster": f"{c}1", "provider": "p", "contract": c, "capacity_gpus": cap(c, t)}
        for t in DAYS
        for c in ("a", "b", "c")
    ]
    return run_table("series", rows)


SHORT = {1: 0.2, 6: 0.05, 12: 0.5}  # share of inference demand unserved each day of the month


def inference(short: dict[int, float]) -> pd.DataFrame:
    """1,000 tokens/s asked every day on 10 GPUs (100 tokens/s per GPU at full load)."""
    rows = [
        {"service": "chat", "region": "us", "time": t, "demand_tokens_s": 1000.0,
         "served_tokens_s": 1000.0 * (1 - short.get(t.month, 0.0)), "replicas": 1.0, "gpus": 10.0}
        for t in DAYS
    ]  # fmt: skip
    return run_table("inference", rows)


def unmet(rows: dict[int, tuple[float, float, str]]) -> pd.DataFrame:
    """Month → (unmet, asked, idle contracts) GPU-hours of one research demand."""
    return run_table(
        "unmet",
        [
            {"month": M[m], "kind": "research", "demand": "research", "unmet_gpu_hours": u,
             "demand_gpu_hours": a, "served_gpu_hours": a - u, "capacity_short_gpu_hours": u,
             "idle_contracts": idle}
            for m, (u, a, idle) in rows.items()
        ],
    )  # fmt: skip


def run(short: dict[int, float] = SHORT, cap: Any = capacity) -> RunTables:
    u = unmet({1: (100.0, 1_000.0, ""), 12: (5_000.0, 6_000.0, "")})
    return RunTables(series=series(cap), inference=inference(short), unmet=u)


CONTEXT = RunContext(horizon_end=HORIZON)
RUNOFF = (
    "From Oct 2026 the contracted fleet is below 80% of its peak (2.50k GPUs, Mar 2026), 1.00k by Dec 2026, "
    "as the terms of b (1.00k GPUs, Sep 2026) and c (500 GPUs, Nov 2026) end (the scenario renews none)"
)


def by_kind(tables: RunTables, context: RunContext = CONTEXT) -> dict[str, Finding]:
    return {f.kind: f for f in findings(tables, context) if f.kind in ("inference", "unmet")}


def test_monthly_capacity_by_hand() -> None:
    cap = monthly_capacity(series())
    want = [1500, 1500, *[2500] * 7, 1500, 1250, 1000]
    assert list(cap.index) == list(M.values())
    assert cap.to_numpy() == pytest.approx(want)


def test_the_runoff_starts_after_the_peak_and_names_what_ended() -> None:
    ro = fleet_runoff(run(), CONTEXT)
    assert ro is not None
    assert ro.start == M[10] and ro.peak_month == M[3] and ro.peak_gpus == 2500.0
    assert ro.last_gpus == 1000.0 and ro.last_month == M[12]
    assert [(e.contract, e.month, e.gpus) for e in ro.ended] == [("b", M[9], 1000.0), ("c", M[11], 500.0)]
    assert ro.text() == RUNOFF


def test_the_inference_finding_reads_the_worst_month_while_the_fleet_is_whole() -> None:
    """January (the ramp, 20% short) is the worst month while whole; December (50%) is said apart."""
    f = by_kind(run())["inference"]
    assert f.date == "2026-01"
    assert f.values["unserved_pct"] == pytest.approx(20.0)
    assert f.values["runoff_unserved_pct"] == pytest.approx(50.0)
    assert f.values["runoff_worst_month"] == "2026-12" and f.values["runoff_from"] == "2026-10"
    # 200 tokens/s short at 100 tokens/s per GPU: 2 GPUs
    assert f.text == (
        "Inference: worst month while the fleet is whole, Jan 2026, 20.0% of demand unserved (about 2 GPUs "
        f"short on average that month, 2 at the peak). {RUNOFF}; then up to 50.0% of demand unserved "
        "(Dec 2026), not counted as the worst month."
    )


def test_the_unmet_finding_uses_the_same_rule() -> None:
    f = by_kind(run())["unmet"]
    assert f.date == "2026-01" and f.values["unmet_gpu_hours"] == 100.0
    assert f.values["runoff_unmet_gpu_hours"] == 5000.0
    assert f.text == (
        "Unmet demand: worst month while the fleet is whole, Jan 2026, 100 of 1.00k GPU-h asked went unmet "
        "(10.0%), most by research (100); capacity short: no contract it may use had idle GPUs meanwhile. "
        f"{RUNOFF}; then up to 5.00k of 6.00k GPU-h asked unmet (Dec 2026), not counted as the worst month."
    )


def test_a_shortage_only_in_the_runoff_reads_as_none_while_whole() -> None:
    tables = run(short={12: 0.5})
    tables.unmet = unmet({11: (10.0, 100.0, ""), 12: (5_000.0, 6_000.0, "")})
    found = by_kind(tables)
    inf, um = found["inference"], found["unmet"]
    assert inf.text.startswith(
        f"Inference: all demand served while the fleet is whole (to Sep 2026). {RUNOFF}"
    )
    assert inf.date == "2026-10" and inf.values["unserved_pct"] == 0.0
    assert um.text.startswith(f"Unmet demand: none while the fleet is whole (to Sep 2026). {RUNOFF}")
    assert um.values["runoff_worst_month"] == "2026-12"  # December's 5,000 over November's 10


def test_a_runoff_with_no_shortage_is_not_mentioned() -> None:
    tables = run(short={1: 0.2})
    tables.unmet = unmet({1: (100.0, 1_000.0, "")})
    found = by_kind(tables)
    assert found["inference"].text.startswith("Inference: worst month Jan 2026, 20.0%")
    assert "runoff_from" not in found["inference"].values
    assert found["unmet"].text.startswith("Unmet demand: worst month Jan 2026, 100 of")


def test_a_fall_without_a_contract_ending_is_no_runoff() -> None:
    """b ramps down to 1 GPU instead of ending, c stays: capacity falls, but no term ended."""

    def down(contract: str, t: pd.Timestamp) -> float:
        if contract == "b":
            return 1000.0 if M[3] <= t < M[10] else 1.0 if t >= M[10] else 0.0
        return capacity(contract, t) if contract == "a" else 500.0

    tables = run(cap=down)
    assert fleet_runoff(tables, CONTEXT) is None
    f = by_kind(tables)["inference"]
    assert f.date == "2026-12" and f.text.startswith("Inference: worst month Dec 2026, 50.0% of demand")


def test_the_scenario_terms_confirm_which_contracts_ended() -> None:
    """Where the scenario is known, a contract whose term runs past the horizon did not end by its term."""
    terms = pd.DataFrame(
        [{"contract": "b", "term_end": pd.Timestamp("2027-06-30").date()},
         {"contract": "c", "term_end": pd.Timestamp("2026-11-15").date()}],
        columns=list(CONTRACT_COLUMNS),
    )  # fmt: skip
    ctx = dataclasses.replace(CONTEXT, contracts=terms)
    ro = fleet_runoff(run(), ctx)
    assert ro is not None and [e.contract for e in ro.ended] == ["c"]
    only_b = dataclasses.replace(CONTEXT, contracts=terms.assign(term_end=pd.Timestamp("2027-06-30").date()))
    assert fleet_runoff(run(), only_b) is None


def test_a_contract_that_ended_before_the_peak_is_not_named() -> None:
    """d ran 100 GPUs in January only: it ended before the peak (March), so it is no part of the fall."""
    tables = run()
    extra = run_table(
        "series",
        [{"time": t, "cluster": "d1", "provider": "p", "contract": "d",
          "capacity_gpus": 100.0 if t < M[2] else 0.0} for t in DAYS],
    )  # fmt: skip
    tables.series = pd.concat([tables.series, extra], ignore_index=True)
    assert monthly_capacity(tables.series).iloc[0] == 1600.0
    ro = fleet_runoff(tables, CONTEXT)
    assert ro is not None and ro.peak_month == M[3] and ro.start == M[10]
    assert [e.contract for e in ro.ended] == ["b", "c"]
    # with d at 3,000 GPUs January is the peak: d's end is the fall, and it is named first
    tables.series = pd.concat([tables.series, extra.assign(capacity_gpus=extra["capacity_gpus"] * 29)])
    ro = fleet_runoff(tables, CONTEXT)
    assert ro is not None and ro.peak_month == M[1] and ro.start == M[2]
    assert [e.contract for e in ro.ended] == ["d", "b", "c"]


def test_split_worst_by_hand() -> None:
    months = pd.Series(list(M.values())[:4])
    ro = fleet_runoff(run(), CONTEXT)
    assert ro is not None
    late = dataclasses.replace(ro, start=M[3])
    assert split_worst(months, np.array([1.0, 3.0, 2.0, 5.0]), late) == (1, 3)
    assert split_worst(months, np.array([0.0, 0.0, 2.0, 1.0]), late) == (None, 2)
    assert split_worst(months, np.array([1.0, 3.0, 0.0, 0.0]), late) == (1, None)
    assert split_worst(months, np.array([1.0, 3.0, 2.0, 5.0]), None) == (3, None)
