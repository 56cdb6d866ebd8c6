"""The run's time axis as the report sees it: how long each reporting step lasts, where the horizon ends."""

from __future__ import annotations

import pandas as pd

from gpufleet.tables import RunTables


def step_hours(times: pd.Series) -> pd.Series:
    """Hours each reporting step lasts, indexed by its start (the last one as long as the one before)."""
    t = pd.Series(pd.to_datetime(times, utc=True).unique()).sort_values().reset_index(drop=True)
    if len(t) == 0:
        return pd.Series(dtype="float64")
    d = (t.shift(-1) - t).dt.total_seconds() / 3600.0
    fallback = float(d.iloc[:-1].median()) if len(t) > 1 else 24.0
    d.iloc[-1] = fallback
    return pd.Series(d.to_numpy(), index=pd.DatetimeIndex(t))


def horizon_end_of(tables: RunTables) -> pd.Timestamp | None:
    """Where the run stopped, read from its tables: the end of the last reporting step.

    The scenario's horizon is exact and preferred where known (RunContext); this is the fallback for a
    run stored without its scenario. None when no table has a time.
    """
    for df in (tables.series, tables.inference, tables.queue):
        if len(df):
            hours = step_hours(df["time"])
            return pd.Timestamp(hours.index[-1]) + pd.Timedelta(hours=float(hours.iloc[-1]))
    j = tables.jobs
    stamps = pd.concat([j["submit"], j["start"], j["end"]]).dropna()
    return pd.Timestamp(stamps.max()) if len(stamps) else None
