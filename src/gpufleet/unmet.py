"""Demand the run did not serve, per month and demand, and the contracts that had idle GPUs meanwhile.

Computed after the simulation from the run's tables and its scenario (pure: no I/O). One row per
calendar month and demand with unmet GPU-hours; a month in which a demand was fully served has no row.

- Inference (one demand per service/region): tokens demanded, served and unmet; GPU-hours are those
  tokens at the service's best throughput per GPU on a cluster it may use (catalog, no headroom).
- Training (one demand per run): the run's GPUs for the time it waited from its planned start
  (earliest_start, else the horizon start) to its first start, or to the horizon if it never started.
  Served: its GPUs while it ran that month (from its first start). Waits after failures or
  preemptions are not counted (jobs.wait_s has them).
- Research and best-effort (one demand per class): unmet is the backlog, the GPU-hours asked for by
  waiting jobs (queue table); served is what the class held (series).

Idle contracts: for each contract the demand may use (its providers and regions, overflow only where
the scenario allows it, a cluster big enough for a training run's gang under its topology rule), the
idle GPU-hours (series) on those clusters during the steps the demand went unmet; listed when at least
MIN_IDLE_GPU_HOURS. `capacity_short_gpu_hours` = unmet - that idle (not below 0): the part no contract
could have served. Figures are per demand: two demands short in the same month may count the same idle
GPUs, so idle and short do not add up across rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gpufleet.assemble import allowed_clusters, replica_throughput, team_class
from gpufleet.catalog import Catalog
from gpufleet.fleet.usable import usable_contracts
from gpufleet.scenario.schema import Inference, Scenario, Stream, TrainingRun
from gpufleet.tables import CLASS_COLUMN, check_table, empty_table

Floats = npt.NDArray[np.float64]

KINDS: tuple[str, ...] = ("inference", "training", "research", "best-effort")
BACKLOG_CLASSES: tuple[str, ...] = ("research", "best-effort")  # one demand per class, from the queue
MIN_IDLE_GPU_HOURS = 1.0  # a contract idle for less than one GPU-hour could have served nothing
EPS_GPU_HOURS = 1e-6  # unmet below this is rounding, not a shortfall
EPS_TOKENS_S = 1e-6
REL_TOKENS = 1e-9  # inference unserved below this share of a step's demand is rounding


@dataclass(frozen=True)
class Axis:
    """The run's reporting steps: starts, hours each lasts, and the calendar month of each."""

    start: pd.DatetimeIndex
    hours: Floats
    month: pd.DatetimeIndex  # first instant (UTC) of the step's calendar month
    end: pd.Timestamp  # the horizon's end

    @staticmethod
    def of(scenario: Scenario) -> Axis:
        h = scenario.horizon
        t0 = pd.Timestamp(dt.datetime.combine(h.start, dt.time(), tzinfo=dt.UTC))
        end = pd.Timestamp(dt.datetime.combine(h.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC))
        step = pd.Timedelta(seconds=h.step_s)
        n = max(1, math.ceil((end - t0) / step - 1e-9))
        start = pd.DatetimeIndex([t0 + i * step for i in range(n)]).as_unit("ns")
        stop = np.minimum((start + step).asi8, end.value)
        hours = (stop - start.asi8) / 3.6e12
        return Axis(start, hours.astype(np.float64), month_start(start), end)

    def index(self, times: pd.Series) -> npt.NDArray[np.int64]:
        """The step each time falls in."""
        t = pd.DatetimeIndex(pd.to_datetime(times, utc=True)).as_unit("ns")
        i = np.searchsorted(self.start.asi8, t.asi8, side="right") - 1
        return np.clip(i, 0, len(self.start) - 1).astype(np.int64)

    def overlap_hours(self, a: pd.Timestamp, b: pd.Timestamp) -> Floats:
        """Hours of each step inside [a, b)."""
        s = self.start.asi8
        e = s + np.round(self.hours * 3.6e12).astype(np.int64)
        lo = np.maximum(s, a.value)
        hi = np.minimum(e, b.value)
        out: Floats = np.maximum(hi - lo, 0).astype(np.float64) / 3.6e12
        return out


def month_start(times: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The first instant (UTC) of each time's calendar month."""
    naive = times.tz_convert("UTC").tz_localize(None)
    return naive.to_period("M").to_timestamp().tz_localize("UTC").as_unit("ns")


@dataclass(frozen=True)
class Idle:
    """Per cluster (scenario order) and step: idle GPUs on a contract some workload may use, its
    capacity, and the contract (code into `names`, -1: none or not usable)."""

    gpus: Floats  # (clusters, steps)
    capacity: Floats
    contract: npt.NDArray[np.int64]
    names: list[str]

    @staticmethod
    def of(series: pd.DataFrame, scenario: Scenario, axis: Axis) -> Idle:
        nc, ns = len(scenario.clusters), len(axis.start)
        gpus, cap = np.zeros((nc, ns)), np.zeros((nc, ns))
        code = np.full((nc, ns), -1, dtype=np.int64)
        names = [c.name for c in scenario.contracts if c.name in usable_contracts(scenario)]
        if len(series):
            where = {c.name: i for i, c in enumerate(scenario.clusters)}
            ci = series["cluster"].astype(str).map(where)
            ok = ci.notna().to_numpy()
            row = ci[ok].to_numpy(np.int64)
            col = axis.index(series["time"][ok])
            gpus[row, col] = np.maximum(series["idle_gpus"].to_numpy(np.float64)[ok], 0.0)
            cap[row, col] = series["capacity_gpus"].to_numpy(np.float64)[ok]
            lookup = {n: k for k, n in enumerate(names)}
            contract = series["contract"].astype(object).where(series["contract"].notna(), None)
            code[row, col] = [lookup.get(c, -1) if c is not None else -1 for c in contract[ok]]
        return Idle(gpus, cap, code, names)

    def by_month(
        self, clusters: Sequence[int], hours: Floats, axis: Axis, months: pd.DatetimeIndex, min_gpus: int = 0
    ) -> npt.NDArray[np.float64]:
        """(months, contracts): idle GPU-hours on `clusters` weighted by `hours` of each step (the time
        the demand went unmet); a cluster counts at a step only when its capacity then holds min_gpus."""
        out = np.zeros((len(months), len(self.names)))
        if not len(clusters) or not len(self.names):
            return out
        cl = np.asarray(clusters, dtype=np.int64)
        g = self.gpus[cl] * hours[None, :]
        k = self.contract[cl]
        fits = self.capacity[cl] >= min_gpus if min_gpus else np.ones_like(g, dtype=bool)
        keep = (k >= 0) & fits & (g > 0)
        m = np.searchsorted(months.asi8, axis.month.asi8)[None, :].repeat(len(cl), axis=0)
        np.add.at(out, (m[keep], k[keep]), g[keep])
        return out


def unit_gpus(scenario: Scenario, catalog: Catalog, cluster: int, require: str | None) -> float:
    """GPUs of the largest unit a gang that requires `require` can use in the cluster (its domain or
    block; the whole cluster: unbounded here, the series' capacity bounds it)."""
    c = scenario.clusters[cluster]
    gpd = catalog.products[c.product].gpus_per_domain
    if require == "domain":
        return float(gpd)
    if require == "block":
        return float(gpd * c.domains_per_block)
    return math.inf


@dataclass
class _Row:
    """One month of one demand: served and unmet (demand is their sum)."""

    month: pd.Timestamp
    kind: str
    demand: str
    served_gpu_hours: float
    unmet_gpu_hours: float
    served_tokens: float = math.nan
    unmet_tokens: float = math.nan
    start_delay_days: float = math.nan


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > 0 else math.nan


def _with_idle(
    rows: list[_Row], idle_by_month: Floats, months: pd.DatetimeIndex, names: list[str]
) -> list[dict[str, object]]:
    out = []
    pos = {int(m): i for i, m in enumerate(months.asi8)}
    for r in rows:
        per = idle_by_month[pos[r.month.value]]
        order = sorted(
            (k for k in range(len(names)) if per[k] >= MIN_IDLE_GPU_HOURS), key=lambda k: (-per[k], names[k])
        )
        idle = float(sum(per[k] for k in order))
        unmet, demand = r.unmet_gpu_hours, r.served_gpu_hours + r.unmet_gpu_hours
        demand_tokens = r.served_tokens + r.unmet_tokens
        out.append(
            {
                "month": r.month,
                "kind": r.kind,
                "demand": r.demand,
                "demand_gpu_hours": demand,
                "served_gpu_hours": r.served_gpu_hours,
                "unmet_gpu_hours": unmet,
                "unmet_pct": _pct(r.unmet_tokens, demand_tokens)
                if r.kind == "inference"
                else _pct(unmet, demand),
                "demand_tokens": demand_tokens,
                "served_tokens": r.served_tokens,
                "unmet_tokens": r.unmet_tokens,
                "start_delay_days": r.start_delay_days,
                "idle_gpu_hours": idle,
                "capacity_short_gpu_hours": max(0.0, unmet - idle) if not math.isnan(unmet) else math.nan,
                "idle_contracts": "; ".join(f"{names[k]}:{per[k]:.0f}" for k in order),
            }
        )
    return out


def _months(axis: Axis) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(axis.month.unique()).sort_values().as_unit("ns")


def _per_month(values: Floats, axis: Axis, months: pd.DatetimeIndex) -> Floats:
    """Per-step values summed by calendar month."""
    out = np.zeros(len(months))
    np.add.at(out, np.searchsorted(months.asi8, axis.month.asi8), values)
    return out


def _inference(
    tables_inf: pd.DataFrame, scenario: Scenario, catalog: Catalog, axis: Axis, idle: Idle
) -> list[dict[str, object]]:
    months = _months(axis)
    services = {w.item.name: w.item for w in scenario.workloads if isinstance(w.item, Inference)}
    out: list[dict[str, object]] = []
    if tables_inf.empty:
        return out
    df = tables_inf.assign(step=axis.index(tables_inf["time"]))
    for (service, region), g in df.groupby([df["service"].astype(str), df["region"].astype(str)], sort=True):
        item = services.get(str(service))
        thr = replica_throughput(item, scenario, catalog) if item is not None else np.zeros(0)
        best = float(thr.max()) / item.replica_gpus if item is not None and len(thr) else 0.0
        per_hour = best * 3600.0 if best > 0 else math.nan  # tokens one GPU-hour serves at best
        clusters = [int(c) for c in np.flatnonzero(thr > 0)]
        steps = g["step"].to_numpy(np.int64)
        demand_s, served_s = np.zeros(len(axis.start)), np.zeros(len(axis.start))
        demand = g["demand_tokens_s"].to_numpy(np.float64)
        np.add.at(demand_s, steps, demand)
        np.add.at(served_s, steps, np.minimum(g["served_tokens_s"].to_numpy(np.float64), demand))
        short = demand_s - served_s > REL_TOKENS * demand_s + EPS_TOKENS_S
        served_s = np.where(short, served_s, demand_s)  # rounding in the engine's min() is not a shortfall
        sec = axis.hours * 3600.0
        served_m = _per_month(served_s * sec, axis, months)
        unmet_m = _per_month(np.where(short, (demand_s - served_s) * sec, 0.0), axis, months)
        by_month = idle.by_month(clusters, np.where(short, axis.hours, 0.0), axis, months)
        rows = []
        for i, m in enumerate(months):
            if unmet_m[i] <= 0:
                continue
            rows.append(
                _Row(
                    m,
                    "inference",
                    f"{service}/{region}",
                    float(served_m[i] / per_hour),
                    float(unmet_m[i] / per_hour),
                    float(served_m[i]),
                    float(unmet_m[i]),
                )
            )
        out += _with_idle(rows, by_month, months, idle.names)
    return out


def _month_hours(axis: Axis, months: pd.DatetimeIndex, a: pd.Timestamp, b: pd.Timestamp) -> Floats:
    """Hours of [a, b) in each calendar month (exact, not by steps)."""
    out = np.zeros(len(months))
    lo_all, hi_all = a.value, b.value
    for i, m in enumerate(months):
        nxt = (m + pd.offsets.MonthBegin(1)).value
        lo, hi = max(m.value, lo_all), min(nxt, hi_all)
        out[i] = max(hi - lo, 0) / 3.6e12
    return out


def _training(
    jobs: pd.DataFrame, scenario: Scenario, catalog: Catalog, axis: Axis, idle: Idle
) -> list[dict[str, object]]:
    months = _months(axis)
    t0 = pd.Timestamp(dt.datetime.combine(scenario.horizon.start, dt.time(), tzinfo=dt.UTC))
    out: list[dict[str, object]] = []
    runs = [w.item for w in scenario.workloads if isinstance(w.item, TrainingRun)]
    theirs = jobs[jobs["workload"].isin([r.name for r in runs])]  # one pass over a large jobs table
    first = {str(n): i for i, n in reversed(list(enumerate(theirs["workload"])))}
    for run in runs:
        if run.name not in first:
            continue
        job = theirs.iloc[first[run.name]]
        planned = (
            max(t0, pd.Timestamp(dt.datetime.combine(run.earliest_start, dt.time(), tzinfo=dt.UTC)))
            if run.earliest_start
            else t0
        )
        started = None if pd.isna(job["start"]) else pd.Timestamp(job["start"])
        waited_to = min(started, axis.end) if started is not None else axis.end
        if waited_to <= planned:
            continue
        stop = axis.end if pd.isna(job["end"]) else min(pd.Timestamp(job["end"]), axis.end)
        gpus = float(run.gpus)
        unmet = gpus * _month_hours(axis, months, planned, waited_to)
        served = (
            gpus * _month_hours(axis, months, started, stop) if started is not None else np.zeros(len(months))
        )
        delay = (waited_to - planned).total_seconds() / 86_400.0
        clusters = allowed_clusters(scenario, run.allowed_providers)
        require = run.topology.require
        fitting = [c for c in clusters if unit_gpus(scenario, catalog, c, require) >= gpus]
        by_month = idle.by_month(
            fitting, axis.overlap_hours(planned, waited_to), axis, months, min_gpus=run.gpus
        )
        rows = [
            _Row(m, "training", run.name, float(served[i]), float(unmet[i]), start_delay_days=delay)
            for i, m in enumerate(months)
            if unmet[i] > EPS_GPU_HOURS
        ]
        out += _with_idle(rows, by_month, months, idle.names)
    return out


def _class_clusters(scenario: Scenario, cls: str) -> list[int]:
    """Clusters some workload of the class may use; every cluster when none is of the class."""
    found: set[int] = set()
    any_of_class = False
    for w in scenario.workloads:
        item = w.item
        if not isinstance(item, Stream | TrainingRun):
            continue
        if (item.priority_class or team_class(scenario, item.team)) != cls:
            continue
        any_of_class = True
        found |= set(allowed_clusters(scenario, item.allowed_providers))
    return sorted(found) if any_of_class else list(range(len(scenario.clusters)))


def _backlog(
    tables_queue: pd.DataFrame, series: pd.DataFrame, scenario: Scenario, axis: Axis, idle: Idle
) -> list[dict[str, object]]:
    months = _months(axis)
    out: list[dict[str, object]] = []
    if tables_queue.empty:
        return out
    q_step = axis.index(tables_queue["time"])
    s_step = axis.index(series["time"]) if len(series) else np.zeros(0, np.int64)
    for cls in BACKLOG_CLASSES:
        mask = (tables_queue["class"].astype(str) == cls).to_numpy()
        queued = np.zeros(len(axis.start))
        np.add.at(queued, q_step[mask], tables_queue["queued_gpus"].to_numpy(np.float64)[mask])
        held = np.zeros(len(axis.start))
        if len(series):
            np.add.at(held, s_step, series[f"allocated_{CLASS_COLUMN[cls]}_gpus"].to_numpy(np.float64))
        unmet = _per_month(queued * axis.hours, axis, months)
        served = _per_month(held * axis.hours, axis, months)
        waiting = np.where(queued > EPS_GPU_HOURS, axis.hours, 0.0)
        by_month = idle.by_month(_class_clusters(scenario, cls), waiting, axis, months)
        rows = [
            _Row(m, cls, cls, float(served[i]), float(unmet[i]))
            for i, m in enumerate(months)
            if unmet[i] > EPS_GPU_HOURS
        ]
        out += _with_idle(rows, by_month, months, idle.names)
    return out


def unmet_table(
    jobs: pd.DataFrame,
    series: pd.DataFrame,
    inference: pd.DataFrame,
    queue: pd.DataFrame,
    scenario: Scenario,
    catalog: Catalog,
) -> pd.DataFrame:
    """The `unmet` run table (tables.py) from the run's jobs, series, inference and queue tables."""
    axis = Axis.of(scenario)
    idle = Idle.of(series, scenario, axis)
    rows = (
        _inference(inference, scenario, catalog, axis, idle)
        + _training(jobs, scenario, catalog, axis, idle)
        + _backlog(queue, series, scenario, axis, idle)
    )
    if not rows:
        return empty_table("unmet")
    df = pd.DataFrame(rows)
    df["_k"] = df["kind"].map({k: i for i, k in enumerate(KINDS)})
    df = df.sort_values(["month", "_k", "demand"], kind="stable")
    return check_table("unmet", df)


def idle_contracts(text: str) -> dict[str, float]:
    """The `idle_contracts` cell read back: contract -> idle GPU-hours, in the cell's order."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in str(text).split(";"))):
        name, _, hours = part.rpartition(":")
        out[name] = float(hours)
    return out
