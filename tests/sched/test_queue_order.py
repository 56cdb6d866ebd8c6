"""Each queue order named by a scenario's `policies.queue` reaches the engine: who starts first when
GPUs come free, on a hand-built scenario where the four orders disagree."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gpufleet.assemble import prepare, simulate
from gpufleet.scenario.load import load_scenario_text

# One cluster of two NVL72 domains (144 GPUs); every run takes one domain; failures and preemption are
# off. Team a's quota is half the fleet and it may not borrow. x (a, research) runs all month; y (b,
# training) ends after about 3 days. r (b, research) is submitted on day 2, t (a, training) on day 3:
# both wait for y's domain. When it frees:
# - priority: the higher class first: t, then r when t ends;
# - fifo: the earlier submission first, whatever its class: r, then t;
# - fair-share: t's team is at its quota (x holds its 72 GPUs): r, and t never starts this month;
# - strict-fifo: priority order on pooled GPUs: t, then r.
SCENARIO = """
name: queue-orders
horizon: {{start: 2026-01-01, end: 2026-01-31, step: 1d}}
providers: [aws]
sites: [{{name: east, provider: aws, region: us-east-1, geo: us, power_mw: 5}}]
clusters: [{{name: c, site: east, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 2}}]
contracts:
  - name: k
    provider: aws
    clusters: [c]
    price_per_gpu_hour_usd: 3.0
    term: {{start: 2026-01-01, end: 2026-12-31}}
teams:
  - {{name: a, quota_share: 0.5}}
  - {{name: b, quota_share: 0.5}}
workloads:
{runs}
policies:
  queue: {queue}
  failures: {{enabled: false}}
  preemption: {{enabled: false}}
"""
RUN = (
    "  - training_run: {{name: {name}, team: {team}, priority_class: {cls}, params: 1.0e9, tokens: {tokens},"
    " accelerator: gb200, precision: bf16, mfu: 0.5, gpus: 72, earliest_start: {start}}}"
)
DAY_TOKENS = 72 * 2.5e15 * 0.5 * 86400 / 6.0e9  # tokens a day of one domain at MFU 0.5 (GB200 bf16 peak)
RUNS = [
    ("x", "a", "research", 40, "2026-01-01"),
    ("y", "b", "training", 3, "2026-01-01"),
    ("r", "b", "research", 3, "2026-01-02"),
    ("t", "a", "training", 3, "2026-01-03"),
]


def _scenario(queue: str) -> str:
    runs = "\n".join(
        RUN.format(name=n, team=team, cls=cls, tokens=f"{days * DAY_TOKENS:.6e}", start=start)
        for n, team, cls, days, start in RUNS
    )
    return SCENARIO.format(runs=runs, queue=queue)


def _starts(queue: str) -> dict[str, float]:
    loaded = load_scenario_text(_scenario(queue), f"<queue {queue}>")
    jobs = simulate(loaded.scenario, loaded.catalog, 1, {}).jobs
    start = pd.to_datetime(jobs["start"])
    return dict(zip(jobs["workload"], (start - start.min()).dt.total_seconds() / 86400.0, strict=True))


@pytest.mark.parametrize(
    ("queue", "first", "then"),
    [("priority", "t", "r"), ("fifo", "r", "t"), ("fair-share", "r", None), ("strict-fifo", "t", "r")],
)
def test_the_queue_order_decides_who_takes_the_freed_domain(queue: str, first: str, then: str | None) -> None:
    s = _starts(queue)
    assert s["x"] == s["y"] == 0.0
    assert s[first] == pytest.approx(s["y"] + 3.0, abs=0.1)  # y's domain when y ends (+ checkpoint writes)
    if then is None:  # the other never starts
        assert math.isnan(s["t" if first == "r" else "r"])
    else:  # it takes the domain when the first ends
        assert s[then] == pytest.approx(s[first] + 3.0, abs=0.1)


@pytest.mark.parametrize("queue", ["fair-share", "priority", "fifo", "strict-fifo"])
def test_the_name_reaches_the_engine_input(queue: str) -> None:
    loaded = load_scenario_text(_scenario(queue), f"<queue {queue}>")
    inp = prepare(loaded.scenario, loaded.catalog, 1, {})[0]
    assert inp.policy.queue == queue
    assert inp.policy.strict == (queue == "strict-fifo")
