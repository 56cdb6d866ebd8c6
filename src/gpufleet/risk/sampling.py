"""Draws the uncertainty section's inputs for every sample of a sweep, deterministic from one seed.

Each input's value is its distribution's inverse CDF at a uniform draw u; correlation enters through a
Gaussian copula on the u's. Seeds: `SeedSequence(seed).spawn(n)` gives each sample its child; with
random sampling sample i's normals come from its own child (so sample i is the same in a sweep of any
size), with Latin hypercube all n rows come from one stream after the n children (the strata depend
on n). Everything is drawn up front, before any sample runs, so chunks and workers never change it.

Rank correlation: the stated matrix holds Spearman's rho; the copula's normal correlation is
2 sin(pi rho / 6), which gives exactly that rank correlation. With Latin hypercube the copula's
ranks rearrange each column's stratified draws (Iman-Conover), so every column stays stratified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gpufleet.scenario.uncertainty import Distribution, UncertaintySection

_EDGE = 1e-12  # u is kept inside (0, 1) so an unbounded inverse CDF stays finite


def sample_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """Each sample's own seed sequence: `SeedSequence(seed).spawn(n)`."""
    return np.random.SeedSequence(seed).spawn(n)


def simulation_seed(child: np.random.SeedSequence) -> int:
    """The integer seed a sample's full simulation runs with, from its child sequence."""
    return int(child.generate_state(1, np.uint32)[0])


def _normal_cdf(x: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.special import ndtr

    return np.asarray(ndtr(x), dtype=np.float64)


def _normal_ppf(u: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.special import ndtri

    return np.asarray(ndtri(np.clip(u, _EDGE, 1 - _EDGE)), dtype=np.float64)


def ppf(dist: Distribution, u: NDArray[np.float64]) -> NDArray[Any]:
    """The distribution's values at quantiles `u` (inverse CDF; truncated where low/high are given)."""
    u = np.clip(np.asarray(u, dtype=np.float64), _EDGE, 1 - _EDGE)
    if dist.kind in ("normal", "lognormal"):
        log = dist.kind == "lognormal"
        centre = math.log(dist.median or 1.0) if log else float(dist.mean or 0.0)
        scale = float((dist.sigma if log else dist.sd) or 1.0)

        def std(x: float | None) -> float | None:
            if x is None:
                return None
            if log:
                return (math.log(x) - centre) / scale if x > 0 else None
            return (x - centre) / scale

        lo, hi = std(dist.low), std(dist.high)
        a = float(_normal_cdf(np.array(lo))) if lo is not None else 0.0
        b = float(_normal_cdf(np.array(hi))) if hi is not None else 1.0
        z = _normal_ppf(a + u * (b - a))
        x = centre + scale * z
        out = np.exp(x) if log else x
        # bounds far out in a tail round a and b to the same float: clip keeps every draw inside them
        return np.clip(out, dist.low if dist.low is not None else -np.inf,
                       dist.high if dist.high is not None else np.inf)  # fmt: skip
    low, high = float(dist.low or 0.0), float(dist.high or 0.0)
    if dist.kind == "uniform":
        return low + u * (high - low)
    if dist.kind == "triangular":
        mode = float(dist.mode or 0.0)
        c = (mode - low) / (high - low)
        left = low + np.sqrt(u * (high - low) * (mode - low))
        right = high - np.sqrt((1 - u) * (high - low) * (high - mode))
        return np.where(u < c, left, right)
    values = dist.values or []
    weights = np.array(dist.weights if dist.weights is not None else [1.0] * len(values), dtype=float)
    cum = np.cumsum(weights / weights.sum())
    idx = np.minimum(np.searchsorted(cum, u, side="right"), len(values) - 1)
    out = np.empty(len(u), dtype=object)
    out[:] = [values[i] for i in idx]
    return out


def copula_matrix(section: UncertaintySection) -> NDArray[np.float64]:
    """The normal copula's correlation over all inputs (identity where none is stated), made PSD."""
    names = section.names
    m = np.eye(len(names))
    corr = section.correlation
    if corr is not None:
        pos = [names.index(n) for n in corr.inputs]
        rho = np.array(corr.matrix, dtype=float)
        pearson = 2 * np.sin(np.pi * rho / 6)
        for a, i in enumerate(pos):
            for b, j in enumerate(pos):
                m[i, j] = pearson[a, b]
    # the sine map can push a singular-but-valid matrix a hair below PSD: clip, keep the unit diagonal
    vals, vecs = np.linalg.eigh(m)
    if vals.min() < 0:
        m = (vecs * np.maximum(vals, 0)) @ vecs.T
        d = np.sqrt(np.diag(m))
        m = m / np.outer(d, d)
    return m


def _factor(m: NDArray[np.float64]) -> NDArray[np.float64]:
    """A matrix F with F F^T = m (m may be singular: perfectly correlated inputs)."""
    vals, vecs = np.linalg.eigh(m)
    return np.asarray(vecs * np.sqrt(np.maximum(vals, 0)), dtype=np.float64)


def draw_uniforms(section: UncertaintySection, n: int, seed: int) -> NDArray[np.float64]:
    """The n x d quantiles of every input for every sample, correlated as the section says."""
    d = len(section.inputs)
    factor = _factor(copula_matrix(section))
    children = sample_seeds(seed, n + 1)
    if section.sampling == "random":
        z = np.array([np.random.default_rng(c.spawn(1)[0]).standard_normal(d) for c in children[:n]]).reshape(
            n, d
        )
        return _normal_cdf(z @ factor.T)
    from scipy.stats import qmc

    rng = np.random.default_rng(children[n])
    strata = np.asarray(qmc.LatinHypercube(d=d, rng=rng).random(n), dtype=np.float64)
    if section.correlation is None:
        return strata
    scores = rng.standard_normal((n, d)) @ factor.T  # Iman-Conover: reorder each column by these ranks
    out = np.empty_like(strata)
    for j in range(d):
        ranks = np.argsort(np.argsort(scores[:, j]))
        out[:, j] = np.sort(strata[:, j])[ranks]
    return out


@dataclass(frozen=True)
class SampledInputs:
    """The value of every input for every sample, in sample order."""

    names: list[str]
    values: list[dict[str, Any]]


def draw_inputs(section: UncertaintySection, n: int, seed: int) -> SampledInputs:
    """Every sample's input values: the distributions' inverse CDFs at the drawn quantiles."""
    u = draw_uniforms(section, n, seed)
    columns: list[list[Any]] = []
    for j, inp in enumerate(section.inputs):
        col = ppf(inp.distribution, u[:, j])
        columns.append([_plain(v, inp.integer) for v in col])
    rows = [{inp.name: columns[j][i] for j, inp in enumerate(section.inputs)} for i in range(n)]
    return SampledInputs(section.names, rows)


def _plain(v: Any, integer: bool) -> Any:
    """A drawn value as YAML would hold it: int, float or the discrete value itself."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return round(v) if integer else v
    return v


def numeric_value(dist: Distribution, value: Any) -> float:
    """An input's value as a number for rank statistics: itself, or its index among discrete values."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    values = dist.values or []
    return float(values.index(value)) if value in values else math.nan
