"""Revenue-driven demand: revenue -> tokens -> GPUs by hand, the S-curve's ceiling, the drivers' gap."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gpufleet.catalog import load_builtin_catalog
from gpufleet.scenario.schema import InferenceDemand, RevenueScenario
from gpufleet.units import SECONDS_PER_DAY
from gpufleet.workload import demand as dm
from gpufleet.workload import inference as inf

CAT = load_builtin_catalog()
YEAR_S = 365.25 * SECONDS_PER_DAY
START = dt.date(2026, 1, 1)


def _revenue_demand(share: float = 0.5, price: float = 2.0, decline: float = 0.5) -> InferenceDemand:
    return InferenceDemand.model_validate(
        {"revenue": {"share": share, "usd_per_million_tokens": price, "price_decline_per_year": decline}}
    )


def test_revenue_to_tokens_to_gpus_by_hand() -> None:
    flat = RevenueScenario(by_year_usd={2026: 10e9})  # one anchor: $10B a year throughout
    d = _revenue_demand()
    t = np.array([0.0, YEAR_S, 2 * YEAR_S])
    tokens = dm.revenue_tokens_s(d, flat, START, t)
    # $10B x 0.5 / ($2 per 1e6 tokens) = 2.5e15 tokens a year; the price halves each year
    by_hand = np.array([2.5e15, 5.0e15, 10.0e15]) / YEAR_S
    np.testing.assert_allclose(tokens, by_hand, rtol=1e-12)
    per_gpu = inf.tokens_per_s_per_gpu("frontier-moe", "gb200", CAT)  # MLPerf: 167,578.1 / 72
    gpus = dm.gpus_needed(tokens, per_gpu)
    np.testing.assert_allclose(gpus, by_hand / (167578.1 / 72), rtol=1e-3)
    # each newer generation serves more per GPU: fewer GPUs for the same tokens
    per_gen = [inf.tokens_per_s_per_gpu("frontier-moe", a, CAT) for a in ("h100", "gb200", "gb300", "vr200")]
    assert per_gen == sorted(per_gen) and len(set(per_gen)) == 4
    assert dm.gpus_needed(tokens, per_gen[-1])[0] < dm.gpus_needed(tokens, per_gen[2])[0] < gpus[0]


def test_revenue_path_grows_between_anchors_and_beyond() -> None:
    anchors = RevenueScenario(by_year_usd={2025: 10e9, 2027: 40e9})
    assert anchors.usd_in_year(2026, 2025) == pytest.approx(20e9)
    assert anchors.usd_in_year(2028, 2025) == pytest.approx(80e9)  # the last pair's growth goes on
    doubling = RevenueScenario(start_usd=10e9, start_year=2025, growth_per_year=1.0)
    rate = dm.revenue_rate_usd_per_year(doubling, START, np.array([0.0, YEAR_S]))
    assert rate[1] / rate[0] == pytest.approx(2.0, rel=1e-3)
    # the year's revenue is the rate at mid-year: 2025's $10B on 2025-07-02 (mid-year of 365 days)
    mid = dm.revenue_rate_usd_per_year(doubling, dt.date(2025, 1, 1), np.array([182.5 * SECONDS_PER_DAY]))
    assert mid[0] == pytest.approx(10e9, rel=1e-3)


@given(
    st.floats(min_value=1e6, max_value=1e9),
    st.floats(min_value=1.0, max_value=20.0),
    st.floats(min_value=0.2, max_value=5.0),
    st.integers(min_value=-3, max_value=8),
)
def test_s_curve_users_stay_below_the_ceiling_and_reach_it(
    u0: float, ceiling_x: float, steepness: float, mid_years: int
) -> None:
    ceiling = u0 * ceiling_x
    d = InferenceDemand.model_validate(
        {
            "weekly_users": u0,
            "tokens_per_user_per_day": 1000,
            "s_curve": {
                "midpoint": dt.date(2026 + mid_years, 1, 1),
                "saturation_weekly_users": ceiling,
                "steepness_per_year": steepness,
            },
        }
    )
    t = np.linspace(0.0, 60 * YEAR_S, 400)
    u = inf.users(d, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), t)
    assert u[0] == pytest.approx(u0, rel=1e-9)
    assert np.all(u <= ceiling * (1 + 1e-9))
    assert np.all(np.diff(u) >= -1e-6 * ceiling)
    if steepness * (60 - max(mid_years, 0)) > 40:  # far past the midpoint: at the ceiling
        assert u[-1] == pytest.approx(ceiling, rel=1e-6)


def test_both_drivers_report_their_gap_per_year() -> None:
    case = RevenueScenario(by_year_usd={2026: 10e9})
    tokens_s = 2.5e15 / YEAR_S  # the revenue path's rate above, at a constant price
    users = 1e6
    per_user_day = tokens_s * SECONDS_PER_DAY / users
    d = InferenceDemand.model_validate(
        {
            "weekly_users": 2 * users,  # twice the users the revenue pays for
            "tokens_per_user_per_day": per_user_day,
            "revenue": {"share": 0.5, "usd_per_million_tokens": 2.0},
            "driver": "revenue",
        }
    )
    gap = dm.driver_gap(d, START, dt.date(2027, 12, 31), case)
    assert [g["year"] for g in gap] == [2026, 2027]
    for g in gap:
        assert g["gap_pct"] == pytest.approx(100.0, rel=1e-9)
    days_2026 = 365
    assert gap[0]["revenue_tokens"] == pytest.approx(tokens_s * days_2026 * SECONDS_PER_DAY, rel=1e-9)
    # the revenue path drives: the demand is the revenue path's, not the users'
    mean = dm.mean_tokens_s(d, START, np.array([0.0]), case)
    assert mean[0] == pytest.approx(tokens_s, rel=1e-9)


def test_both_drivers_without_a_choice_is_an_error() -> None:
    with pytest.raises(ValidationError, match="say which drives"):
        InferenceDemand.model_validate(
            {
                "weekly_users": 1e6,
                "tokens_per_user_per_day": 10,
                "revenue": {"share": 1, "usd_per_million_tokens": 1},
            }
        )
    with pytest.raises(ValidationError, match="users path"):
        InferenceDemand.model_validate({"weekly_users": 1e6})


def test_tokens_per_user_grow_at_the_stated_rate() -> None:
    d = InferenceDemand.model_validate(
        {"weekly_users": 1e6, "tokens_per_user_per_day": 100, "tokens_per_user_growth_per_year": 0.5}
    )
    m = dm.users_tokens_s(d, START, np.array([0.0, 2 * YEAR_S]))
    assert m[0] == pytest.approx(1e8 / SECONDS_PER_DAY)
    assert m[1] / m[0] == pytest.approx(2.25)


@given(
    st.floats(min_value=-0.5, max_value=3.0),
    st.floats(min_value=0.0, max_value=2.0),
    st.floats(min_value=0.0, max_value=0.9),
)
def test_a_bear_path_never_asks_for_more_than_base(bear_g: float, extra: float, decline: float) -> None:
    bear = RevenueScenario(start_usd=13e9, start_year=2025, growth_per_year=bear_g)
    base = RevenueScenario(start_usd=13e9, start_year=2025, growth_per_year=bear_g + extra)
    d = _revenue_demand(decline=decline)
    months = np.arange(84, dtype=np.float64) * YEAR_S / 12
    lo = dm.revenue_tokens_s(d, bear, dt.date(2025, 11, 1), months)
    hi = dm.revenue_tokens_s(d, base, dt.date(2025, 11, 1), months)
    assert np.all(lo <= hi * (1 + 1e-12))


@given(
    st.dictionaries(
        st.integers(min_value=2020, max_value=2035),
        st.floats(min_value=1e8, max_value=1e12),
        min_size=1,
        max_size=5,
    ),
    st.floats(min_value=-0.5, max_value=3.0),
    st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2036, 12, 31)),
)
def test_the_rate_over_many_times_is_the_path_year_by_year(
    anchors: dict[int, float], growth: float, start: dt.date
) -> None:
    """The vectorized rate is RevenueScenario.usd_in_year at each time, to the last bit (sweeps and the
    engine take the rate from the one, the portfolio its years from the other)."""
    t = np.linspace(-2 * YEAR_S, 12 * YEAR_S, 301)
    years = dm.decimal_year(start) + t / YEAR_S
    for case in (
        RevenueScenario(by_year_usd=anchors),
        RevenueScenario(start_usd=13e9, start_year=2025, growth_per_year=growth),
        RevenueScenario(start_usd=13e9, growth_per_year=growth),
    ):
        one_by_one = [case.usd_in_year(float(y) - 0.5, start.year) for y in years]
        assert dm.revenue_rate_usd_per_year(case, start, t).tolist() == one_by_one
