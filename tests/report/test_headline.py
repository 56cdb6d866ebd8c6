"""Headline figures against values computed here, independently, from the hand-made run tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store.test_builder import CONTRACTS, make_tables

from gpufleet.report.headline import FIGURES, fmt_delta, fmt_value, headline, label, ordered_keys, step_hours
from gpufleet.tables import RunTables


@pytest.fixture(scope="module")
def tables() -> RunTables:
    return make_tables(seed=11)


def test_capacity_and_utilization(tables: RunTables) -> None:
    h = headline(tables)
    s = tables.series
    per_day = {t: g["capacity_gpus"].sum() for t, g in s.groupby("time")}
    assert h["gpus_online_peak"] == max(per_day.values())
    assert h["gpus_online_end"] == per_day[max(per_day)]
    assert h["gpu_hours_capacity"] == pytest.approx(s["capacity_gpus"].sum() * 24)  # daily steps
    alloc = s[[c for c in s.columns if c.startswith("allocated_")]].to_numpy().sum()
    assert h["utilization_pct"] == pytest.approx(100 * alloc / s["capacity_gpus"].sum())
    assert h["utilization_class_pct.training"] == pytest.approx(
        100 * s["allocated_training_gpus"].sum() / s["capacity_gpus"].sum()
    )
    # conservation in the builder: the shares add up to 100 %
    parts = [h[f"utilization_class_pct.{c}"] for c in ("inference", "training", "research", "best-effort")]
    assert sum(parts) + h["idle_pct"] + h["failed_pct"] == pytest.approx(100.0)
    assert 0 < h["stranded_pct"] < h["idle_pct"]
    assert h["stranded_pct"] == pytest.approx(100 * s["stranded_gpus"].sum() / s["capacity_gpus"].sum())


def test_jobs_waits_and_goodput(tables: RunTables) -> None:
    h = headline(tables)
    j = tables.jobs
    assert h["jobs_submitted"] == len(j)
    assert h["jobs_finished"] + h["jobs_failed"] + h["jobs_queued_at_end"] + h["jobs_running_at_end"] == len(
        j
    )
    # waits count every job: those still queued at the horizon with their wait up to it (the builder
    # writes horizon − submit for them), marked censored
    horizon = tables.series["time"].max() + pd.Timedelta(days=1)
    for c in ("training", "research", "best-effort"):
        waits = []
        for w, cls, st_, sub in zip(j["wait_s"], j["class"], j["start"], j["submit"], strict=True):
            if cls == c:
                waits.append((horizon - sub).total_seconds() / 3600 if pd.isna(st_) else w / 3600)
        assert h[f"wait_p50_h.{c}"] == pytest.approx(np.percentile(waits, 50))
        assert h[f"wait_p95_h.{c}"] == pytest.approx(np.percentile(waits, 95))
        assert h[f"waits_censored.{c}"] == ((j["class"] == c) & (j["state"] == "queued")).sum()
    assert sum(h[f"waits_censored.{c}"] for c in ("training", "research", "best-effort")) > 0
    assert "wait_p50_h.inference" not in h  # inference runs as replicas, not jobs
    s = tables.series
    job_gpu_h = 24 * (
        s["allocated_training_gpus"] + s["allocated_research_gpus"] + s["allocated_best_effort_gpus"]
    )
    assert h["lost_gpu_hours"] == pytest.approx(j["lost_gpu_hours"].sum())
    assert h["goodput_pct"] == pytest.approx(100 * (1 - j["lost_gpu_hours"].sum() / job_gpu_h.sum()))


def test_money(tables: RunTables) -> None:
    h = headline(tables)
    # unused commitment from the contracts' minimums and the usage, not from the ledger's own column
    expected_unused = 0.0
    for contract, (_, price, minimum) in CONTRACTS.items():
        used = tables.usage.loc[tables.usage["contract"] == contract, "gpu_hours_used"].sum()
        expected_unused += max(0.0, minimum - used * price)
    assert h["unused_commitment_usd"] == pytest.approx(expected_unused)
    assert h["true_up_usd"] == pytest.approx(expected_unused)
    assert h["spend_usd"] == pytest.approx(tables.ledger["cost_due_usd"].sum())
    by_provider = tables.ledger.groupby("provider")["cost_due_usd"].sum()
    shares = 100 * by_provider / by_provider.sum()
    assert h["top_provider_share_pct"] == pytest.approx(shares.max())
    assert h["hhi"] == pytest.approx((shares**2).sum())
    p = tables.portfolio
    for scen in ("bear", "base"):
        assert h[f"funding_need_usd.{scen}"] == pytest.approx(
            p.loc[p["scenario"] == scen, "cumulative_funding_need_usd"].max()
        )
    inf = tables.inference
    unserved = (inf["demand_tokens_s"] - inf["served_tokens_s"]).sum() * 86400
    assert h["inference_unserved_tokens"] == pytest.approx(unserved)
    assert h["inference_unserved_pct"] == pytest.approx(
        100 * unserved / (inf["demand_tokens_s"].sum() * 86400)
    )
    q = tables.queue
    assert h["shortfall_gpu_hours"] == pytest.approx(q["queued_gpus"].sum() * 24)
    # the true peak: the queue read just after every submit (it only grows there), by brute force
    horizon = tables.series["time"].max() + pd.Timedelta(days=1)
    j = tables.jobs
    until = j["start"].fillna(horizon)
    best_gpus, best_jobs = 0, 0
    for t in j["submit"]:
        waiting = (j["submit"] <= t) & (until > t)
        best_gpus = max(best_gpus, int(j.loc[waiting, "gpus"].sum()))
        best_jobs = max(best_jobs, int(waiting.sum()))
    assert h["peak_queued_gpus"] == best_gpus and h["peak_queued_jobs"] == best_jobs


def test_every_key_is_described_and_grouped(tables: RunTables) -> None:
    h = headline(tables)
    grouped = [k for _, keys in ordered_keys(h) for k in keys]
    assert sorted(grouped) == sorted(h)  # every figure is shown exactly once
    for key in h:
        assert key.partition(".")[0] in FIGURES
        assert label(key)


def test_empty_run_has_no_numbers_to_invent() -> None:
    h = headline(RunTables())
    assert h["gpus_online_peak"] is None and h["utilization_pct"] is None and h["goodput_pct"] is None
    assert h["jobs_submitted"] == 0 and h["spend_usd"] == 0.0
    assert all(fmt_value(k, v) for k, v in h.items())


def test_formats() -> None:
    assert fmt_value("spend_usd", 3.414e9) == "$3.41B"
    assert fmt_value("wait_p50_h.training", 0.5) == "30 min"
    assert fmt_value("wait_p95_h.training", 26.04) == "26.0 h"
    assert fmt_value("utilization_pct", 71.234) == "71.2%"
    assert fmt_value("gpus_online_peak", 3_571_200.0) == "3,571,200"
    assert fmt_value("goodput_pct", None) == "–"
    assert fmt_delta("utilization_pct", 70.0, 72.5) == "+2.5 pp"
    assert fmt_delta("spend_usd", 2e9, 1.5e9) == "−$500.00M"


@settings(max_examples=40, deadline=None)
@given(gaps=st.lists(st.integers(min_value=1, max_value=48), min_size=1, max_size=20))
def test_step_hours_follow_the_times(gaps: list[int]) -> None:
    times = pd.Series(pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.cumsum([0, *gaps]), unit="h"))
    hours = step_hours(times.sample(frac=1.0, random_state=1))  # order must not matter
    assert list(hours.to_numpy()) == [*map(float, gaps), float(np.median(gaps))]
