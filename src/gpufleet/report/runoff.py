"""The fleet's run-off: the last months of a run, when contract terms have ended and capacity has fallen.

A scenario's contracts end on their terms; the scenario renews none of them. Near the horizon the
contracted fleet may fall far below its peak, and demand then goes unmet because the contracts ran
out, not because the fleet the lab planned falls short. The findings read the worst month of a
shortage among the months while the fleet is whole, and tell the run-off apart (findings.py).

The rule, from the `series` table alone (contract terms from the scenario confirm it where known):
- capacity of a month = Σ `series.capacity_gpus` over clusters, averaged over the month's steps
  (weighted by step length); the peak = the largest such month (the first if several).
- the run-off = the months from the first month after the peak from which capacity stays below
  WHOLE_SHARE (80%) of the peak to the run's last month, provided at least one contract ended after
  the peak: its capacity, positive at some step, is zero at the run's last step (and, where the
  scenario is known, its term ends before the horizon). A fall with no contract ended (a ramp down,
  a slip) is no run-off: the worst month then stands as it is.
- the fleet is whole in every month before the run-off. The ramp at the start is not run-off: a
  shortage while contracts are still arriving is one the lab must fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpufleet.report.context import RunContext
from gpufleet.report.timeline import step_hours
from gpufleet.report.units import month_text, si_text
from gpufleet.tables import RunTables

WHOLE_SHARE = 0.8  # the fleet is whole while its monthly capacity is at least this share of its peak
NAMED_ENDED = 4  # the run-off names the largest ended contracts; values["runoff_ended"] has them all


@dataclass(frozen=True, slots=True)
class EndedContract:
    """A contract whose capacity ended before the horizon: the month of its last capacity, its most GPUs."""

    contract: str
    month: pd.Timestamp
    gpus: float


@dataclass(frozen=True, slots=True)
class RunOff:
    """The months from `start` to the horizon, when the fleet is below WHOLE_SHARE of its peak."""

    start: pd.Timestamp  # first month of the run-off
    peak_gpus: float  # the largest monthly capacity of the run
    peak_month: pd.Timestamp
    last_gpus: float  # capacity of the run's last month
    last_month: pd.Timestamp
    ended: tuple[EndedContract, ...]  # contracts ended after the peak, by month of end then name

    def text(self) -> str:
        """'From Jan 2032 the contracted fleet is below 80% of its peak (…) as the terms of … end'."""
        big = sorted(self.ended, key=lambda e: (-e.gpus, e.contract))[:NAMED_ENDED]
        named = [e for e in self.ended if e in big]  # in the order they ended
        rest = len(self.ended) - len(named)
        parts = [f"{e.contract} ({si_text(e.gpus)} GPUs, {month_text(e.month)})" for e in named]
        parts += [f"{rest} more"] if rest else []
        names = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return (
            f"From {month_text(self.start)} the contracted fleet is below {100 * WHOLE_SHARE:.0f}% of its "
            f"peak ({si_text(self.peak_gpus)} GPUs, {month_text(self.peak_month)}), "
            f"{si_text(self.last_gpus)} by {month_text(self.last_month)}, as the terms of {names} end "
            "(the scenario renews none)"
        )

    def values(self) -> dict[str, float | str]:
        return {
            "runoff_from": f"{self.start:%Y-%m}",
            "runoff_peak_gpus": self.peak_gpus,
            "runoff_last_gpus": self.last_gpus,
            "runoff_ended": ",".join(e.contract for e in self.ended),
        }


def monthly_capacity(series: pd.DataFrame) -> pd.Series:
    """GPUs online per calendar month (first instant, UTC): Σ over clusters, mean over the month's steps."""
    if series.empty:
        return pd.Series(dtype="float64")
    per_step = series.groupby("time")["capacity_gpus"].sum()
    t = pd.DatetimeIndex(pd.to_datetime(per_step.index, utc=True))
    hours = step_hours(pd.Series(t)).reindex(t).to_numpy(np.float64)
    month = t.tz_convert(None).to_period("M").to_timestamp().tz_localize("UTC")
    df = pd.DataFrame({"gh": per_step.to_numpy(np.float64) * hours, "h": hours}, index=month)
    m = df.groupby(level=0).sum()
    return m["gh"] / m["h"]


def _ended(series: pd.DataFrame, after: pd.Timestamp, context: RunContext) -> list[EndedContract]:
    """Contracts with capacity at some step, none at the last, whose last capacity is from `after` on."""
    per = series.groupby(["contract", "time"])["capacity_gpus"].sum().unstack(level=0).fillna(0.0)
    per.index = pd.DatetimeIndex(pd.to_datetime(per.index, utc=True))
    per = per.sort_index()
    terms: dict[str, pd.Timestamp] = {}
    if context.contracts is not None and len(context.contracts):
        c = context.contracts
        terms = {str(n): pd.Timestamp(e, tz="UTC") for n, e in zip(c["contract"], c["term_end"], strict=True)}
    horizon = context.horizon_end
    out = []
    for name in per.columns:
        col = per[name]
        on = col[col > 0]
        if on.empty or float(col.iloc[-1]) > 0:
            continue
        last = pd.Timestamp(on.index[-1])
        if last < after:
            continue
        term = terms.get(str(name))
        if term is not None and horizon is not None and term >= horizon:
            continue  # the scenario's term runs on: the capacity went for another reason
        month = pd.Timestamp(last.tz_convert(None).to_period("M").to_timestamp(), tz="UTC")
        out.append(EndedContract(str(name), month, float(on.max())))
    return sorted(out, key=lambda e: (e.month, e.contract))


def fleet_runoff(tables: RunTables, context: RunContext) -> RunOff | None:
    """The run-off at the end of the run by the rule of this module; None when the fleet stays whole."""
    cap = monthly_capacity(tables.series)
    if cap.empty or float(cap.max()) <= 0:
        return None
    values = cap.to_numpy(np.float64)
    peak_i = int(values.argmax())
    peak = float(values[peak_i])
    whole = values >= WHOLE_SHARE * peak
    last_whole = int(np.flatnonzero(whole)[-1])  # ≥ peak_i: the peak month is whole
    if last_whole == len(values) - 1:
        return None
    peak_month = pd.Timestamp(cap.index[peak_i])
    ended = _ended(tables.series, peak_month, context)
    if not ended:
        return None
    return RunOff(
        start=pd.Timestamp(cap.index[last_whole + 1]),
        peak_gpus=peak,
        peak_month=peak_month,
        last_gpus=float(values[-1]),
        last_month=pd.Timestamp(cap.index[-1]),
        ended=tuple(ended),
    )


def split_worst(months: pd.Series, score: np.ndarray, runoff: RunOff | None) -> tuple[int | None, int | None]:
    """Positions of the worst month (largest score > 0) while the fleet is whole, and in the run-off.

    Without a run-off every month counts as whole. None where no month of that part has a score > 0.
    """
    t = pd.DatetimeIndex(pd.to_datetime(months, utc=True))
    late = np.zeros(len(t), dtype=bool) if runoff is None else np.asarray(t >= runoff.start)

    def worst(mask: np.ndarray) -> int | None:
        s = np.where(mask, np.asarray(score, dtype=np.float64), -np.inf)
        i = int(s.argmax()) if len(s) else 0
        return i if len(s) and s[i] > 0 else None

    return worst(~late), worst(late)
