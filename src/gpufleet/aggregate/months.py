"""The horizon cut into calendar months: first and last day of each, and its hours."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from gpufleet.scenario.ramp import add_months
from gpufleet.scenario.schema import Horizon


@dataclass(frozen=True)
class Months:
    """Calendar months of the horizon; the first and last may be partial."""

    first: tuple[dt.date, ...]  # first day of the month inside the horizon
    last: tuple[dt.date, ...]  # last day inside the horizon, inclusive
    start: dt.date  # the horizon's first day (day index 0)

    @property
    def count(self) -> int:
        return len(self.first)

    @cached_property
    def days(self) -> npt.NDArray[np.float64]:
        """Days of each month (computed once: read in loops over the months; read-only)."""
        out = np.array(
            [(b - a).days + 1 for a, b in zip(self.first, self.last, strict=True)], dtype=np.float64
        )
        out.flags.writeable = False
        return out

    @cached_property
    def hours(self) -> npt.NDArray[np.float64]:
        out = self.days * 24.0
        out.flags.writeable = False
        return out

    @property
    def labels(self) -> list[str]:
        return [f"{d.year}-{d.month:02d}" for d in self.first]

    @property
    def quarters(self) -> list[str]:
        return [f"{d.year}-Q{(d.month - 1) // 3 + 1}" for d in self.first]

    @property
    def years(self) -> list[int]:
        return [d.year for d in self.first]

    def day_slice(self, m: int) -> slice:
        """Day indices (from the horizon's start) of month m."""
        return slice((self.first[m] - self.start).days, (self.last[m] - self.start).days + 1)

    def index(self, day: dt.date) -> int:
        """The month holding `day` (clamped to the horizon)."""
        for m in range(self.count):
            if day <= self.last[m]:
                return m
        return self.count - 1

    def years_from_start(self) -> npt.NDArray[np.float64]:
        """Mid-month, in years from the horizon's start (for discounting)."""
        mid = [
            (a - self.start).days + ((b - a).days + 1) / 2.0
            for a, b in zip(self.first, self.last, strict=True)
        ]
        return np.array(mid, dtype=np.float64) / 365.25


def horizon_months(horizon: Horizon) -> Months:
    firsts: list[dt.date] = []
    lasts: list[dt.date] = []
    day = horizon.start
    while day <= horizon.end:
        nxt = add_months(day.replace(day=1), 1)
        firsts.append(day)
        lasts.append(min(nxt - dt.timedelta(days=1), horizon.end))
        day = nxt
    return Months(tuple(firsts), tuple(lasts), horizon.start)
