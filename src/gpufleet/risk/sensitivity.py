"""Which input drives which metric: Spearman rank correlation and first-order (main-effect) indices.

First-order index S = Var(E[Y | X]) / Var(Y), estimated by binned conditional variance: X is cut
into B bins of equal count (B = round(sqrt(n)), 2..20; a discrete input with at most B values is
binned by value), E[Y | bin] is each bin's mean, and eta^2 = between-bin sum of squares / total sum
of squares. Since eta^2 of an input with no effect averages (B - 1) / (n - 1), we report
(eta^2 - c) / (1 - c) with c = (B - 1) / (n - 1), floored at 0: about 0 for an input that does not
matter, about its share of the variance for one that does (1 for Y a function of X alone).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

MIN_BINS = 2
MAX_BINS = 20


def spearman(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Spearman's rank correlation (NaN when either is constant or fewer than 3 pairs)."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    from scipy.stats import rankdata

    rx, ry = rankdata(x), rankdata(y)
    return float(np.corrcoef(rx, ry)[0, 1])


def _bins(x: NDArray[np.float64]) -> NDArray[np.int64]:
    n = len(x)
    target = int(min(MAX_BINS, max(MIN_BINS, round(math.sqrt(n)))))
    values = np.unique(x)
    if len(values) <= target:
        return np.searchsorted(values, x).astype(np.int64)
    order = np.argsort(x, kind="stable")
    out = np.empty(n, dtype=np.int64)
    out[order] = (np.arange(n) * target) // n
    return out


def first_order(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """The first-order index of X on Y by binned conditional variance (see the module's docstring)."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = len(x)
    if n < 4 or np.ptp(y) == 0 or np.ptp(x) == 0:
        return math.nan
    bins = _bins(x)
    b = int(bins.max()) + 1
    counts = np.bincount(bins, minlength=b).astype(float)
    means = np.bincount(bins, weights=y, minlength=b) / np.maximum(counts, 1)
    total = float(((y - y.mean()) ** 2).sum())
    between = float((counts * (means - y.mean()) ** 2).sum())
    eta2 = between / total
    chance = (b - 1) / (n - 1)
    if chance >= 1:
        return math.nan
    return max(0.0, (eta2 - chance) / (1 - chance))
