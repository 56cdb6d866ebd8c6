"""The queue at event resolution and censored waits: a hand-checked replay through the engine; properties."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from gpufleet.report.waits import job_waits, queue_curve, queue_peaks
from gpufleet.store import open_store
from gpufleet.tables import RunTables, check_table

# One cluster of two NVL72 domains (144 GPUs), failures off, four research jobs from a generic trace:
#   J1 at 0 h, 10 h on 144 GPUs: starts at once and fills the cluster until 10 h
#   J2 at 1 h (72 GPUs), J3 at 2 h (144), J4 at 3 h (72): all wait for J1
# By hand the queue is 72 GPUs (1 job) from 1 h, 216 (2) from 2 h, 288 (3) from 3 h to 10 h; at 10 h J2
# starts and J4 backfills beside it, J3 waits for all 144 GPUs until 12 h. Its daily average is
# (72 + 216 + 7 x 288 + 2 x 144) / 24 = 108 GPUs: the figure the step table gives.
REPLAY = """\
name: hand-replay
horizon: {start: 2026-01-01, end: 2026-01-03, step: 1d}
seed: 1
providers: [aws]
sites:
  - {name: east, provider: aws, region: us-east-1, geo: us, power_mw: 5, pue: 1.2}
clusters:
  - {name: c, site: east, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 2}
contracts:
  - name: main
    provider: aws
    clusters: [c]
    term: {start: 2026-01-01, end: 2026-12-31}
    price_per_gpu_hour_usd: 3.0
    ramp:
      - {date: 2026-01-01, domains: 2}
teams:
  - {name: research, quota_share: 1.0, priority_class: research}
workloads:
  - stream:
      name: replay
      team: research
      trace: {path: jobs.csv, format: generic}
policies:
  failures: {enabled: false}
"""
TRACE = "submit_s,duration_s,gpus,team\n0,36000,144,research\n3600,7200,72,research\n7200,3600,144,research\n"
TRACE += "10800,3600,72,research\n"
DAY0 = pd.Timestamp("2026-01-01", tz="UTC")


def test_hand_checked_replay_peaks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "replay.yaml").write_text(REPLAY)
    (tmp_path / "jobs.csv").write_text(TRACE)
    store = str(tmp_path / "r.duckdb")
    res = run_cli("simulate", str(tmp_path / "replay.yaml"), "--store", store, "--no-report", "--json",
                  capsys=capsys)  # fmt: skip
    assert res.code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["headline"]["peak_queued_gpus"] == 288 and doc["headline"]["peak_queued_jobs"] == 3
    with open_store(store, read_only=True) as s:
        t = s.load_run(doc["run"]["run_id"])
    j = t.jobs.sort_values("submit")
    assert list((j["start"] - DAY0).dt.total_seconds() / 3600) == [0, 10, 12, 10]  # as reasoned above
    p = queue_peaks(t, DAY0 + pd.Timedelta(days=3))
    assert (p.gpus.value, p.gpus.jobs, p.gpus.at) == (288, 3, DAY0 + pd.Timedelta(hours=3))
    assert p.gpus_by_class["research"].value == 288 and p.requeue_jobs == 0
    # the step table's peak is the daily average, 108 GPUs: what the headline used to call the peak
    assert t.queue.groupby("time")["queued_gpus"].sum().max() == pytest.approx(108.0)
    waits = job_waits(t.jobs, DAY0 + pd.Timedelta(days=3)).sort_index()
    assert sorted(waits["wait_h"]) == [0, 7, 9, 10] and not waits["censored"].any()


def _jobs(rows: list[tuple[float, float | None, int, str, float]]) -> pd.DataFrame:
    """Jobs from (submit h, first start h or None, GPUs, state, wait_s) on day 0."""
    out = []
    for i, (sub, start, gpus, state, wait_s) in enumerate(rows):
        out.append({"id": i, "workload": "w", "team": "t", "class": "research", "gpus": gpus,
                    "submit": DAY0 + pd.Timedelta(hours=sub),
                    "start": pd.NaT if start is None else DAY0 + pd.Timedelta(hours=start),
                    "end": pd.NaT, "cluster": "c", "provider": "p", "contract": "k", "wait_s": wait_s,
                    "restarts": 0, "preemptions": 0, "lost_gpu_hours": 0.0, "state": state,
                    "reason": ""})  # fmt: skip
    df = pd.DataFrame(out)
    for col in ("submit", "start", "end"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return check_table("jobs", df)


def test_requeues_are_reported_not_placed_and_censored_waits_run_to_the_horizon() -> None:
    horizon = DAY0 + pd.Timedelta(hours=24)
    jobs = _jobs([
        (0, 1, 8, "running", 3 * 3600.0),  # first wait 1 h, then 2 h more after a requeue
        (2, 2, 64, "running", 0.0),  # starts on arrival: never in the queue
        (20, None, 16, "queued", 4 * 3600.0),  # still waiting at the horizon: 4 h, censored
    ])  # fmt: skip
    curve = queue_curve(jobs, horizon)
    assert list(curve["queued_gpus"]) == [8, 0, 16, 0] and list(curve["queued_jobs"]) == [1, 0, 1, 0]
    p = queue_peaks(RunTables(jobs=jobs), horizon)
    assert p.requeue_jobs == 1 and p.requeue_wait_gpu_hours == pytest.approx(2 * 8)
    assert p.gpus.value == 16 and p.jobs.value == 1 and p.gpus.at == DAY0 + pd.Timedelta(hours=20)
    w = job_waits(jobs, horizon)
    assert list(w["wait_h"]) == [3, 0, 4] and list(w["censored"]) == [False, False, True]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 10), st.integers(1, 9), st.booleans()),
        min_size=1,
        max_size=25,
    )
)
def test_queue_curve_equals_counting_at_every_instant(rows: list[tuple[int, int, int, bool]]) -> None:
    horizon = DAY0 + pd.Timedelta(hours=48)
    spec = [(s, None if never else s + w, g, "queued" if never else "running", w * 3600.0)
            for s, w, g, never in rows]  # fmt: skip
    jobs = _jobs(spec)
    curve = queue_curve(jobs, horizon)
    for hour in range(48):
        t = DAY0 + pd.Timedelta(hours=hour)
        waiting = [g for s, start, g, _, _ in spec if s <= hour < (48 if start is None else start)]
        before = curve[curve["time"] <= t]
        assert (before["queued_gpus"].iloc[-1] if len(before) else 0) == sum(waiting)
        assert (before["queued_jobs"].iloc[-1] if len(before) else 0) == len(waiting)
    peak = queue_peaks(RunTables(jobs=jobs), horizon).gpus.value
    assert peak == max((float(v) for v in np.asarray(curve["queued_gpus"])), default=0.0)
