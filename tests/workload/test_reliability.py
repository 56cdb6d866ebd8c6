"""Failure rates, restart overhead, Young/Daly and goodput against hand calculation (DESIGN.md)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.workload import reliability as rel


def test_h100_rate_is_the_llama3_calibration() -> None:
    hand = 419 / (54 * 24 * 16384)  # 419 unexpected interruptions, 54 days, 16,384 GPUs
    assert rel.failure_rate_per_gpu_hour("h100") == pytest.approx(hand)
    assert 1.9e-5 < hand < 2.1e-5  # DESIGN.md: about 2.0e-5
    # a 16k-GPU job fails every ~3 h, a 100k-GPU job every ~30 min (DESIGN.md)
    assert rel.job_mtbf_s(16384, hand) / 3600 == pytest.approx(3.09, abs=0.05)
    assert 25 < rel.job_mtbf_s(100_000, hand) / 60 < 35


def test_overrides_and_assumed_multipliers() -> None:
    assert rel.failure_rate_per_gpu_hour("gb200", {"gb200": 5e-5}) == 5e-5
    base = rel.failure_rate_per_gpu_hour("h100")
    assert rel.failure_rate_per_gpu_hour("gb200") >= base  # a stated assumption: not more reliable
    assert rel.failure_rate_per_gpu_hour("not-in-catalog") > 0


def test_restart_overhead_passes_through_the_sourced_points() -> None:
    assert rel.restart_overhead_s(16384) == pytest.approx(200.0)
    assert rel.restart_overhead_s(98000) == pytest.approx(900.0)
    assert rel.restart_overhead_s(1) == pytest.approx(60.0)  # the floor
    # power law between: geometric mean of sizes -> geometric mean of times
    mid = math.sqrt(16384 * 98000)
    assert rel.restart_overhead_s(round(mid)) == pytest.approx(math.sqrt(200 * 900), rel=1e-4)


@given(st.integers(min_value=1, max_value=2_000_000), st.integers(min_value=1, max_value=2_000_000))
def test_restart_grows_with_size(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert rel.restart_overhead_s(lo) <= rel.restart_overhead_s(hi)


def test_young_daly_and_goodput_by_hand() -> None:
    c, m, r = 30.0, 11135.0, 200.0
    tau = rel.young_daly_interval_s(c, m)
    assert tau == pytest.approx((2 * 30 * 11135) ** 0.5)
    g = rel.expected_goodput(c, tau, r, m)
    assert g == pytest.approx(1 - 30 / tau - (tau / 2 + 200) / 11135)
    assert rel.expected_goodput(0.0, 0.0, 100.0, 1000.0) == pytest.approx(0.9)
    assert rel.expected_goodput(10.0, 100.0, 5000.0, 1000.0) == 0.0  # clipped, never negative


@given(
    st.floats(min_value=0.1, max_value=600),
    st.floats(min_value=60, max_value=1e6),
    st.floats(min_value=0, max_value=900),
)
def test_young_daly_is_the_best_interval(c: float, m: float, r: float) -> None:
    tau = rel.young_daly_interval_s(c, m)
    best = rel.expected_goodput(c, tau, r, m)
    for f in (0.5, 0.8, 1.25, 2.0):
        assert rel.expected_goodput(c, tau * f, r, m) <= best + 1e-12


@given(st.floats(min_value=-1 / math.e, max_value=0.0))
def test_lambert_w0_inverts_w_exp_w(x: float) -> None:
    w = rel.lambert_w0(x)
    assert -1.0 <= w <= 0.0
    assert w * math.exp(w) == pytest.approx(x, abs=1e-12)


@given(st.floats(min_value=0.1, max_value=600), st.floats(min_value=60, max_value=1e6))
def test_the_exact_interval_minimises_the_expected_wall_time(c: float, m: float) -> None:
    tau = rel.optimal_interval_s(c, m)
    assert 0 < tau < m

    def wall(t: float) -> float:  # per second of training, many periods
        return rel.expected_wall_s(1e6 * (t + c), t + c, 0.0, m) / (1e6 * t)

    for f in (0.8, 0.95, 1.05, 1.25):
        assert wall(tau * f) >= wall(tau) * (1 - 1e-9)


def test_the_exact_interval_is_young_daly_when_checkpoints_are_cheap() -> None:
    assert rel.optimal_interval_s(1.0, 1e7) == pytest.approx(rel.young_daly_interval_s(1.0, 1e7), rel=1e-3)
    assert rel.optimal_interval_s(0.0, 1e4) == 0.0
    assert math.isinf(rel.optimal_interval_s(10.0, math.inf))


def test_expected_wall_limits_by_hand() -> None:
    assert rel.expected_wall_s(1000.0, 100.0, 50.0, math.inf) == 1000.0  # nothing fails
    # continuous checkpoints: each failure costs the restart only -> W e^(R/M)
    assert rel.expected_wall_s(1000.0, 0.0, 50.0, 500.0) == pytest.approx(1000.0 * math.exp(0.1))
    # one period of length P from the start: M e^(R/M) (e^(P/M) - 1)
    assert rel.expected_wall_s(100.0, 100.0, 20.0, 400.0) == pytest.approx(
        400 * math.exp(20 / 400) * (math.exp(100 / 400) - 1)
    )
    # to first order in 1/M it is the Young goodput: W (1 + C/tau ... ) -> 1 / (1 - (P/2 + R)/M)
    w = rel.expected_wall_s(1e7, 100.0, 30.0, 1e6)
    assert 1e7 / w == pytest.approx(1 - (50 + 30) / 1e6, rel=1e-5)


def test_expected_wall_matches_a_monte_carlo_of_the_failure_process() -> None:
    """The renewal process drawn directly: exponential failures, roll back to the last checkpoint,
    restart (which can fail too). Independent of the closed form."""
    import numpy as np

    rng = np.random.default_rng(1)
    work, period, restart, mtbf = 20_000.0, 300.0, 120.0, 900.0
    walls = []
    for _ in range(4000):
        t, done, r = 0.0, 0.0, 0.0
        while True:
            ttf = rng.exponential(mtbf)
            need = r + (work - done)
            if ttf >= need:
                t += need
                break
            progress = max(0.0, ttf - r)
            done += math.floor(progress / period) * period
            t += ttf
            r = restart
        walls.append(t)
    expected = rel.expected_wall_s(work, period, restart, mtbf)
    se = float(np.std(walls)) / math.sqrt(len(walls))
    assert abs(float(np.mean(walls)) - expected) < 4 * se


@given(
    st.floats(min_value=1.0, max_value=1e8),
    st.floats(min_value=0.0, max_value=1e4),
    st.floats(min_value=0.0, max_value=2e3),
    st.floats(min_value=60.0, max_value=1e7),
)
def test_expected_wall_is_at_least_the_work_and_grows_with_restarts_and_failures(
    work: float, period: float, restart: float, mtbf: float
) -> None:
    wall = rel.expected_wall_s(work, period, restart, mtbf)
    assert wall >= work * (1 - 1e-12)
    assert rel.expected_wall_s(work, period, restart + 10, mtbf) >= wall
    assert rel.expected_wall_s(work, period, restart, mtbf / 2) >= wall


def test_a_job_whose_restarts_dwarf_its_mtbf_never_finishes() -> None:
    assert math.isinf(rel.expected_wall_s(1e6, 100.0, 1e5, 10.0))  # e^(R/M) overflows: no finish
