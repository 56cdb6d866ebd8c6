"""Inference: throughput lookup, mean-preserving daily and weekly shapes, demand and replicas by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.catalog import load_builtin_catalog
from gpufleet.errors import InputError
from gpufleet.scenario.schema import InferenceDemand
from gpufleet.workload import inference as inf

CAT = load_builtin_catalog()


def test_throughput_is_mlperf_server_per_gpu() -> None:
    # facts file: DeepSeek-R1 Server, GB200-NVL72 167,578.1 tok/s over 72 GPUs; GB300-NVL72 209,327.7
    assert inf.tokens_per_s_per_gpu("frontier-moe", "gb200", CAT) == pytest.approx(167578.1 / 72, rel=1e-3)
    assert inf.tokens_per_s_per_gpu("frontier-moe", "gb300", CAT) == pytest.approx(209327.7 / 72, rel=1e-3)
    # Llama 3.1 405B Server on 8 B200 (Nebius): 1,279.5 tok/s
    assert inf.tokens_per_s_per_gpu("dense-405b", "b200", CAT) == pytest.approx(1279.5 / 8, rel=1e-3)
    assert inf.tokens_per_s_per_gpu("dense-70b", "h100", CAT) == pytest.approx(122273.7 / 32, rel=1e-3)


def test_missing_accelerator_uses_stated_scaling_or_fails_clearly() -> None:
    h200, note = inf.throughput_entry("frontier-moe", "h200")
    assert h200 == pytest.approx(2324.0 * 0.231)
    assert "b200" in note and "405B" in note
    assert inf.tokens_per_s_per_gpu("frontier-moe", "gb200", CAT, {"gb200": 999.0}) == 999.0
    with pytest.raises(InputError, match="unknown model class"):
        inf.tokens_per_s_per_gpu("tiny-llm", "gb200", CAT)
    with pytest.raises(InputError, match="unknown accelerator"):
        inf.tokens_per_s_per_gpu("frontier-moe", "tpu9", CAT)


@given(st.floats(min_value=1.0, max_value=5.0))
def test_daily_factor_mean_one_and_peak(p: float) -> None:
    hours = (np.arange(24 * 60) + 0.5) / 60.0
    f = inf.daily_factor(hours, p, peak_hour=14.0)
    assert float(f.mean()) == pytest.approx(1.0, rel=1e-3)
    assert float(f.max()) == pytest.approx(p, rel=1e-3)
    assert float(f.min()) >= 0.0
    if p > 1.0001:
        assert abs(hours[int(np.argmax(f))] - 14.0) < 0.05


@given(st.floats(min_value=0.1, max_value=2.0))
def test_weekly_factor_mean_one(w: float) -> None:
    f = inf.weekly_factor(np.arange(7), w)
    assert float(f.mean()) == pytest.approx(1.0)
    assert f[5] / f[0] == pytest.approx(w)


def _demand(**kw: object) -> InferenceDemand:
    base: dict[str, object] = {
        "weekly_users": 800e6,
        "tokens_per_user_per_day": 5000,
        "daily_peak_to_mean": 1.6,
        "regions": {"us": {"share": 0.45, "utc_offset_h": -6}, "eu": {"share": 0.55, "utc_offset_h": 1}},
    }
    base.update(kw)
    return InferenceDemand.model_validate(base)


def test_demand_over_a_week_averages_to_users_times_tokens() -> None:
    start = dt.datetime(2025, 11, 3, tzinfo=dt.UTC)  # a Monday
    t = np.arange(0, 7 * 86400, 60.0)
    d = inf.demand_tokens_s(_demand(), start, t)
    mean_total = 800e6 * 5000 / 86400
    assert float(d["us"].mean()) == pytest.approx(0.45 * mean_total, rel=1e-3)
    assert float(d["eu"].mean()) == pytest.approx(0.55 * mean_total, rel=1e-3)
    # US peak at 14:00 local = 20:00 UTC on a weekday; weekend lower by the weekend factor
    weekday_level = 7 / (5 + 2 * 0.85)
    i = int(np.searchsorted(t, 20 * 3600))
    assert d["us"][i] == pytest.approx(0.45 * mean_total * 1.6 * weekday_level, rel=1e-6)
    sat = int(np.searchsorted(t, 5 * 86400 + 20 * 3600))
    assert d["us"][sat] / d["us"][i] == pytest.approx(0.85)


def test_growth_and_s_curve() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    year = np.array([0.0, 365.25 * 86400])
    u = inf.users(_demand(growth_per_month=0.025), start, year)
    assert u[1] / u[0] == pytest.approx(1.025**12)
    sc = _demand(s_curve={"midpoint": "2028-01-01", "saturation_weekly_users": 2e9, "steepness_per_year": 2})
    far = inf.users(sc, start, np.array([0.0, 2 * 365.25 * 86400, 50 * 365.25 * 86400]))
    assert far[0] == pytest.approx(800e6)
    assert far[2] == pytest.approx(2e9, rel=1e-6)
    assert far[0] < far[1] < far[2]


def test_replicas_by_hand() -> None:
    tok = np.array([0.0, 1.0, 167578.1, 167578.2, 1e6])
    per_replica = 167578.1
    r = inf.replicas_needed(tok, per_replica, 1.0)
    assert r.tolist() == [0, 1, 1, 2, int(np.ceil(1e6 / per_replica))]
    assert inf.replicas_needed(np.array([100.0]), 100.0, 1.2).tolist() == [2]


def test_s_curve_past_its_midpoint_closes_the_gap_at_rate_k() -> None:
    # long after the midpoint 1 - L(t) ~ exp(-k (t - mid)): the gap to saturation shrinks as exp(-k t),
    # and a midpoint decades back must not round 1 - L(0) to zero (NaN users)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    sc = _demand(s_curve={"midpoint": "1990-01-01", "saturation_weekly_users": 2e9, "steepness_per_year": 2})
    years = np.array([0.0, 0.25, 1.0, 3.0])
    u = inf.users(sc, start, years * 365.25 * 86400)
    assert np.all(np.isfinite(u))
    assert u == pytest.approx(800e6 + (2e9 - 800e6) * (1 - np.exp(-2 * years)), rel=1e-9)
