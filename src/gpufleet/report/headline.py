"""Headline figures of a run, computed from its tables once and shared by the terminal, HTML and compare."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpufleet.report.context import RunContext
from gpufleet.report.findings import Finding, findings, horizon_of, inference_by_month, training_runs
from gpufleet.report.timeline import step_hours
from gpufleet.report.units import si_text, usd_text
from gpufleet.report.waits import QueuePeaks, job_waits, queue_peaks
from gpufleet.tables import CLASS_COLUMN, PRIORITY_CLASSES, RunTables

Value = float | int | None
JOB_CLASSES: tuple[str, ...] = tuple(c for c in PRIORITY_CLASSES if c != "inference")


@dataclass(frozen=True, slots=True)
class Figure:
    """How a headline figure reads: its label, unit and which way is better (+1 up, -1 down, 0 neither)."""

    label: str
    unit: str  # gpus | pct | count | h | gpu_h | usd | tokens | index
    better: int


# Base key -> description. Keys with a dot carry a qualifier after it: a class ("wait_p50_h.training"),
# a training run ("training_goodput_pct.frontier-2026") or a revenue scenario ("funding_need_usd.base").
FIGURES: dict[str, Figure] = {
    "gpus_online_peak": Figure("GPUs online, peak", "gpus", 0),
    "gpus_online_end": Figure("GPUs online, end", "gpus", 0),
    "gpu_hours_capacity": Figure("GPU-hours online, total", "gpu_h", 0),
    "gpu_hours_unusable": Figure("GPU-hours online that no workload may use (not idle), total", "gpu_h", -1),
    "utilization_pct": Figure("utilization, average (allocated / online)", "pct", 1),
    "utilization_class_pct": Figure("utilization, average", "pct", 0),
    "idle_pct": Figure("idle, average", "pct", -1),
    "failed_pct": Figure("GPUs down for repair, average", "pct", -1),
    "stranded_pct": Figure("stranded, average (free, but no waiting job fits)", "pct", -1),
    "jobs_submitted": Figure("jobs submitted", "count", 0),
    "jobs_finished": Figure("jobs finished", "count", 1),
    "jobs_failed": Figure("jobs failed", "count", -1),
    "jobs_queued_at_end": Figure("jobs still queued at the horizon", "count", -1),
    "jobs_running_at_end": Figure("jobs still running at the horizon", "count", 0),
    "wait_p50_h": Figure("wait p50, censored waits included", "h", -1),
    "wait_p95_h": Figure("wait p95, censored waits included", "h", -1),
    "waits_censored": Figure("waits censored at the horizon (jobs still waiting)", "count", -1),
    "training_goodput_pct": Figure("training run goodput", "pct", 1),
    "training_lost_gpu_hours": Figure("training run GPU-hours lost", "gpu_h", -1),
    "training_interruptions": Figure("training run interruptions, failures + preemptions", "count", -1),
    "lost_gpu_hours": Figure("GPU-hours lost to failures and preemption, total", "gpu_h", -1),
    "goodput_pct": Figure("goodput, all jobs (job GPU-hours not lost)", "pct", 1),
    "shortfall_gpu_hours": Figure("demand waiting for GPUs, total", "gpu_h", -1),
    "peak_queued_gpus": Figure("GPUs asked for by waiting jobs, peak at any instant", "gpus", -1),
    "peak_queued_jobs": Figure("jobs waiting, peak at any instant", "count", -1),
    "inference_unserved_worst_month_pct": Figure("inference demand unserved, worst month", "pct", -1),
    "inference_unserved_pct": Figure("inference demand unserved, average over the run", "pct", -1),
    "inference_unserved_tokens": Figure("inference tokens unserved, total", "tokens", -1),
    "spend_usd": Figure("spend (cash out)", "usd", -1),
    "usage_cost_usd": Figure("spend on GPU-hours used", "usd", 0),
    "unused_commitment_usd": Figure("unused commitment (minimum not reached by use)", "usd", -1),
    "structural_unused_usd": Figure("unused commitment, structural (capacity cannot reach it)", "usd", -1),
    "demand_unused_usd": Figure("unused commitment, demand (capacity there, unused)", "usd", -1),
    "accrued_cost_usd": Figure("cost (accrued)", "usd", -1),
    "true_up_usd": Figure("commitment shortfalls paid (true-ups)", "usd", -1),
    "overflow_cost_usd": Figure("overflow (on-demand) cost", "usd", -1),
    "usd_per_used_gpu_hour": Figure("cost per used GPU-hour, average", "usd_rate", -1),
    "top_provider_share_pct": Figure("largest provider's share of spend", "pct", -1),
    "hhi": Figure("provider concentration (HHI of spend)", "index", -1),
    "funding_need_usd": Figure("peak funding need", "usd", -1),
}

# How the figures are grouped for people, in order (after the dated findings).
GROUPS: dict[str, tuple[str, ...]] = {
    "Training runs": ("training_goodput_pct", "training_lost_gpu_hours", "training_interruptions"),
    "Demand not met": ("inference_unserved_worst_month_pct", "inference_unserved_pct",
                       "inference_unserved_tokens", "peak_queued_gpus", "peak_queued_jobs",
                       "shortfall_gpu_hours"),
    "Capacity (peak, end, and averages over the run)": (
        "gpus_online_peak", "gpus_online_end", "gpu_hours_capacity", "gpu_hours_unusable", "utilization_pct",
        "utilization_class_pct", "idle_pct", "failed_pct", "stranded_pct"),
    "Work (waits count jobs still waiting, censored at the horizon)": (
        "jobs_submitted", "jobs_finished", "jobs_failed", "jobs_queued_at_end", "jobs_running_at_end",
        "wait_p50_h", "wait_p95_h", "waits_censored", "lost_gpu_hours", "goodput_pct"),
    "Money": ("spend_usd", "accrued_cost_usd", "usage_cost_usd", "unused_commitment_usd",
              "structural_unused_usd", "demand_unused_usd", "true_up_usd", "overflow_cost_usd",
              "usd_per_used_gpu_hour", "top_provider_share_pct", "hhi", "funding_need_usd"),
}  # fmt: skip


def _hours(df: pd.DataFrame) -> np.ndarray:
    """Per row of a table with a `time` column: the hours its step lasts."""
    return df["time"].map(step_hours(df["time"])).to_numpy(dtype="float64")


def _f(x: object) -> float | None:
    v = float(x)  # type: ignore[arg-type]
    return None if math.isnan(v) else v


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else 100.0 * num / den


def headline(
    tables: RunTables, context: RunContext | None = None, peaks: QueuePeaks | None = None
) -> dict[str, Value]:
    """The run's headline numbers, flat and JSON-ready; keys are described by FIGURES (see `describe`).

    `context` gives the horizon (for censored waits) and training runs' names; without it both come from
    the tables. `peaks` may be passed when already computed (queue_peaks).
    """
    ctx = context or RunContext()
    horizon = horizon_of(tables, ctx)
    out: dict[str, Value] = {}
    led = tables.ledger
    unusable = set(led.loc[led["gpu_hours_unusable"] > 0, "contract"].astype(str)) if len(led) else set()
    s = tables.series
    h = _hours(s) if len(s) else np.zeros(0)
    # capacity no workload may use is neither online for utilization nor idle (reported on its own)
    apart = s["contract"].astype(str).isin(unusable).to_numpy() if len(s) else np.zeros(0, dtype=bool)
    out["gpu_hours_unusable"] = float((s["capacity_gpus"].to_numpy() * h)[apart].sum()) if len(s) else 0.0
    s, h = s[~apart], h[~apart]
    cap_h = float((s["capacity_gpus"].to_numpy() * h).sum())
    by_time = s.groupby("time")["capacity_gpus"].sum().sort_index()
    out["gpus_online_peak"] = _f(by_time.max()) if len(by_time) else None
    out["gpus_online_end"] = _f(by_time.iloc[-1]) if len(by_time) else None
    out["gpu_hours_capacity"] = cap_h
    alloc_cols = [f"allocated_{CLASS_COLUMN[c]}_gpus" for c in PRIORITY_CLASSES]
    alloc_h = {
        c: float((s[col].to_numpy() * h).sum()) for c, col in zip(PRIORITY_CLASSES, alloc_cols, strict=True)
    }
    out["utilization_pct"] = _ratio(sum(alloc_h.values()), cap_h)
    for c in PRIORITY_CLASSES:
        out[f"utilization_class_pct.{c}"] = _ratio(alloc_h[c], cap_h)
    out["idle_pct"] = _ratio(float((s["idle_gpus"].to_numpy() * h).sum()), cap_h)
    out["failed_pct"] = _ratio(float((s["failed_gpus"].to_numpy() * h).sum()), cap_h)
    out["stranded_pct"] = _ratio(float((s["stranded_gpus"].to_numpy() * h).sum()), cap_h)

    j = tables.jobs
    out["jobs_submitted"] = len(j)
    for state, key in (("finished", "jobs_finished"), ("failed", "jobs_failed"),
                       ("queued", "jobs_queued_at_end"), ("running", "jobs_running_at_end")):  # fmt: skip
        out[key] = int((j["state"] == state).sum())
    waits = job_waits(j, horizon) if horizon is not None and len(j) else None
    for c in JOB_CLASSES:
        mine = waits[waits["class"] == c] if waits is not None else None
        w = mine["wait_h"].to_numpy(dtype="float64") if mine is not None else np.zeros(0)
        out[f"wait_p50_h.{c}"] = float(np.quantile(w, 0.5)) if len(w) else None
        out[f"wait_p95_h.{c}"] = float(np.quantile(w, 0.95)) if len(w) else None
        if len(w):
            out[f"waits_censored.{c}"] = int(mine["censored"].sum()) if mine is not None else 0

    for _, r in training_runs(tables, ctx).iterrows():
        name = str(r["run"])
        out[f"training_goodput_pct.{name}"] = None if pd.isna(r["goodput_pct"]) else float(r["goodput_pct"])
        out[f"training_lost_gpu_hours.{name}"] = float(r["lost_gpu_hours"])
        out[f"training_interruptions.{name}"] = int(r["interruptions"])

    lost = float(j["lost_gpu_hours"].sum())
    job_alloc_h = sum(alloc_h[c] for c in JOB_CLASSES)
    out["lost_gpu_hours"] = lost
    out["goodput_pct"] = None if job_alloc_h == 0 else 100.0 * (1.0 - lost / job_alloc_h)
    qu = tables.queue
    out["shortfall_gpu_hours"] = float((qu["queued_gpus"].to_numpy() * _hours(qu)).sum()) if len(qu) else 0.0
    pk = peaks if peaks is not None else queue_peaks(tables, horizon)
    out["peak_queued_gpus"] = pk.gpus.value
    out["peak_queued_jobs"] = int(pk.jobs.value)
    inf = tables.inference
    if len(inf):
        ih = _hours(inf) * 3600.0
        demand = float((inf["demand_tokens_s"].to_numpy() * ih).sum())
        served = float((inf["served_tokens_s"].to_numpy() * ih).sum())
        out["inference_unserved_pct"] = _ratio(demand - served, demand)
        out["inference_unserved_tokens"] = demand - served
        months = inference_by_month(inf)
        out["inference_unserved_worst_month_pct"] = float(months["unserved_pct"].max())
    else:
        out["inference_unserved_pct"] = None
        out["inference_unserved_tokens"] = None
        out["inference_unserved_worst_month_pct"] = None

    sp = tables.spend
    out["spend_usd"] = float(sp["spend_usd"].sum())
    out["accrued_cost_usd"] = float(led["accrued_cost_usd"].sum())
    out["structural_unused_usd"] = float(led["structural_unused_usd"].sum())
    out["demand_unused_usd"] = float(led["demand_unused_usd"].sum())
    out["usage_cost_usd"] = float(led["usage_cost_usd"].sum())
    out["unused_commitment_usd"] = float(led["unused_commitment_usd"].sum())
    out["true_up_usd"] = float(led["true_up_usd"].sum())
    out["overflow_cost_usd"] = float(led["overflow_cost_usd"].sum())
    used = float(led["gpu_hours_used"].sum())
    out["usd_per_used_gpu_hour"] = None if used == 0 else float(led["cost_due_usd"].sum()) / used
    by_provider = sp.groupby("provider")["spend_usd"].sum()
    total = float(by_provider.sum())
    shares = 100.0 * by_provider / total if total else by_provider * 0.0
    out["top_provider_share_pct"] = float(shares.max()) if total else None
    out["hhi"] = float((shares**2).sum()) if total else None
    port = tables.portfolio
    for scen, g in port.groupby("scenario", sort=True):
        out[f"funding_need_usd.{scen}"] = float(g["cumulative_funding_need_usd"].max())
    return out


def describe(key: str) -> tuple[Figure, str]:
    """The figure behind a headline key and its qualifier ("training", a revenue scenario, or "")."""
    base, _, qual = key.partition(".")
    return FIGURES[base], qual


def label(key: str) -> str:
    fig, qual = describe(key)
    return f"{fig.label} ({qual})" if qual else fig.label


def fmt_value(key: str, value: Value) -> str:
    """A headline value as a person reads it: 12,345 GPUs, 71.2%, $3.41B, 2.5 h."""
    if value is None:
        return "–"
    unit = describe(key)[0].unit
    if unit == "pct":
        return f"{value:,.1f}%"
    if unit == "usd":
        return usd_text(value)
    if unit == "usd_rate":
        return f"${value:,.2f}"
    if unit == "h":
        return f"{value * 60:,.0f} min" if abs(value) < 1 else f"{value:,.1f} h"
    if unit == "gpu_h":
        return si_text(value) + " GPU-h"
    if unit == "tokens":
        return si_text(value) + " tokens"
    return f"{value:,.0f}"


def fmt_delta(key: str, a: Value, b: Value) -> str:
    """B − A in the figure's unit; percentages as percentage points."""
    if a is None or b is None:
        return ""
    d = b - a
    unit = describe(key)[0].unit
    if unit == "pct":
        shown = f"{d:+,.1f} pp".replace("-", "−")
        return shown if any(ch in "123456789" for ch in shown) else "0.0 pp"  # never "−0.0 pp"
    sign = "+" if d > 0 else ("−" if d < 0 else "±")
    return sign + fmt_value(key, abs(d))


def delta_tone(key: str, a: Value, b: Value) -> int:
    """+1 where B is better, −1 where worse, 0 where the delta as shown is zero or has no better side."""
    better = describe(key)[0].better
    shown = fmt_delta(key, a, b)
    if a is None or b is None or not better or not any(ch in "123456789" for ch in shown):
        return 0
    return 1 if (b - a) * better > 0 else -1


def ordered_keys(values: dict[str, Value]) -> list[tuple[str, list[str]]]:
    """Keys of one or more headlines grouped for display, in GROUPS order, qualifiers sorted."""
    out = []
    for group, bases in GROUPS.items():
        keys = [k for base in bases for k in sorted(values, key=_qual_order) if k.partition(".")[0] == base]
        out.append((group, keys))
    return out


def _qual_order(key: str) -> tuple[int, str]:
    qual = key.partition(".")[2]
    return (PRIORITY_CLASSES.index(qual) if qual in PRIORITY_CLASSES else len(PRIORITY_CLASSES), qual)


def summarize(tables: RunTables, context: RunContext | None = None) -> tuple[list[Finding], dict[str, Value]]:
    """The dated findings and the headline figures of a run (the queue's peaks computed once for both)."""
    ctx = context or RunContext()
    peaks = queue_peaks(tables, horizon_of(tables, ctx))
    return findings(tables, ctx, peaks), headline(tables, ctx, peaks)
