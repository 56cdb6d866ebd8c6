"""The calibration table: public anchors a scenario takes as inputs, and the checks its run must reproduce.

A check is a public figure the scenario is not given (catalog/data/anchors.yaml, `use: check`); its
simulated value is read from a run's tables by the measure the anchor names, and its gap is
simulated / public - 1. Every measure is a pure function of the run's tables and the scenario:
- facility_power_gw: facility power of the capacity online on day `at` (series, IT kW x PUE);
- annualized_revenue_usd: the month from `at`: served tokens x their realized price, summed over the
  revenue-driven services, divided by the revenue share those services earn, x 365.25 / days;
- weekly_users_implied: `service`'s served tokens a day in the week to `at`, over its tokens per user
  per day (growing at the stated rate): the users the served tokens stand for;
- research_share: research and best-effort GPU-hours over all GPU-hours used, months `at`..`until`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from gpufleet.catalog.model import Anchor
from gpufleet.finance.portfolio import step_hours
from gpufleet.scenario.schema import Inference, Scenario
from gpufleet.tables import RunTables
from gpufleet.units import SECONDS_PER_DAY
from gpufleet.workload.demand import YEAR_S, price_usd_per_million

TOLERANCE_PCT = 15.0


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    """One anchor as the table shows it: an input (where the scenario takes it) or a check (its gap)."""

    key: str
    use: str  # input | check
    value: float  # the public figure
    unit: str
    source: str  # source keys with their text
    note: str
    takes: str = ""  # inputs: where the scenario takes it
    simulated: float | None = None  # checks: the run's value
    gap_pct: float | None = None  # checks: 100 x (simulated / value - 1)

    @property
    def within(self) -> bool | None:
        """A check within the tolerance (None for an input, or a check without a run)."""
        return None if self.gap_pct is None else abs(self.gap_pct) <= TOLERANCE_PCT

    def to_dict(self) -> dict[str, object]:
        return asdict(self) | {"within": self.within}


def _day(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize("UTC")


def _services(scenario: Scenario) -> dict[str, Inference]:
    return {w.inference.name: w.inference for w in scenario.workloads if w.inference is not None}


def facility_power_gw(tables: RunTables, scenario: Scenario, anchor: Anchor) -> float:
    """Facility power (GW) of the capacity online at the last reporting step on or before `at`."""
    assert anchor.at is not None
    s = tables.series
    times = s["time"][s["time"] <= _day(anchor.at)]
    if times.empty:
        raise ValueError(f"{anchor.key}: the run has no step on or before {anchor.at}")
    return float(s.loc[s["time"] == times.max(), "power_mw"].sum()) / 1000.0


def annualized_revenue_usd(tables: RunTables, scenario: Scenario, anchor: Anchor) -> float:
    """The lab's revenue rate (USD a year) its served tokens earn in the month starting `at`."""
    assert anchor.at is not None
    start = _day(anchor.at)
    end = start + pd.offsets.MonthBegin(1)
    inf = tables.inference
    rows = inf[(inf["time"] >= start) & (inf["time"] < end)]
    origin = _day(scenario.horizon.start)
    earned = share = 0.0
    for name, svc in _services(scenario).items():
        driver = svc.demand.revenue
        mine = rows[rows["service"] == name]
        if driver is None or mine.empty:
            continue
        hours = step_hours(mine, scenario)
        mid_s = (mine["time"] - origin).dt.total_seconds().to_numpy(np.float64) + hours * 1800.0
        tokens = mine["served_tokens_s"].to_numpy(np.float64) * hours * 3600.0
        earned += float((tokens / 1e6 * price_usd_per_million(svc.demand, mid_s)).sum())
        share += driver.share
    if share <= 0:
        raise ValueError(f"{anchor.key}: no revenue-driven service served tokens in that month")
    days = (end - start).days
    return earned / share * 365.25 / days


def weekly_users_implied(tables: RunTables, scenario: Scenario, anchor: Anchor) -> float:
    """Weekly users that `service`'s served tokens in the 7 days to `at` stand for."""
    assert anchor.at is not None
    svc = _services(scenario).get(anchor.service or "")
    if svc is None or svc.demand.tokens_per_user_per_day is None:
        raise ValueError(f"{anchor.key}: no inference '{anchor.service}' with tokens per user")
    last = _day(anchor.at)
    inf = tables.inference
    rows = inf[
        (inf["service"] == svc.name) & (inf["time"] > last - pd.Timedelta(days=7)) & (inf["time"] <= last)
    ]
    if rows.empty:
        raise ValueError(f"{anchor.key}: the run has no '{svc.name}' step in the week to {anchor.at}")
    per_step = rows.groupby("time")["served_tokens_s"].sum()
    times = pd.Series(per_step.index)
    years = float((times - _day(scenario.horizon.start)).dt.total_seconds().mean()) / YEAR_S
    growth = (1.0 + svc.demand.tokens_per_user_growth_per_year) ** years
    per_user = float(svc.demand.tokens_per_user_per_day * growth)
    return float(per_step.mean()) * SECONDS_PER_DAY / per_user


def research_share(tables: RunTables, scenario: Scenario, anchor: Anchor) -> float:
    """Research and best-effort GPU-hours over all GPU-hours used, months from `at` to `until`."""
    assert anchor.at is not None
    u = tables.usage
    last = _day(anchor.until or anchor.at)
    rows = u[(u["month"] >= _day(anchor.at.replace(day=1))) & (u["month"] <= last)]
    used = float(rows["gpu_hours_used"].sum())
    if used <= 0:
        raise ValueError(f"{anchor.key}: no GPU-hours used from {anchor.at} to {anchor.until}")
    return float((rows["gpu_hours_used_research"] + rows["gpu_hours_used_best_effort"]).sum()) / used


MEASURES: dict[str, Callable[[RunTables, Scenario, Anchor], float]] = {
    "facility_power_gw": facility_power_gw,
    "annualized_revenue_usd": annualized_revenue_usd,
    "weekly_users_implied": weekly_users_implied,
    "research_share": research_share,
}


def _source(keys: Iterable[str], sources: Mapping[str, str]) -> str:
    return "; ".join(f"{k}: {sources[k]}" if k in sources else k for k in keys)


def calibration(
    anchors: Iterable[Anchor],
    sources: Mapping[str, str] = {},
    tables: RunTables | None = None,
    scenario: Scenario | None = None,
) -> list[CalibrationRow]:
    """The calibration table: every input with where it is taken, every check with its simulated value
    and gap when a run's tables (and its scenario) are given, in the anchors' order."""
    rows = []
    for a in anchors:
        row = CalibrationRow(a.key, a.use, a.value, a.unit, _source(a.sources, sources), a.note, a.takes)
        if a.use == "check" and tables is not None and scenario is not None:
            if a.measure not in MEASURES:
                raise ValueError(f"{a.key}: unknown measure {a.measure!r}; known: {', '.join(MEASURES)}")
            simulated = MEASURES[a.measure](tables, scenario, a)
            row = CalibrationRow(
                **(asdict(row) | {"simulated": simulated, "gap_pct": 100.0 * (simulated / a.value - 1.0)})
            )
        rows.append(row)
    return rows
