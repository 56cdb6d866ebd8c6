"""The engine's raw record turned into the run tables: jobs, series, usage, inference, queue (tables.py).

GPU levels are integrated exactly from the change logs (sim/record.py). Capacity lost to failures
of idle GPUs is aggregated, not simulated GPU by GPU: idle GPUs spend the steady-state share
rate x repair time of their hours under repair (Little's law), moved from idle to failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from gpufleet.sim.engine import FAILED, FINISHED, G_CAPACITY, G_FAILED, NGROUP, QUEUED, RUNNING, EngineResult
from gpufleet.sim.record import integrate
from gpufleet.sim.spec import SimInput
from gpufleet.tables import CLASS_COLUMN, PRIORITY_CLASSES, RunTables, check_table
from gpufleet.units import NCLASS, SECONDS_PER_DAY, SECONDS_PER_HOUR

STATE_NAMES = {FINISHED: "finished", FAILED: "failed", QUEUED: "queued", RUNNING: "running"}


def _times(start_epoch_s: float, seconds: npt.ArrayLike) -> pd.DatetimeIndex:
    sec = np.asarray(seconds, dtype=np.float64)
    ok = np.isfinite(sec)
    us = np.round((start_epoch_s + np.where(ok, sec, 0.0)) * 1e6).astype("int64")
    us[~ok] = np.iinfo(np.int64).min  # NaT
    # a view as naive microseconds, then UTC: no per-element parsing (20x faster than to_datetime)
    return pd.DatetimeIndex(us.view("M8[us]")).tz_localize("UTC")


def step_bounds(horizon_s: float, step_s: float) -> npt.NDArray[np.float64]:
    n = int(np.ceil(horizon_s / step_s - 1e-9))
    b = np.arange(n + 1, dtype=np.float64) * step_s
    b[-1] = min(b[-1], horizon_s)
    return b


def build_tables(
    inp: SimInput, res: EngineResult, team_names: list[str], workload_names: list[str]
) -> RunTables:
    bounds = step_bounds(inp.horizon_s, inp.policy.step_s)
    return RunTables(
        jobs=jobs_table(inp, res, team_names, workload_names),
        series=series_table(inp, res, bounds),
        usage=usage_table(inp, res),
        inference=inference_table(inp, res, bounds),
        queue=queue_table(inp, res, bounds),
    )


def jobs_table(
    inp: SimInput, res: EngineResult, team_names: list[str], workload_names: list[str]
) -> pd.DataFrame:
    jobs, fleet = inp.jobs, inp.fleet
    n = len(jobs)
    cl = np.where(res.cluster >= 0, res.cluster, len(fleet.clusters))
    when = np.where(np.isfinite(res.end), res.end, res.first_start)
    day = np.clip(np.nan_to_num(when, nan=0.0) // SECONDS_PER_DAY, 0, max(fleet.days - 1, 0)).astype(np.int64)
    if n and fleet.days:
        k = fleet.contract[np.minimum(cl, len(fleet.clusters) - 1), day].astype(np.int64)
        k = np.where((res.cluster >= 0) & (k >= 0), k, len(fleet.contracts))
    else:
        k = np.full(n, len(fleet.contracts), dtype=np.int64)
    state_names = [STATE_NAMES.get(code, "queued") for code in range(5)]
    ids = inp.job_ids if len(inp.job_ids) == n else np.arange(n, dtype=np.int64)
    df = pd.DataFrame(
        {
            "id": ids,
            "workload": _names(jobs.workload, workload_names),
            "team": _names(jobs.team, team_names),
            "class": _names(jobs.cls, list(PRIORITY_CLASSES)),
            "gpus": jobs.gpus,
            "submit": _times(fleet.start_epoch_s, jobs.submit_s),
            "start": _times(fleet.start_epoch_s, res.first_start),
            "end": _times(fleet.start_epoch_s, res.end),
            "cluster": _names(cl, [c.name for c in fleet.clusters] + [None]),
            "provider": _names(cl, [c.provider for c in fleet.clusters] + [None]),
            "contract": _names(k, [c.name for c in fleet.contracts] + [None]),
            "wait_s": res.wait_s,
            "restarts": res.restarts,
            "preemptions": res.preemptions,
            "lost_gpu_hours": res.lost_gpu_hours,
            "state": _names(res.state, state_names),
            "reason": pd.array(pa.array(res.reason, pa.string()), dtype="string"),
        }
    )
    return check_table("jobs", df)


def _names(codes: npt.ArrayLike, names: Sequence[str | None]) -> pd.api.extensions.ExtensionArray:
    """A string column from integer codes into a few names (None: missing), built in Arrow without a
    Python object per row (the jobs table of a 5M-job run would hold 40M of them)."""
    idx = pa.array(np.asarray(codes, dtype=np.int32), pa.int32())
    strings = pa.DictionaryArray.from_arrays(idx, pa.array(list(names), pa.string())).cast(pa.string())
    out: pd.api.extensions.ExtensionArray = pd.array(strings, dtype="string")
    return out


def levels(inp: SimInput, res: EngineResult, bounds: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """GPU-seconds per (cluster, group, interval); idle-GPU failures aggregated into the failed group."""
    nc = len(inp.fleet.clusters)
    integ = integrate(res.alloc_log, nc * NGROUP, bounds).reshape(nc, NGROUP, -1)
    if inp.policy.failures and not inp.policy.strict:
        idle = integ[:, G_CAPACITY] - integ[:, :NCLASS].sum(axis=1) - integ[:, G_FAILED]
        rate = np.array([c.failure_rate_per_gpu_hour for c in inp.fleet.clusters])
        share = np.minimum(rate * inp.policy.repair_s / SECONDS_PER_HOUR, 1.0)
        integ[:, G_FAILED] += np.maximum(idle, 0.0) * share[:, None]
    return integ


def series_table(inp: SimInput, res: EngineResult, bounds: npt.NDArray[np.float64]) -> pd.DataFrame:
    fleet = inp.fleet
    nc, m = len(fleet.clusters), len(bounds) - 1
    if nc == 0 or m <= 0:
        return check_table("series", pd.DataFrame({c: [] for c in _series_cols()}))
    integ = levels(inp, res, bounds)
    avg = integ / np.diff(bounds)[None, None, :]
    day = np.minimum((bounds[:-1] // SECONDS_PER_DAY).astype(np.int64), fleet.days - 1)
    k = fleet.contract[:, day].astype(np.int64)  # (nc, m)
    cnames = np.array([c.name for c in fleet.contracts] + [None], dtype=object)
    cap = avg[:, G_CAPACITY]
    alloc = avg[:, :NCLASS]
    failed = avg[:, G_FAILED]
    gpd = np.array([c.gpus_per_domain for c in fleet.clusters], dtype=np.float64)
    mw_per_gpu = np.array([c.it_kw_per_domain * c.pue / 1000.0 for c in fleet.clusters]) / gpd
    data = {
        "time": np.tile(_times(fleet.start_epoch_s, bounds[:-1]), nc),
        "cluster": np.repeat(np.array([c.name for c in fleet.clusters], dtype=object), m),
        "provider": np.repeat(np.array([c.provider for c in fleet.clusters], dtype=object), m),
        "contract": cnames[np.where(k >= 0, k, len(fleet.contracts))].ravel(),
        "capacity_gpus": cap.ravel(),
    }
    for i, c in enumerate(PRIORITY_CLASSES):
        data[f"allocated_{CLASS_COLUMN[c]}_gpus"] = alloc[:, i].ravel()
    data["failed_gpus"] = failed.ravel()
    data["idle_gpus"] = (cap - alloc.sum(axis=1) - failed).ravel()
    data["stranded_gpus"] = res.stranded_gpus[:, :m].astype(np.float64).ravel()
    data["power_mw"] = (cap * mw_per_gpu[:, None]).ravel()  # racks online drawn at their rated IT power
    return check_table("series", pd.DataFrame(data))


def _series_cols() -> list[str]:
    from gpufleet.tables import SCHEMAS

    return list(SCHEMAS["series"])


def usage_table(inp: SimInput, res: EngineResult) -> pd.DataFrame:
    fleet = inp.fleet
    nc, days = len(fleet.clusters), fleet.days
    bounds = np.minimum(np.arange(days + 1, dtype=np.float64) * SECONDS_PER_DAY, inp.horizon_s)
    integ = integrate(res.alloc_log, nc * NGROUP, bounds).reshape(nc, NGROUP, days) / SECONDS_PER_HOUR
    start = dt.datetime.fromtimestamp(fleet.start_epoch_s, tz=dt.UTC).date()
    day_dates = pd.to_datetime(np.datetime64(start, "D") + np.arange(days)).values
    month_of_day = day_dates.astype("datetime64[M]")
    rows = []
    for ci, ct in enumerate(fleet.contracts):
        mask = fleet.contract == ci  # (nc, days)
        first = max(ct.start_day, 0)
        last = min(ct.end_day, days - 1)
        if last < first:
            continue
        months = np.unique(month_of_day[first : last + 1])
        avail = np.zeros(len(months))
        used = np.zeros((4, len(months)))
        cl, dd = np.nonzero(mask)
        if len(cl):
            mi = np.searchsorted(months, month_of_day[dd])
            np.add.at(avail, mi, integ[cl, G_CAPACITY, dd])
            for k in range(NCLASS):
                np.add.at(used[k], mi, integ[cl, k, dd])
        term_start = np.datetime64(start, "D") + ct.start_day
        for i, mth in enumerate(months):
            first_instant = max(np.datetime64(mth, "D"), term_start)
            total = float(used[:, i].sum())
            rows.append(
                {
                    "contract": ct.name,
                    "provider": ct.provider,
                    "month": pd.Timestamp(first_instant).tz_localize("UTC"),
                    "gpu_hours_available": float(avail[i]),
                    "gpu_hours_used": total,
                    **{
                        f"gpu_hours_used_{CLASS_COLUMN[c]}": float(used[k, i])
                        for k, c in enumerate(PRIORITY_CLASSES)
                    },
                    "overflow_gpu_hours": total if ct.kind != "committed" else 0.0,
                }
            )
    from gpufleet.tables import empty_table

    if not rows:
        return empty_table("usage")
    return check_table("usage", pd.DataFrame(rows))


def queue_table(inp: SimInput, res: EngineResult, bounds: npt.NDArray[np.float64]) -> pd.DataFrame:
    m = len(bounds) - 1
    integ = integrate(res.queue_log, 2 * NCLASS, bounds) / np.diff(bounds)[None, :]
    times = _times(inp.fleet.start_epoch_s, bounds[:-1])
    return check_table(
        "queue",
        pd.DataFrame(
            {
                "time": np.tile(times, NCLASS),
                "class": np.repeat(np.array(PRIORITY_CLASSES, dtype=object), m),
                "queued_jobs": integ[:NCLASS].ravel(),
                "queued_gpus": integ[NCLASS:].ravel(),
            }
        ),
    )


def _step_average(
    values: npt.NDArray[np.float64], tick_s: float, bounds: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Averages over [bounds[i], bounds[i+1]) of a level that holds values[k] from tick k on."""
    n = values.shape[-1]
    knots = np.arange(n + 1, dtype=np.float64) * tick_s
    knots[-1] = max(knots[-1], bounds[-1])
    cum = np.concatenate(
        [np.zeros((*values.shape[:-1], 1)), np.cumsum(values * np.diff(knots), axis=-1)], axis=-1
    )
    out = np.empty((*values.shape[:-1], len(bounds) - 1))
    for row in np.ndindex(values.shape[:-1]):
        c = np.interp(bounds, knots, cum[row])
        out[row] = np.diff(c) / np.diff(bounds)
    return out


def inference_table(inp: SimInput, res: EngineResult, bounds: npt.NDArray[np.float64]) -> pd.DataFrame:
    services = inp.services
    m = len(bounds) - 1
    if not services or res.inf_replicas.shape[1] == 0:
        from gpufleet.tables import empty_table

        return empty_table("inference")
    tick = inp.policy.autoscale_s
    demand = np.stack([s.demand_tokens_s for s in services])
    served = np.minimum(demand, res.inf_capacity)
    times = _times(inp.fleet.start_epoch_s, bounds[:-1])
    return check_table(
        "inference",
        pd.DataFrame(
            {
                "service": np.repeat(np.array([s.service for s in services], dtype=object), m),
                "region": np.repeat(np.array([s.region for s in services], dtype=object), m),
                "time": np.tile(times, len(services)),
                "demand_tokens_s": _step_average(demand, tick, bounds).ravel(),
                "served_tokens_s": _step_average(served, tick, bounds).ravel(),
                "replicas": _step_average(res.inf_replicas, tick, bounds).ravel(),
                "gpus": _step_average(res.inf_gpus, tick, bounds).ravel(),
            }
        ),
    )
