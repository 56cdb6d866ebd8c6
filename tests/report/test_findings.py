"""Findings on a constructed run whose answers are known by hand: the worst inference month, training runs,
the research backlog, unused commitment and the peak funding need."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import pytest
from helpers import SMALL, run_table

from gpufleet.report.context import RunContext, TrainingTarget, run_context
from gpufleet.report.findings import Finding, findings, inference_by_month, training_runs
from gpufleet.report.headline import headline, summarize
from gpufleet.scenario import load_scenario
from gpufleet.tables import RunTables, empty_table
from gpufleet.workload.training import plan_scenario_run

UTC = "UTC"
HORIZON = pd.Timestamp("2026-04-01", tz=UTC)  # the run covers Jan–Mar 2026, daily steps
T0 = pd.Timestamp("2026-03-10 08:00", tz=UTC)  # the research burst
H = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)


def job(id_: int, workload: str, cls: str, gpus: int, submit: pd.Timestamp, **kw: Any) -> dict[str, Any]:
    start, end = kw.get("start", pd.NaT), kw.get("end", pd.NaT)
    state = kw.get("state") or (
        "finished" if not pd.isna(end) else "running" if not pd.isna(start) else "queued"
    )
    first_wait = ((start if not pd.isna(start) else HORIZON) - submit).total_seconds()
    return {
        "id": id_, "workload": workload, "team": "t", "class": cls, "gpus": gpus, "submit": submit,
        "start": start, "end": end, "wait_s": kw.get("wait_s", first_wait), "restarts": kw.get("restarts", 0),
        "preemptions": kw.get("preemptions", 0), "lost_gpu_hours": kw.get("lost", 0.0), "state": state,
    }  # fmt: skip


def make_run() -> RunTables:
    days = pd.date_range("2026-01-01", "2026-03-31", freq="D", tz=UTC)
    inf = []
    for t in days:
        served = 1000.0
        if t.month == 2 and t.day <= 14:
            served = 900.0  # half of February short by 100 tokens/s: 5% of the month's demand
        if t == pd.Timestamp("2026-01-20", tz=UTC):
            served = 990.0
        inf.append({"service": "chat", "region": "us", "time": t, "demand_tokens_s": 1000.0,
                    "served_tokens_s": served, "replicas": 1.0, "gpus": 10.0})  # fmt: skip
    jobs = [
        # a training run: waits a day, runs, is requeued for 2 more days of waiting, finishes Feb 10
        job(1, "big", "training", 1000, pd.Timestamp("2026-01-05", tz=UTC),
            start=pd.Timestamp("2026-01-06", tz=UTC), end=pd.Timestamp("2026-02-10", tz=UTC),
            wait_s=3 * 86400.0, restarts=3, preemptions=1, lost=50_000.0),
        # a training run still running at the horizon, and one that never started
        job(2, "late", "training", 100, pd.Timestamp("2026-03-20", tz=UTC),
            start=pd.Timestamp("2026-03-21", tz=UTC), lost=1_000.0),
        job(3, "never", "training", 5000, pd.Timestamp("2026-03-30", tz=UTC)),
        # the research burst: A, B wait; C starts on arrival; D never starts
        job(4, "res", "research", 100, T0, start=T0 + 2 * H, end=T0 + 5 * H),
        job(5, "res", "research", 50, T0 + H, start=T0 + 3 * H, end=T0 + 4 * H),
        job(6, "res", "research", 500, T0 + 2 * H, start=T0 + 2 * H, end=T0 + 6 * H),
        job(7, "res", "research", 30, T0 + 2.5 * H),
    ]  # fmt: skip
    ledger = [
        {"contract": "c1", "provider": "p", "kind": "committed", "month": pd.Timestamp("2026-02-01", tz=UTC),
         "contract_year": 1, "minimum_accrued_usd": 1e6},
        {"contract": "c1", "provider": "p", "kind": "committed", "month": pd.Timestamp("2026-03-01", tz=UTC),
         "contract_year": 1, "minimum_accrued_usd": 1e6, "unused_commitment_usd": 5e6, "true_up_usd": 5e6},
        {"contract": "c2", "provider": "q", "kind": "committed", "month": pd.Timestamp("2026-02-01", tz=UTC),
         "contract_year": 1, "plan_usd": 1e6, "projected_shortfall_usd": 9e6},
        {"contract": "c2", "provider": "q", "kind": "committed", "month": pd.Timestamp("2026-03-01", tz=UTC),
         "contract_year": 1, "plan_usd": 1e6, "projected_shortfall_usd": 2e6},
        {"contract": "od", "provider": "q", "kind": "on-demand", "month": pd.Timestamp("2026-03-01", tz=UTC),
         "contract_year": 1},
    ]  # fmt: skip
    portfolio = [
        {"year": y, "scenario": s, "cumulative_funding_need_usd": need}
        for s, needs in (("base", (0.0, 3e9, 2e9)), ("bull", (0.0, 0.0, 0.0)))
        for y, need in zip((2026, 2027, 2028), needs, strict=True)
    ]
    return RunTables(
        jobs=run_table("jobs", jobs),
        inference=run_table("inference", inf),
        ledger=run_table("ledger", ledger),
        portfolio=run_table("portfolio", portfolio),
    )


CONTEXT = RunContext(
    horizon_end=HORIZON,
    training={
        "big": TrainingTarget(deadline=pd.Timestamp("2026-02-01", tz=UTC),
                              estimate_end=pd.Timestamp("2026-02-08", tz=UTC)),
        "late": TrainingTarget(deadline=pd.Timestamp("2026-03-25", tz=UTC),
                               estimate_end=pd.Timestamp("2026-05-01", tz=UTC),
                               work_gpu_hours=100 * 24 * 20.0, compute_share=0.9),
        "never": TrainingTarget(),
    },
)  # fmt: skip


@pytest.fixture(scope="module")
def found() -> dict[tuple[str, str], Finding]:
    return {(f.kind, f.subject): f for f in findings(make_run(), CONTEXT)}


def test_worst_inference_month(found: dict[tuple[str, str], Finding]) -> None:
    f = found[("inference", "")]
    assert f.date == "2026-02"
    assert f.values["unserved_pct"] == pytest.approx(100 * 14 * 100 / (28 * 1000))  # 5.0 %
    # 10 GPUs serve 1000 tokens/s at most: 100 per GPU; 100 tokens/s short is 1 GPU, half of February
    assert f.values["gpus_short_peak"] == pytest.approx(1.0)
    assert f.values["gpus_short_avg"] == pytest.approx(0.5)
    assert f.text.startswith("Inference: worst month Feb 2026, 5.0% of demand unserved")
    months = inference_by_month(make_run().inference)
    assert list(months["unserved_pct"].round(4)) == [round(100 * 10 / 31_000, 4), 5.0, 0.0]


def test_training_run_goodput_and_finish(found: dict[tuple[str, str], Finding]) -> None:
    f = found[("training", "big")]
    held = (36 - 3) * 24 * 1000.0  # Jan 5 → Feb 10 is 36 days, 3 of them queued
    assert f.values["held_gpu_hours"] == pytest.approx(held)
    assert f.values["goodput_pct"] == pytest.approx(100 * (1 - 50_000 / held))
    assert f.values["interruptions"] == 4 and f.values["restarts"] == 3 and f.values["preemptions"] == 1
    assert f.values["days_after_deadline"] == pytest.approx(8.0)  # due at the end of Feb 1
    assert f.values["days_after_estimate"] == pytest.approx(2.0)
    assert f.date == "2026-02-10"
    assert (
        "finished 2026-02-10, 8 days after its deadline (2026-02-01) and 2 days after its estimate" in f.text
    )
    assert "Goodput 93.7%" in f.text and "4 interruptions (3 failures, 1 preemptions)" in f.text


def test_training_run_not_finished(found: dict[tuple[str, str], Finding]) -> None:
    late = found[("training", "late")]
    held = 11 * 24 * 100.0  # Mar 21 → Apr 1 on 100 GPUs
    # goodput as the training-time model defines it: compute / held, so checkpoint writes (10%) are not good
    assert late.values["goodput_pct"] == pytest.approx(100 * 0.9 * (1 - 1000 / held))
    done = 100 * 0.9 * (held - 1000) / (100 * 24 * 20.0)
    assert f"still running at the horizon (2026-04-01), about {done:.0f}% of its compute done" in late.text
    assert "past its deadline 2026-03-25" in late.text and "its estimate 2026-05-01 lies beyond" in late.text
    never = found[("training", "never")]
    assert "never started: still waiting at the horizon (2026-04-01)" in never.text
    assert never.values["goodput_pct"] is None and never.values["held_gpu_hours"] == 0.0


def test_research_backlog(found: dict[tuple[str, str], Finding]) -> None:
    f = found[("backlog", "research")]
    # queue by hand: 100 from T0, 150 from T0+1h (A, B), 50 at T0+2h (A starts, C starts on arrival),
    # 80 from T0+2.5h (B, D), 30 from T0+3h to the horizon (D)
    assert f.values["gpus"] == 150 and f.values["jobs"] == 2
    assert f.values["at"] == (T0 + H).isoformat() and f.date == "2026-03-10"


def test_unused_commitment(found: dict[tuple[str, str], Finding]) -> None:
    c1 = found[("commitment", "c1")]
    assert c1.values["unused_commitment_usd"] == 5e6 and c1.values["first_year_lost"] == 2026
    assert c1.text == "Contract c1: $5.00M of commitment unused: $5.00M in contract year 1 (lost Mar 2026)."
    c2 = found[("commitment", "c2")]  # nothing booked yet: the ledger's last projection
    assert c2.values == {"projected_shortfall_usd": 2e6} and c2.date == "2026-03"
    assert ("commitment", "od") not in found


def test_peak_funding_need(found: dict[tuple[str, str], Finding]) -> None:
    assert found[("funding", "base")].values == {"peak_usd": 3e9, "year": 2027}
    assert found[("funding", "base")].text == "Funding (base): peak need $3.00B in 2027."
    assert found[("funding", "bull")].values == {"peak_usd": 0.0} and found[("funding", "bull")].date == ""


def test_order_and_headline_figures() -> None:
    run = make_run()
    found, h = summarize(run, CONTEXT)
    assert [f.kind for f in found] == ["inference", *["training"] * 3, "backlog", "commitment", "commitment",
                                       "funding", "funding"]  # fmt: skip
    assert h["inference_unserved_worst_month_pct"] == pytest.approx(5.0)
    assert h["training_interruptions.big"] == 4 and h["training_lost_gpu_hours.late"] == 1000.0
    assert h["training_goodput_pct.never"] is None
    # the true peak over all classes: the training run waiting Jan 5–6 on 1,000 GPUs; the most jobs at
    # once: from Mar 30 "never" waits with D (2), beside B and D at T0+2.5h (2); A and B at T0+1h (2)
    assert h["peak_queued_gpus"] == 5030.0 and h["peak_queued_jobs"] == 2
    # censored waits: D and "never" are still waiting; their waits run to the horizon
    assert h["waits_censored.research"] == 1 and h["waits_censored.training"] == 1
    # without a context the training runs are the class's single-job workloads and the horizon the tables'
    bare = training_runs(run, RunContext(horizon_end=HORIZON))
    assert list(bare["run"]) == ["big", "late", "never"] and bare["deadline"].isna().all()
    assert headline(run, CONTEXT) == h


def test_plots_the_run_lacks_are_left_out() -> None:
    """No series, no spend: those plots are left out, and so is the on-demand contract's burn-down."""
    from gpufleet.report.figures import build_plots

    plots = {p.id: p for p in build_plots(make_run(), HORIZON)}
    assert list(plots) == ["queue", "failures", "inference", "commitment"]
    burned = {tr.meta["contract"] for tr in plots["commitment"].figure.data}
    assert burned == {"c1", "c2"}  # "od" has no commitment
    failures = plots["failures"].figure
    assert [tr.meta for tr in failures.data] == [{"lost_by_class": True}]  # no GPUs down: one panel only
    inference = plots["inference"].figure  # some demand unserved: the share has its own panel
    assert any((tr.meta or {}).get("unserved_month") for tr in inference.data)


def test_a_tiny_worst_month_is_not_printed_as_zero() -> None:
    """A worst month with 0.003% unserved reads as such, never as '0.0% of demand unserved'."""
    run = make_run()
    inf = run.inference.copy()
    demand = inf["demand_tokens_s"].astype(float)
    inf["served_tokens_s"] = demand  # all served, but for 0.1% in one step: a tiny worst month
    inf.loc[inf.index[-1], "served_tokens_s"] = demand.iloc[-1] * (1 - 1e-3)
    tables = dataclasses.replace(run, inference=inf)
    found = [f for f in findings(tables, CONTEXT) if f.kind == "inference"]
    assert found and "0.0% of demand" not in found[0].text
    assert 0 < found[0].values["unserved_pct"] < 0.05
    assert f"{found[0].values['unserved_pct']:.2g}% of demand unserved" in found[0].text


JAN1 = pd.Timestamp("2026-01-01", tz=UTC)


def burning_run(restarts: int = 200, preemptions: int = 0, lost: float = 96_000.0) -> RunTables:
    """One 1,000-GPU run from Jan 1 to Jan 11 with no wait: 240,000 GPU-h held, on contract k ($2.50 in
    January, $4.00 in February: the run's month is January)."""
    jobs = [{**job(1, "burn", "training", 1000, JAN1, start=JAN1, end=JAN1 + 10 * DAY, wait_s=0.0,
                   restarts=restarts, preemptions=preemptions, lost=lost), "contract": "k"}]  # fmt: skip
    ledger = [
        {"contract": "k", "provider": "p", "kind": "committed", "month": JAN1, "price_per_gpu_hour_usd": 2.5},
        {"contract": "k", "provider": "p", "kind": "committed", "month": pd.Timestamp("2026-02-01", tz=UTC),
         "price_per_gpu_hour_usd": 4.0},
    ]  # fmt: skip
    return RunTables(jobs=run_table("jobs", jobs), ledger=run_table("ledger", ledger))


BURN = TrainingTarget(compute_share=0.9, restart_s=600.0, checkpoint_interval_s=1800.0)


def burn_finding(tables: RunTables, target: TrainingTarget | None = BURN) -> Finding:
    ctx = RunContext(horizon_end=JAN1 + 31 * DAY, training={"burn": target} if target else {})
    [f] = [f for f in findings(tables, ctx) if f.kind == "training"]
    return f


def test_low_goodput_says_why_from_the_runs_own_numbers() -> None:
    """Goodput 0.9 × (1 − 96,000 / 240,000) = 54%: 200 failures in 10 days of running are 20 a day, one
    every 72 minutes, against a 10-minute restart and a checkpoint every 30 minutes; 96,000 GPU-h lost
    at k's January price of $2.50 are $240,000."""
    f = burn_finding(burning_run())
    assert f.values["goodput_pct"] == pytest.approx(54.0)
    assert f.values["interruptions_per_day"] == pytest.approx(20.0)
    assert f.values["mean_time_between_interruptions_s"] == pytest.approx(72 * 60.0)
    assert f.values["price_per_gpu_hour_usd"] == 2.5 and f.values["lost_usd"] == pytest.approx(240_000.0)
    assert f.text.endswith(
        "Goodput 54.0%, 96.00k GPU-h lost of 240.00k held, 200 interruptions (200 failures, 0 preemptions). "
        "Low goodput (below 70%): at 1,000 GPUs, failures interrupted it 20 times a day, once every 72.0 min "
        "of running, against a 10.0 min restart and a checkpoint every 30.0 min; the 96.00k GPU-h lost to "
        "them are worth $240.00k at k's $2.50 per GPU-h."
    )


def test_goodput_drivers_without_the_scenario_or_a_price() -> None:
    # no training-time model: no restart or checkpoint to set the interruptions against
    bare = burn_finding(burning_run(restarts=150, preemptions=50), target=None)
    assert bare.values["goodput_pct"] == pytest.approx(60.0)  # 1 − 0.4, no checkpoint share known
    assert (
        "failures and preemptions interrupted it 20 times a day, once every 72.0 min of running; "
        in bare.text
    )
    assert "against" not in bare.text
    # no ledger: the GPU-hours lost go unpriced
    unpriced = dataclasses.replace(burning_run(), ledger=empty_table("ledger"))
    assert burn_finding(unpriced).text.endswith(
        "the 96.00k GPU-h lost to them go unpriced (no price for its contract in the ledger)."
    )
    assert "lost_usd" not in burn_finding(unpriced).values


def test_goodput_at_or_above_the_threshold_says_nothing_more() -> None:
    f = burn_finding(burning_run(lost=50_400.0))  # 0.9 × (1 − 0.21) = 71.1%
    assert f.values["goodput_pct"] == pytest.approx(71.1)
    assert "Low goodput" not in f.text and "interruptions_per_day" not in f.values


def test_low_goodput_without_interruptions_is_checkpoint_writes() -> None:
    f = burn_finding(
        burning_run(restarts=0, lost=0.0), TrainingTarget(compute_share=0.6, checkpoint_interval_s=900.0)
    )
    assert f.values["goodput_pct"] == pytest.approx(60.0)
    assert f.text.endswith(
        "Low goodput (below 70%): no interruptions; writing checkpoints took 40% of its time "
        "(a checkpoint every 15.0 min)."
    )


def test_the_context_carries_the_models_restart_and_checkpoint_interval() -> None:
    """small.yaml's model-a states neither: the context has the training-time model's values."""
    loaded = load_scenario(SMALL)
    target = run_context(loaded.scenario, loaded.catalog).training["model-a"]
    [run] = [w.item for w in loaded.scenario.workloads if getattr(w.item, "name", "") == "model-a"]
    plan = plan_scenario_run(run, loaded.scenario, loaded.catalog)  # type: ignore[arg-type]
    assert target.restart_s == plan.restart_s > 0
    assert target.checkpoint_interval_s == plan.checkpoint_interval_s > 0
