"""Inference demand: users -> tokens/s by region over time, throughput per GPU, replicas needed.

Arithmetic (DESIGN.md, "Inference"):
- users(t): weekly users x (1 + growth per month)^months, or a logistic S-curve (below);
- mean tokens/s m(t) = users(t) x tokens per user per day (growing per year) / 86,400, or from the
  revenue path (workload.demand);
- tokens/s of region r at time t = m(t) x share_r x daily(local hour) x weekly(local weekday); daily
  and weekly factors average 1 (mean-preserving);
- replicas = ceil(tokens/s x headroom / (tokens/s per GPU x GPUs per replica)); tokens/s per GPU
  from MLPerf Inference v5.1 Server figures by accelerator and model class (catalog/data/inference.yaml).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gpufleet.catalog import Catalog, load_inference_data
from gpufleet.errors import InputError
from gpufleet.scenario.schema import InferenceDemand, RevenueScenario
from gpufleet.units import SECONDS_PER_DAY

F64 = npt.NDArray[np.float64]
MONTH_S = 365.25 / 12 * SECONDS_PER_DAY
YEAR_S = 365.25 * SECONDS_PER_DAY


def model_classes() -> list[str]:
    return sorted(load_inference_data().throughput)


def throughput_entry(model_class: str, accelerator_id: str) -> tuple[float, str]:
    """(output tokens/s per GPU, how it was obtained) from the catalog, following `like` entries
    (the catalog checks that they end)."""
    table = load_inference_data().throughput
    if model_class not in table:
        raise InputError(
            f"unknown model class '{model_class}'; known: {', '.join(sorted(table))}", where="model_class"
        )
    by_acc = table[model_class]
    entry = by_acc.get(accelerator_id)
    if entry is None:
        raise InputError(
            f"no {model_class} throughput for accelerator '{accelerator_id}' in the catalog "
            f"(known: {', '.join(sorted(by_acc))}); give tokens_per_s_per_gpu for it",
            where="model_class",
        )
    factor, notes, acc = 1.0, [], accelerator_id
    while entry.like is not None and entry.factor is not None:
        factor *= entry.factor
        notes.append(f"{acc} = {entry.factor} x {entry.like} ({entry.confidence}: {entry.basis})")
        acc, entry = entry.like, by_acc[entry.like]
    assert entry.tokens_per_s_per_gpu is not None  # a measured entry (catalog.workload_model.Throughput)
    notes.append(f"{acc}: MLPerf {entry.system} ({entry.confidence})")
    return factor * entry.tokens_per_s_per_gpu, "; ".join(reversed(notes))


def tokens_per_s_per_gpu(
    model_class: str,
    accelerator_id: str,
    catalog: Catalog | None = None,
    overrides: Mapping[str, float] | None = None,
) -> float:
    """Output tokens/s one GPU serves: a scenario override, else the catalog figure (or its stated scaling).

    With a catalog, an accelerator it does not know is an error even when an override exists.
    """
    if catalog is not None and accelerator_id not in catalog.accelerators:
        raise InputError(f"unknown accelerator '{accelerator_id}'", where="accelerator")
    if overrides and accelerator_id in overrides:
        return float(overrides[accelerator_id])
    return throughput_entry(model_class, accelerator_id)[0]


# ----------------------------------------------------------------------------------- demand shape


def _power_for_peak(peak_to_mean: float) -> float:
    """k such that (1 + cos)^k has peak / mean = p: p(k) = sqrt(pi) Gamma(k+1) / Gamma(k+1/2)."""

    def ratio(k: float) -> float:
        return math.exp(0.5 * math.log(math.pi) + math.lgamma(k + 1) - math.lgamma(k + 0.5))

    lo, hi = 1.0, 1.0
    while ratio(hi) < peak_to_mean:
        hi *= 2
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ratio(mid) < peak_to_mean else (lo, mid)
    return (lo + hi) / 2


def daily_factor(hour_local: F64, peak_to_mean: float, peak_hour: float | None = None) -> F64:
    """Daily demand factor at local hours (0-24, fractional): mean 1 over a day, max `peak_to_mean`."""
    if peak_hour is None:
        peak_hour = load_inference_data().daily_shape.peak_hour_local
    theta = 2 * np.pi * (np.asarray(hour_local, dtype=np.float64) - peak_hour) / 24.0
    p = float(peak_to_mean)
    if p <= 2.0:
        return np.asarray(1.0 + (p - 1.0) * np.cos(theta), dtype=np.float64)
    k = _power_for_peak(p)
    mean = math.exp(k * math.log(2) + math.lgamma(k + 0.5) - 0.5 * math.log(math.pi) - math.lgamma(k + 1))
    return np.asarray((1.0 + np.cos(theta)) ** k / mean, dtype=np.float64)


def weekly_factor(weekday: npt.NDArray[np.int64], weekend_factor: float) -> F64:
    """Weekday (Mon=0) factor: weekend days are `weekend_factor` x weekdays, mean 1 over a week."""
    w = float(weekend_factor)
    weekday_level = 7.0 / (5.0 + 2.0 * w)
    return np.where(np.asarray(weekday) >= 5, w * weekday_level, weekday_level).astype(np.float64)


def users(demand: InferenceDemand, start: dt.datetime, times_s: F64) -> F64:
    """Weekly active users at `times_s` seconds after `start`.

    Monthly growth: u0 (1 + g)^(t / month). S-curve: the logistic L(t) = 1 / (1 + exp(-k (t - mid)))
    (k per year) rescaled to pass through u0 at the start and tend to the saturation:
    u(t) = u0 + (sat - u0) (L(t) - L(0)) / (1 - L(0)).
    """
    t = np.asarray(times_s, dtype=np.float64)
    if demand.weekly_users is None:
        raise ValueError("this demand has no users path")
    u0 = float(demand.weekly_users)
    if demand.s_curve is None:
        return np.asarray(u0 * (1.0 + demand.growth_per_month) ** (t / MONTH_S), dtype=np.float64)
    sc = demand.s_curve
    mid = dt.datetime.combine(sc.midpoint, dt.time(), tzinfo=dt.UTC)
    mid_y = (mid - _utc(start)).total_seconds() / YEAR_S
    k = float(sc.steepness_per_year)
    # (L(t) - L(0)) / (1 - L(0)) = 1 - (1 - L(t)) / (1 - L(0)), with 1 - L(x) = 1 / (1 + exp(k (x - mid))),
    # in logs: a midpoint far in the past makes 1 - L(0) round to 0 (NaN users) in the direct form.
    log_ratio = np.logaddexp(0.0, -k * mid_y) - np.logaddexp(0.0, k * (t / YEAR_S - mid_y))
    closed = 1.0 - np.exp(log_ratio)
    return np.asarray(u0 + (sc.saturation_weekly_users - u0) * closed, dtype=np.float64)


def _utc(start: dt.datetime) -> dt.datetime:
    return start.replace(tzinfo=dt.UTC) if start.tzinfo is None else start.astimezone(dt.UTC)


def region_shapes(
    utc_offsets_h: Mapping[str, float],
    daily_peak_to_mean: float,
    weekend_factor: float,
    start: dt.datetime,
    times_s: F64,
) -> dict[str, F64]:
    """Each region's daily x weekly factor (mean 1) at `times_s` seconds after `start` (UTC), by its UTC
    offset: the shape of its demand, which the path that drives the demand does not change."""
    t = np.asarray(times_s, dtype=np.float64)
    origin = _utc(start).timestamp()
    out: dict[str, F64] = {}
    for name, offset_h in utc_offsets_h.items():
        local = origin + t + offset_h * 3600.0
        hour = np.mod(local, SECONDS_PER_DAY) / 3600.0
        weekday = (np.floor(local / SECONDS_PER_DAY).astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        out[name] = daily_factor(hour, daily_peak_to_mean) * weekly_factor(weekday, weekend_factor)
    return out


def demand_tokens_s(
    demand: InferenceDemand,
    start: dt.datetime,
    times_s: F64,
    case: RevenueScenario | None = None,
    shapes: Mapping[str, F64] | None = None,
) -> dict[str, F64]:
    """Output tokens/s demanded by region at `times_s` seconds after `start` (UTC), vectorized.

    The mean rate comes from the path that drives the demand (workload.demand): the revenue `case`'s
    path or the users; the daily and weekly shape of each region is applied on top (`shapes`: those of
    `region_shapes` at the same times, when the caller keeps them between calls).
    """
    from gpufleet.workload.demand import mean_tokens_s

    t = np.asarray(times_s, dtype=np.float64)
    base = mean_tokens_s(demand, _utc(start).date(), t, case)
    if shapes is None:
        offsets = {name: r.utc_offset_h for name, r in demand.regions.items()}
        shapes = region_shapes(offsets, demand.daily_peak_to_mean, demand.weekend_factor, start, t)
    return {name: base * region.share * shapes[name] for name, region in demand.regions.items()}


def replicas_needed(
    tokens_s: npt.ArrayLike, tokens_per_replica: float, headroom: float = 1.0
) -> npt.NDArray[np.int64]:
    """ceil(tokens/s x headroom / tokens/s per replica); no demand, no replica."""
    if tokens_per_replica <= 0:
        raise ValueError("tokens per replica must be positive")
    need = np.asarray(tokens_s, dtype=np.float64) * headroom / tokens_per_replica
    return np.ceil(np.round(np.maximum(need, 0.0), 9)).astype(np.int64)


@dataclass(frozen=True, slots=True)
class WithinHour:
    """Within-hour burstiness and token mix of a request stream (from a trace or the catalog)."""

    name: str
    requests: int
    minute_peak_to_mean: float  # peak minute's output-token rate / the mean rate
    prompt_tokens_per_output_token: float
    mean_output_tokens: float
    source: str


def catalog_within_hour(kind: str = "conversation") -> WithinHour:
    """The catalog's within-hour figures for 'conversation' or 'code' (Azure LLM trace 2023)."""
    table = load_inference_data().within_hour
    if kind not in table:
        raise InputError(f"unknown request kind '{kind}'; known: {', '.join(table)}", where="within_hour")
    e = table[kind]
    return WithinHour(
        name=kind,
        requests=e.requests,
        minute_peak_to_mean=e.minute_peak_to_mean,
        prompt_tokens_per_output_token=e.prompt_tokens_per_output_token,
        mean_output_tokens=e.mean_output_tokens,
        source=", ".join(e.sources),
    )
