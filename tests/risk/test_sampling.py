"""Sampling: each distribution's moments within sampling error, the copula's rank correlation, LHS strata."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from gpufleet.risk.sampling import draw_inputs, draw_uniforms, ppf
from gpufleet.scenario.uncertainty import Distribution, UncertaintySection

N = 10_000


def _section(dists: dict[str, dict[str, Any]], **extra: Any) -> UncertaintySection:
    inputs = [{"name": n, "path": f"x.{n}", "distribution": d} for n, d in dists.items()]
    return UncertaintySection.model_validate({"inputs": inputs, **extra})


def _values(dist: dict[str, Any], n: int = N, seed: int = 3, sampling: str = "random") -> np.ndarray:
    drawn = draw_inputs(_section({"a": dist}, sampling=sampling), n, seed)
    return np.array([row["a"] for row in drawn.values])


def _close(sample: np.ndarray, mean: float, var: float) -> None:
    """Mean within 5 standard errors; variance within 5 of its standard errors (normal approximation)."""
    n = len(sample)
    assert abs(sample.mean() - mean) < 5 * math.sqrt(var / n)
    kurt = stats.kurtosis(sample, fisher=False)
    assert abs(sample.var(ddof=1) - var) < 5 * var * math.sqrt((kurt - 1) / n)


@pytest.mark.parametrize(
    ("dist", "frozen"),
    [
        ({"kind": "normal", "mean": 2.0, "sd": 0.5}, stats.norm(2.0, 0.5)),
        ({"kind": "lognormal", "median": 1.5, "sigma": 0.3}, stats.lognorm(0.3, scale=1.5)),
        ({"kind": "uniform", "low": -1.0, "high": 3.0}, stats.uniform(-1.0, 4.0)),
        (
            {"kind": "triangular", "low": 0.0, "mode": 1.0, "high": 4.0},
            stats.triang(0.25, loc=0.0, scale=4.0),
        ),
        (
            {"kind": "normal", "mean": 1.0, "sd": 1.0, "low": 0.5, "high": 3.0},
            stats.truncnorm(-0.5, 2.0, loc=1.0, scale=1.0),
        ),
        (
            {"kind": "lognormal", "median": 1.0, "sigma": 0.5, "high": 1.2},
            None,  # checked below against a truncated lognormal by numeric integration
        ),
    ],
)
@pytest.mark.parametrize("sampling", ["random", "lhs"])
def test_moments_within_sampling_error(dist: dict[str, Any], frozen: Any, sampling: str) -> None:
    x = _values(dist, sampling=sampling)
    if frozen is None:
        base = stats.lognorm(dist["sigma"], scale=dist["median"])
        top = base.cdf(dist["high"])
        mean = base.expect(lambda v: v, ub=dist["high"]) / top
        var = base.expect(lambda v: (v - mean) ** 2, ub=dist["high"]) / top
        assert x.max() <= dist["high"]
    else:
        mean, var = float(frozen.mean()), float(frozen.var())
    if "low" in dist:
        assert x.min() >= dist["low"]
    _close(x, mean, var)


def test_discrete_frequencies_follow_weights() -> None:
    x = _values({"kind": "discrete", "values": ["bear", "base", "bull"], "weights": [1, 2, 1]})
    for value, p in (("bear", 0.25), ("base", 0.5), ("bull", 0.25)):
        share = float(np.mean(x == value))
        assert abs(share - p) < 5 * math.sqrt(p * (1 - p) / N)


def test_integer_inputs_are_whole_numbers() -> None:
    section = UncertaintySection.model_validate(
        {"inputs": [{"name": "slip", "path": "x", "op": "+=", "integer": True,
                     "distribution": {"kind": "triangular", "low": 0, "mode": 2, "high": 9}}]}
    )  # fmt: skip
    values = [row["slip"] for row in draw_inputs(section, 500, 1).values]
    assert all(isinstance(v, int) for v in values)
    assert set(values) <= set(range(10)) and len(set(values)) > 5


@pytest.mark.parametrize("sampling", ["random", "lhs"])
@pytest.mark.parametrize("rho", [0.6, -0.4])
def test_copula_gives_the_stated_rank_correlation(sampling: str, rho: float) -> None:
    n = 4000
    section = _section(
        {"a": {"kind": "lognormal", "median": 1.0, "sigma": 1.0},
         "b": {"kind": "uniform", "low": 0.0, "high": 1.0},
         "c": {"kind": "normal", "mean": 0.0, "sd": 1.0}},
        correlation={"inputs": ["a", "b"], "matrix": [[1, rho], [rho, 1]]}, sampling=sampling,
    )  # fmt: skip
    rows = draw_inputs(section, n, 11).values
    a, b, c = (np.array([r[k] for r in rows]) for k in "abc")
    # the standard error of Spearman's rho is about (1 - rho^2) / sqrt(n)
    assert abs(stats.spearmanr(a, b).statistic - rho) < 5 * (1 - rho**2) / math.sqrt(n)
    assert abs(stats.spearmanr(a, c).statistic) < 5 / math.sqrt(n)


def test_lhs_puts_one_draw_in_each_stratum_of_every_input() -> None:
    n = 97
    for corr in (None, {"inputs": ["a", "b"], "matrix": [[1, 0.8], [0.8, 1]]}):
        section = _section(
            {k: {"kind": "uniform", "low": 0, "high": 1} for k in "abc"}, sampling="lhs", correlation=corr
        )
        u = draw_uniforms(section, n, 5)
        for j in range(3):
            assert sorted(np.floor(u[:, j] * n).astype(int)) == list(range(n))
    # random sampling is not stratified: some stratum holds two draws
    u = draw_uniforms(_section({"a": {"kind": "uniform", "low": 0, "high": 1}}), n, 5)
    assert len(set(np.floor(u[:, 0] * n).astype(int))) < n


def test_draws_are_deterministic_and_a_sample_does_not_depend_on_the_count() -> None:
    section = _section(
        {"a": {"kind": "normal", "mean": 0, "sd": 1}, "b": {"kind": "uniform", "low": 0, "high": 1}}
    )
    assert draw_inputs(section, 20, 9).values == draw_inputs(section, 20, 9).values
    assert draw_inputs(section, 20, 9).values[:10] == draw_inputs(section, 10, 9).values
    assert draw_inputs(section, 20, 9).values != draw_inputs(section, 20, 10).values


def test_ppf_is_monotone_and_lands_in_bounds() -> None:
    u = np.linspace(0.0, 1.0, 101)
    dist = Distribution(kind="normal", mean=0.0, sd=2.0, low=-1.0, high=1.0)
    x = ppf(dist, u).astype(float)
    assert np.all(np.diff(x) >= 0) and x.min() >= -1.0 and x.max() <= 1.0


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["normal", "lognormal", "uniform", "triangular"]),
    a=st.floats(0.05, 5.0),
    b=st.floats(0.05, 5.0),
    c=st.floats(0.0, 1.0),
)
def test_every_continuous_distribution_is_monotone_in_u_and_stays_in_its_bounds(
    kind: str, a: float, b: float, c: float
) -> None:
    low, high = a, a + b
    spec: dict[str, Any] = {
        "normal": {"mean": a, "sd": b, "low": low - b * c, "high": high},
        "lognormal": {"median": a, "sigma": min(b, 2.0), "low": low * c, "high": high},
        "uniform": {"low": low, "high": high},
        "triangular": {"low": low, "mode": low + b * c, "high": high},
    }[kind]
    dist = Distribution(kind=kind, **spec)
    x = ppf(dist, np.linspace(0.0, 1.0, 201)).astype(float)
    assert np.all(np.isfinite(x)) and np.all(np.diff(x) >= -1e-12)
    lo, hi = spec["low"], spec["high"]
    assert x.min() >= lo - 1e-9 * max(1.0, abs(lo)) and x.max() <= hi + 1e-9 * max(1.0, abs(hi))


def test_bounds_deep_in_a_tail_still_hold() -> None:
    dist = Distribution(kind="normal", mean=0.0, sd=1.0, low=10.0, high=11.0)
    x = ppf(dist, np.linspace(0.0, 1.0, 11)).astype(float)
    assert x.min() >= 10.0 and x.max() <= 11.0
