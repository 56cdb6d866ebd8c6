"""Sensitivity: the input that drives a metric is found, one that does not is near zero."""

from __future__ import annotations

import math

import numpy as np

from gpufleet.risk.sensitivity import first_order, spearman


def _inputs(n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    return rng.uniform(0, 1, n), rng.normal(0, 1, n), rng.lognormal(0, 1, n)


def test_the_driving_input_is_found_by_both_measures() -> None:
    x1, x2, x3 = _inputs()
    y = 10 * x1 + 0.5 * x2  # Var(10 x1) = 100/12 = 8.33, Var(0.5 x2) = 0.25: x1 holds 97% of the variance
    share = (100 / 12) / (100 / 12 + 0.25)
    assert spearman(x1, y) > 0.9 and abs(spearman(x3, y)) < 0.1
    assert abs(first_order(x1, y) - share) < 0.05
    assert first_order(x2, y) < 0.1 and first_order(x3, y) < 0.05


def test_a_non_monotone_driver_has_no_rank_correlation_but_a_first_order_index() -> None:
    x1, _, x3 = _inputs()
    x = 2 * x1 - 1
    y = x**2  # symmetric in x: rank correlation near 0, yet y is a function of x alone
    assert abs(spearman(x, y)) < 0.1
    assert first_order(x, y) > 0.9
    assert first_order(x3, y) < 0.05


def test_a_discrete_input_is_binned_by_value() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, 3000).astype(float)
    y = np.where(x == 1, 5.0, 0.0) + rng.normal(0, 1, 3000)
    # E[y|x] takes 5 with p 1/3: Var = 25 * 2/9 = 5.56, plus noise 1 -> share 0.847
    assert abs(first_order(x, y) - (25 * 2 / 9) / (25 * 2 / 9 + 1)) < 0.05


def test_constant_or_too_few_values_give_nan() -> None:
    assert math.isnan(spearman(np.ones(10), np.arange(10.0)))
    assert math.isnan(first_order(np.arange(3.0), np.arange(3.0)))
