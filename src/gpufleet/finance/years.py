"""Contract years: anniversary to anniversary from the term's start (DESIGN.md, "Take-or-pay")."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContractYear:
    """One contract year: from an anniversary of the term's start to the day before the next (or term end)."""

    index: int  # 1-based
    start: dt.date
    end: dt.date  # inclusive; the term's end for a last, shorter year
    full_days: int  # days from this anniversary to the next (365 or 366): the minimum's divisor


def anniversary(start: dt.date, years: int) -> dt.date:
    """`start` moved on by whole years; 29 February becomes 28 February in a common year."""
    year = start.year + years
    return dt.date(year, start.month, min(start.day, calendar.monthrange(year, start.month)[1]))


def contract_years(start: dt.date, end: dt.date) -> list[ContractYear]:
    """The contract years of a term [start, end] (inclusive)."""
    out: list[ContractYear] = []
    k = 0
    while (first := anniversary(start, k)) <= end:
        nxt = anniversary(start, k + 1)
        out.append(ContractYear(k + 1, first, min(nxt - dt.timedelta(days=1), end), (nxt - first).days))
        k += 1
    return out
