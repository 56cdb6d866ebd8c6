"""A compute roadmap's generated runs: sizes and dates by hand, GPUs capped, post-training alongside."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from gpufleet.scenario.roadmap import add_months, roadmap_runs
from gpufleet.scenario.schema import Roadmap

ROADMAP = {
    "name": "frontier",
    "team": "frontier",
    "first_start": "2026-01-15",
    "every_months": 9,
    "first_params": 1e12,
    "first_tokens": 20e12,
    "compute_growth": 4.0,
    "first_gpus": 72000,
    "gpu_growth": 2.0,
    "max_gpus": 200000,
    "gpu_multiple": 72,
    "accelerators": [
        {"date": "2026-01-01", "accelerator": "gb200"},
        {"date": "2027-01-01", "accelerator": "gb300", "precision": "fp8"},
    ],
    "post_training_share": 0.25,
    "post_training_gpus": 9216,
    "post_training_lag_months": 4,
}


def test_roadmap_run_sizes_and_dates_by_hand() -> None:
    runs = roadmap_runs(Roadmap.model_validate(ROADMAP), dt.date(2028, 6, 30))
    pre = [r for r in runs if not r.name.endswith("-post")]
    post = [r for r in runs if r.name.endswith("-post")]
    # starts every 9 months from 2026-01-15 while before the end: Jan 2026, Oct 2026, Jul 2027, Apr 2028
    assert [r.earliest_start for r in pre] == [
        dt.date(2026, 1, 15), dt.date(2026, 10, 15), dt.date(2027, 7, 15), dt.date(2028, 4, 15)
    ]  # fmt: skip
    assert [r.name for r in pre] == ["frontier-1", "frontier-2", "frontier-3", "frontier-4"]
    c0 = 6 * 1e12 * 20e12
    for i, r in enumerate(pre):
        assert 6 * r.params * r.tokens == pytest.approx(c0 * 4**i)  # k x the previous run's compute
        assert r.tokens / r.params == pytest.approx(20.0)  # tokens per parameter kept
    assert pre[1].params == pytest.approx(2e12)  # compute x4 = params x2 and tokens x2
    # 72,000 x 2^i rounded down to 72s, capped at 200,000 (199,944 = 2777 x 72)
    assert [r.gpus for r in pre] == [72000, 144000, 199944, 199944]
    assert [r.accelerator for r in pre] == ["gb200", "gb200", "gb300", "gb300"]
    assert pre[2].precision == "fp8"
    # post-training: 25% of the compute, 4 months after each start; the one after the end is dropped
    assert [r.earliest_start for r in post] == [
        dt.date(2026, 5, 15), dt.date(2027, 2, 15), dt.date(2027, 11, 15)
    ]  # fmt: skip
    for p, r in zip(post, pre, strict=False):
        assert 6 * p.params * p.tokens == pytest.approx(0.25 * 6 * r.params * r.tokens)
        assert p.gpus == 9216


def test_add_months_clips_to_the_month_end() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 12, 1), 12) == dt.date(2028, 12, 1)


def test_first_run_must_have_an_accelerator() -> None:
    bad = ROADMAP | {"accelerators": [{"date": "2026-06-01", "accelerator": "gb200"}]}
    with pytest.raises(ValueError, match="no accelerator for the first run"):
        Roadmap.model_validate(bad)
    assert math.isfinite(Roadmap.model_validate(ROADMAP).compute_growth)


def test_compute_is_capped_at_max_flop() -> None:
    capped = Roadmap.model_validate(ROADMAP | {"max_flop": 2.0 * 6 * 1e12 * 20e12})
    runs = [r for r in roadmap_runs(capped, dt.date(2028, 6, 30)) if not r.name.endswith("-post")]
    c0 = 6 * 1e12 * 20e12
    assert [6 * r.params * r.tokens / c0 for r in runs] == pytest.approx([1.0, 2.0, 2.0, 2.0])


def test_the_default_asks_bear_for_no_more_than_base_each_month() -> None:
    """The default scenario: each service's demand, every month of the horizon, bear <= base <= bull."""
    import numpy as np

    from gpufleet.scenario import load_builtin_scenario
    from gpufleet.units import SECONDS_PER_DAY
    from gpufleet.workload.demand import mean_tokens_s

    s = load_builtin_scenario().scenario
    cases = s.finance.revenue_scenarios
    months = np.arange(86, dtype=np.float64) * 365.25 / 12 * SECONDS_PER_DAY
    services = [w.inference for w in s.workloads if w.inference is not None]
    assert services and all(i.demand.driven_by == "revenue" for i in services)
    for inf in services:
        bear = mean_tokens_s(inf.demand, s.horizon.start, months, cases["bear"])
        base = mean_tokens_s(inf.demand, s.horizon.start, months, cases["base"])
        bull = mean_tokens_s(inf.demand, s.horizon.start, months, cases["bull"])
        assert np.all(bear <= base) and np.all(base <= bull)
        assert bear[-1] < base[-1]
    assert any(w.roadmap is not None for w in s.workloads)
