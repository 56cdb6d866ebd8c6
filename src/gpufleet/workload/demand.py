"""Revenue-driven inference demand: revenue path -> tokens served -> GPUs, and the users path's gap.

Arithmetic (docs/workloads.md, "Demand that follows the business"):
- revenue rate R(t) in USD a year: the case's path, each calendar year's revenue placed at mid-year
  and constant growth between (so R(y + 0.5) = revenue of year y);
- realized price p(t) = p0 x (1 - price decline per year)^(years since the horizon start);
- tokens/s(t) = R(t) x share / (p(t) / 1e6) / seconds per year (mean over the day; the daily and weekly
  shape is applied by workload.inference);
- GPUs = tokens/s / output tokens/s per GPU (catalog, by accelerator generation and model class).
The users path (workload.inference.users x tokens per user, growing per year) is the alternative; when
an inference names both, the run reports their yearly gap (`driver_gap`) rather than choosing silently.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from gpufleet.scenario.schema import InferenceDemand, RevenueScenario
from gpufleet.units import SECONDS_PER_DAY

F64 = npt.NDArray[np.float64]
YEAR_S = 365.25 * SECONDS_PER_DAY


def decimal_year(day: dt.date) -> float:
    """The calendar year as a decimal: 2025-07-02 in a 365-day year is 2025.4986."""
    first = dt.date(day.year, 1, 1)
    length = (dt.date(day.year + 1, 1, 1) - first).days
    return day.year + (day - first).days / length


def revenue_rate_usd_per_year(case: RevenueScenario, start: dt.date, times_s: npt.ArrayLike) -> F64:
    """The case's revenue rate (USD a year) at `times_s` seconds after `start` (00:00 UTC)."""
    years = decimal_year(start) + np.asarray(times_s, dtype=np.float64) / YEAR_S
    at = np.atleast_1d(years) - 0.5
    pieces = case.growth_pieces(start.year)
    # RevenueScenario.usd_in_year's arithmetic, each step as numpy does it bit for bit; the power alone
    # in Python (numpy's SIMD power differs from the C library's in the last bit)
    k = np.searchsorted(np.array([p[0] for p in pieces[1:]], dtype=np.float64), at, side="left")
    y0, r0, q, span = (np.array([p[i] for p in pieces], dtype=np.float64)[k] for i in range(4))
    powered = np.array(list(map(pow, q.tolist(), ((at - y0) / span).tolist())), dtype=np.float64)
    return np.asarray(r0 * powered, dtype=np.float64).reshape(np.shape(years))


def price_usd_per_million(demand: InferenceDemand, times_s: npt.ArrayLike) -> F64:
    """Realized price per million output tokens at `times_s` seconds after the horizon start."""
    assert demand.revenue is not None
    r = demand.revenue
    years = np.asarray(times_s, dtype=np.float64) / YEAR_S
    return np.asarray(r.usd_per_million_tokens * (1.0 - r.price_decline_per_year) ** years, dtype=np.float64)


def revenue_tokens_s(
    demand: InferenceDemand, case: RevenueScenario, start: dt.date, times_s: npt.ArrayLike
) -> F64:
    """Mean output tokens/s the revenue path pays for: R(t) x share / price per token / year."""
    if demand.revenue is None:
        raise ValueError("this demand has no revenue driver")
    rate = revenue_rate_usd_per_year(case, start, times_s) * demand.revenue.share
    price = price_usd_per_million(demand, times_s) / 1e6
    return np.asarray(rate / price / YEAR_S, dtype=np.float64)


def users_tokens_s(demand: InferenceDemand, start: dt.date, times_s: npt.ArrayLike) -> F64:
    """Mean output tokens/s of the users path: users(t) x tokens per user per day (growing) / day."""
    from gpufleet.workload.inference import users

    if demand.weekly_users is None or demand.tokens_per_user_per_day is None:
        raise ValueError("this demand has no users path")
    t = np.asarray(times_s, dtype=np.float64)
    origin = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    per_user = demand.tokens_per_user_per_day * (1.0 + demand.tokens_per_user_growth_per_year) ** (t / YEAR_S)
    return np.asarray(users(demand, origin, t) * per_user / SECONDS_PER_DAY, dtype=np.float64)


def mean_tokens_s(
    demand: InferenceDemand, start: dt.date, times_s: npt.ArrayLike, case: RevenueScenario | None
) -> F64:
    """Mean output tokens/s of the path that drives the demand (the case's revenue, or the users)."""
    if demand.driven_by == "revenue":
        if case is None or not case.is_path:
            raise ValueError("revenue-driven demand needs a revenue case in dollars")
        return revenue_tokens_s(demand, case, start, times_s)
    return users_tokens_s(demand, start, times_s)


def gpus_needed(tokens_s: npt.ArrayLike, tokens_s_per_gpu: float) -> F64:
    """GPUs serving `tokens_s` at `tokens_s_per_gpu` each (no headroom, no replica rounding)."""
    if tokens_s_per_gpu <= 0:
        raise ValueError("tokens/s per GPU must be positive")
    return np.asarray(np.asarray(tokens_s, dtype=np.float64) / tokens_s_per_gpu, dtype=np.float64)


def yearly_tokens(
    demand: InferenceDemand, start: dt.date, end: dt.date, case: RevenueScenario | None, path: str
) -> dict[int, float]:
    """Output tokens a path asks for in each calendar year of [start, end] (daily steps, mean rates)."""
    days = (end - start).days + 1
    t = (np.arange(days, dtype=np.float64) + 0.5) * SECONDS_PER_DAY
    if path == "revenue":
        if case is None:
            raise ValueError("the revenue path needs a case")
        rate = revenue_tokens_s(demand, case, start, t)
    else:
        rate = users_tokens_s(demand, start, t)
    out: dict[int, float] = {}
    for d in range(days):
        y = (start + dt.timedelta(days=d)).year
        out[y] = out.get(y, 0.0) + float(rate[d]) * SECONDS_PER_DAY
    return out


def driver_gap(
    demand: InferenceDemand, start: dt.date, end: dt.date, case: RevenueScenario | None
) -> list[dict[str, float | int]]:
    """Per calendar year: tokens of the revenue path, of the users path, and users over revenue - 1.

    Empty unless the demand gives both paths (then one drives, the other is reported against it).
    """
    if demand.revenue is None or demand.weekly_users is None or case is None or not case.is_path:
        return []
    rev = yearly_tokens(demand, start, end, case, "revenue")
    usr = yearly_tokens(demand, start, end, case, "users")
    return [
        {
            "year": y,
            "revenue_tokens": rev[y],
            "users_tokens": usr[y],
            "gap_pct": 100.0 * (usr[y] / rev[y] - 1.0) if rev[y] > 0 else float("nan"),
        }
        for y in sorted(rev)
    ]
