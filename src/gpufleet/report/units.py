"""Numbers as a person reads them in the report: dollars and large counts with B/M/k, dates and months."""

from __future__ import annotations

import pandas as pd

_SCALES = (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3))


def usd_text(x: float) -> str:
    """$3.41B, $500.00M, $120, −$1.87B."""
    sign, ax = ("−" if x < 0 else ""), abs(x)
    for unit, scale in _SCALES:
        if ax >= scale:
            return f"{sign}${ax / scale:,.2f}{unit}"
    return f"{sign}${ax:,.0f}"


def si_text(x: float) -> str:
    """2.20B, 7.98k, 330."""
    ax = abs(x)
    for unit, scale in _SCALES:
        if ax >= scale:
            return f"{x / scale:,.2f}{unit}"
    return f"{x:,.0f}"


def day_text(t: pd.Timestamp) -> str:
    return f"{t:%Y-%m-%d}"


def month_text(t: pd.Timestamp) -> str:
    return f"{t:%b %Y}"
