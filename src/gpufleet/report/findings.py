"""The run's dated findings, computed from its tables: what a planner reads first, before any average.

Each finding names a date and a size: the worst month of unserved inference, each training run's goodput,
loss and finish against its deadline or estimate (and, when goodput is low, why), the largest research
backlog, the month with the most unmet demand (and whether contracts it may use sat idle meanwhile), the
contracts whose commitment goes unused (and the year it is lost), and the year and size of the peak
funding need. The worst months are read while the fleet is whole; the run-off at the horizon, as
contract terms end, is said apart (runoff.py).
The terminal, --json and the HTML report show the same `Finding` objects, so they say the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from gpufleet.finance.summary import contract_year_summary
from gpufleet.report.context import RunContext, TrainingTarget
from gpufleet.report.runoff import RunOff, fleet_runoff, split_worst
from gpufleet.report.timeline import horizon_end_of, step_hours
from gpufleet.report.units import day_text, month_text, si_text, usd_text
from gpufleet.report.waits import QueuePeaks, queue_peaks
from gpufleet.tables import RunTables
from gpufleet.unmet import idle_contracts

Number = float | int | str | None


@dataclass(frozen=True, slots=True)
class Finding:
    """One dated finding: `kind` says what it is, `subject` what it is about, `text` how it reads."""

    kind: str  # inference | training | backlog | unmet | commitment | funding
    subject: str  # a training run, contract or revenue scenario; "" when the run has one such thing
    date: str  # ISO date or month (YYYY-MM) the finding is dated at; "" when nothing happened
    text: str
    values: dict[str, Number] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def horizon_of(tables: RunTables, context: RunContext) -> pd.Timestamp | None:
    return context.horizon_end if context.horizon_end is not None else horizon_end_of(tables)


# --------------------------------------------------------------------------------------- inference


def _month(times: pd.Series) -> pd.Series:
    """The first instant (UTC) of each time's calendar month."""
    t = pd.DatetimeIndex(pd.to_datetime(times, utc=True)).tz_convert(None)
    return pd.Series(t.to_period("M").to_timestamp().tz_localize("UTC"), index=times.index)


def inference_by_month(inf: pd.DataFrame) -> pd.DataFrame:
    """Per calendar month: tokens demanded and unserved, the unserved share, and GPUs short (mean, peak).

    GPUs short at a step = unserved tokens/s ÷ the most tokens/s per GPU the service reached in the run
    (its throughput at full load: a replica short of demand is saturated), summed over services and regions.
    """
    cols = ["month", "demand_tokens", "unserved_tokens", "unserved_pct", "gpus_short_avg", "gpus_short_peak"]
    if inf.empty:
        return pd.DataFrame({c: [] for c in cols})
    df = inf.copy()
    df["time"] = pd.to_datetime(df["time"], utc=True)
    hours = df["time"].map(step_hours(df["time"])).to_numpy(np.float64)
    demand = df["demand_tokens_s"].to_numpy(np.float64)
    served = df["served_tokens_s"].to_numpy(np.float64)
    gpus = df["gpus"].to_numpy(np.float64)
    unserved = np.maximum(demand - served, 0.0)
    per_gpu = np.divide(served, gpus, out=np.zeros(len(df)), where=gpus > 0)
    best = pd.Series(per_gpu).groupby(df["service"].astype(str).to_numpy()).transform("max").to_numpy()
    df["short"] = np.divide(unserved, best, out=np.zeros(len(df)), where=best > 0)
    df["demand_tokens"] = demand * hours * 3600.0
    df["unserved_tokens"] = unserved * hours * 3600.0
    df["hours"] = hours
    per_step = df.groupby("time").agg(
        demand_tokens=("demand_tokens", "sum"),
        unserved_tokens=("unserved_tokens", "sum"),
        short=("short", "sum"),
        hours=("hours", "first"),
    )
    per_step["month"] = _month(per_step.index.to_series()).to_numpy()
    per_step["short_h"] = per_step["short"] * per_step["hours"]
    m = per_step.groupby("month").agg(
        demand_tokens=("demand_tokens", "sum"),
        unserved_tokens=("unserved_tokens", "sum"),
        short_h=("short_h", "sum"),
        hours=("hours", "sum"),
        gpus_short_peak=("short", "max"),
    )
    dem = m["demand_tokens"].to_numpy(np.float64)
    m["unserved_pct"] = np.divide(100.0 * m["unserved_tokens"], dem, out=np.zeros(len(m)), where=dem > 0)
    m["gpus_short_avg"] = m["short_h"] / m["hours"]
    return m.reset_index().loc[:, cols]


def _pct_text(pct: float) -> str:
    """A share in percent; a small one is not rounded to 0.0%."""
    return f"{pct:.1f}%" if pct >= 0.1 else f"{pct:.2g}%"


def _worst_month_text(when: pd.Timestamp, runoff: RunOff | None) -> str:
    """'worst month Dec 2031', or 'worst month while the fleet is whole, Dec 2031' where a run-off follows."""
    return f"worst month {'' if runoff is None else 'while the fleet is whole, '}{month_text(when)}"


def _whole_text(runoff: RunOff) -> str:
    """'while the fleet is whole (to Dec 2031)': the months before the run-off."""
    before = runoff.start - pd.DateOffset(months=1)
    return f"while the fleet is whole (to {month_text(pd.Timestamp(before))})"


def _runoff_text(runoff: RunOff, worst: str, when: pd.Timestamp) -> str:
    """The run-off, said apart from the worst month: what ended, and the worst month it brings."""
    return f" {runoff.text()}; then up to {worst} ({month_text(when)}), not counted as the worst month."


def _inference_finding(tables: RunTables, runoff: RunOff | None) -> Finding | None:
    """The month with the largest unserved share; a month of the fleet's run-off is said apart (runoff.py)."""
    months = inference_by_month(tables.inference)
    if months.empty:
        return None
    if float(months["unserved_tokens"].max()) <= 0:
        return Finding(
            "inference", "", "", "Inference: all demand served in every month.", {"unserved_pct": 0.0}
        )
    share = months["unserved_pct"].to_numpy(np.float64)
    whole_i, late_i = split_worst(months["month"], share, runoff)
    ro = runoff if late_i is not None else None  # the run-off is said only where it brings a shortage
    values: dict[str, Number]
    if ro is not None and whole_i is None:
        when = ro.start
        text = f"Inference: all demand served {_whole_text(ro)}."
        values = {"unserved_pct": 0.0}
    else:  # the worst while whole; with no share above 0 anywhere (each rounds to nothing), the largest
        worst = months.iloc[whole_i if whole_i is not None else int(share.argmax())]
        when = pd.Timestamp(worst["month"])
        pct = float(worst["unserved_pct"])
        text = (
            f"Inference: {_worst_month_text(when, ro)}, {_pct_text(pct)} of demand unserved "
            f"(about {worst['gpus_short_avg']:,.0f} GPUs short on average that month, "
            f"{worst['gpus_short_peak']:,.0f} at the peak)."
        )
        values = {
            "month": f"{when:%Y-%m}",
            "unserved_pct": pct,
            "unserved_tokens": float(worst["unserved_tokens"]),
            "gpus_short_avg": float(worst["gpus_short_avg"]),
            "gpus_short_peak": float(worst["gpus_short_peak"]),
        }
    if ro is not None and late_i is not None:
        tail = months.iloc[late_i]
        tail_when = pd.Timestamp(tail["month"])
        tail_pct = float(tail["unserved_pct"])
        text += _runoff_text(ro, f"{_pct_text(tail_pct)} of demand unserved", tail_when)
        values |= ro.values() | {"runoff_worst_month": f"{tail_when:%Y-%m}", "runoff_unserved_pct": tail_pct}
    return Finding("inference", "", f"{when:%Y-%m}", text, values)


# ---------------------------------------------------------------------------------------- training


TRAINING_COLUMNS = (
    "run", "gpus", "submit", "start", "end", "state", "held_gpu_hours", "lost_gpu_hours", "goodput_pct",
    "restarts", "preemptions", "interruptions", "deadline", "estimate_end", "work_done_pct",
)  # fmt: skip


def training_run_names(tables: RunTables, context: RunContext) -> list[str]:
    """The scenario's training runs where known, else workloads of class training with a single job."""
    j = tables.jobs
    if context.training:
        present = {str(w) for w in j["workload"].unique()}  # unique first: one string per workload
        return [n for n in context.training if n in present]
    t = j[j["class"].astype(str) == "training"]
    counts = t.groupby(t["workload"].astype(str)).size()
    return [str(n) for n in counts.index if counts[n] == 1]


def training_runs(tables: RunTables, context: RunContext) -> pd.DataFrame:
    """One row per training run: GPU-hours held and lost, goodput, interruptions, finish and targets.

    Held = GPUs × (time from submit to end, or to the horizon, minus the time queued): what the run
    occupied. Goodput = compute / held, as the training-time model defines it: the held GPU-hours not lost
    to failures or preemptions, less the share spent writing checkpoints. Interruptions = restarts after
    failures + preemptions.
    """
    horizon = horizon_of(tables, context)
    j = tables.jobs
    rows = []
    for name in training_run_names(tables, context):
        job = j[j["workload"].astype(str) == name].iloc[0]
        submit, start, end = (
            pd.Timestamp(job[c]) if not pd.isna(job[c]) else None for c in ("submit", "start", "end")
        )
        stop = end if end is not None else horizon
        held = 0.0
        if start is not None and stop is not None and submit is not None:
            wait = 0.0 if pd.isna(job["wait_s"]) else float(job["wait_s"])
            held = max(0.0, (stop - submit).total_seconds() - wait) * int(job["gpus"]) / 3600.0
        lost = float(job["lost_gpu_hours"])
        target = context.training.get(name, TrainingTarget())
        work = target.work_gpu_hours
        done = None if not work else 100.0 * target.compute_share * max(0.0, held - lost) / work
        rows.append(
            {
                "run": name,
                "gpus": int(job["gpus"]),
                "submit": submit,
                "start": start,
                "end": end,
                "state": str(job["state"]),
                "held_gpu_hours": held,
                "lost_gpu_hours": lost,
                "goodput_pct": 100.0 * target.compute_share * (1.0 - lost / held) if held > 0 else None,
                "restarts": int(job["restarts"]),
                "preemptions": int(job["preemptions"]),
                "interruptions": int(job["restarts"]) + int(job["preemptions"]),
                "deadline": target.deadline,
                "estimate_end": target.estimate_end,
                "work_done_pct": done,
            }
        )
    return pd.DataFrame(rows, columns=list(TRAINING_COLUMNS))


def _days(a: pd.Timestamp, b: pd.Timestamp) -> float:
    return (a - b).total_seconds() / 86_400.0


DAY = pd.Timedelta(days=1)


def _due(target: pd.Timestamp, what: str) -> pd.Timestamp:
    """The instant a target falls due: a deadline at the end of its day, an estimate when it says."""
    return target + DAY if what == "deadline" else target


def _against(end: pd.Timestamp, target: pd.Timestamp, what: str) -> str:
    d = _days(end, _due(target, what))
    if abs(d) < 0.5:
        return f"on its {what} ({day_text(target)})"
    days = f"{abs(d):,.0f} day" + ("" if f"{abs(d):,.0f}" == "1" else "s")
    return f"{days} {'after' if d > 0 else 'before'} its {what} ({day_text(target)})"


def _has(v: object) -> bool:
    return v is not None and not pd.isna(v)  # type: ignore[call-overload]


LOW_GOODPUT_PCT = 70.0  # below this, a training run's finding says what drives its goodput down


def _duration_text(seconds: float) -> str:
    """45 s, 6.2 min, 2.5 h."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 7_200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3_600:.1f} h"


def contract_price(
    tables: RunTables, contract: str, start: pd.Timestamp | None, stop: pd.Timestamp | None
) -> float | None:
    """$ per GPU-hour of `contract` in the ledger: the mean over its months from `start`'s to `stop`'s
    (over all its months where it has none of those); None where the ledger lacks the contract."""
    led = tables.ledger
    mine = led[led["contract"].astype(str) == contract]
    if start is not None and stop is not None:
        first = _month(pd.Series([start])).iloc[0]
        during = mine[(mine["month"] >= first) & (mine["month"] <= stop)]
        mine = during if len(during) else mine
    prices = mine["price_per_gpu_hour_usd"].dropna()
    return float(prices.mean()) if len(prices) else None


def _goodput_driver(
    row: pd.Series, target: TrainingTarget, contract: str | None, price: float | None
) -> tuple[str, dict[str, Number]]:
    """Why a run's goodput is below LOW_GOODPUT_PCT, in one sentence from its own numbers ("" if it is not).

    Running time = GPU-hours held / GPUs; interruptions a day and the mean time between them follow from
    it. They are set against the restart time and checkpoint interval of the training-time model (where
    the scenario is known): a restart near the time between interruptions leaves little time to train.
    The GPU-hours lost are priced at the contract the run last ran on (the ledger's price), where known.
    """
    goodput, held, lost = row["goodput_pct"], float(row["held_gpu_hours"]), float(row["lost_gpu_hours"])
    if not _has(goodput) or float(goodput) >= LOW_GOODPUT_PCT or held <= 0:
        return "", {}
    n, failures, preemptions = int(row["interruptions"]), int(row["restarts"]), int(row["preemptions"])
    running_s = held / int(row["gpus"]) * 3_600.0
    head = f" Low goodput (below {LOW_GOODPUT_PCT:.0f}%): "
    if n == 0:
        if lost > 0:
            return "", {}
        share = 100.0 - float(goodput)  # nothing lost: what is not goodput went to writing checkpoints
        every = target.checkpoint_interval_s
        at = f" (a checkpoint every {_duration_text(every)})" if every and np.isfinite(every) else ""
        return head + f"no interruptions; writing checkpoints took {share:.0f}% of its time{at}.", {}
    who = (
        "failures and preemptions" if failures and preemptions else "failures" if failures else "preemptions"
    )
    per_day, between = n * 86_400.0 / running_s, running_s / n
    text = (
        f"at {int(row['gpus']):,} GPUs, {who} interrupted it {per_day:,.0f} times a day, once every "
        f"{_duration_text(between)} of running"
    )
    against = []
    if target.restart_s is not None:
        against.append(f"a {_duration_text(target.restart_s)} restart")
    every = target.checkpoint_interval_s
    if every is not None and np.isfinite(every) and every > 0:
        against.append(f"a checkpoint every {_duration_text(every)}")
    if against:
        text += ", against " + " and ".join(against)
    values: dict[str, Number] = {
        "interruptions_per_day": per_day,
        "mean_time_between_interruptions_s": between,
    }
    text += f"; the {si_text(lost)} GPU-h lost to them"
    if price is not None and contract is not None:
        values |= {"lost_usd": lost * price, "price_per_gpu_hour_usd": price}
        text += f" are worth {usd_text(lost * price)} at {contract}'s ${price:,.2f} per GPU-h"
    else:
        text += " go unpriced (no price for its contract in the ledger)"
    return head + text + ".", values


def _last_contract(
    tables: RunTables, row: pd.Series, horizon: pd.Timestamp | None
) -> tuple[str | None, float | None]:
    """The contract a training run last ran on (jobs.contract) and its price over the run's months."""
    j = tables.jobs
    contract = j.loc[j["workload"].astype(str) == str(row["run"]), "contract"].iloc[0]
    if not _has(contract) or str(contract) == "":
        return None, None
    start = pd.Timestamp(row["start"]) if _has(row["start"]) else None
    stop = pd.Timestamp(row["end"]) if _has(row["end"]) else horizon
    return str(contract), contract_price(tables, str(contract), start, stop)


def _training_finding(
    row: pd.Series,
    horizon: pd.Timestamp | None,
    target: TrainingTarget | None = None,
    contract: str | None = None,
    price: float | None = None,
) -> Finding:
    name = str(row["run"])
    end, deadline, estimate = row["end"], row["deadline"], row["estimate_end"]
    targets = [(deadline, "deadline")] if _has(deadline) else []
    if _has(estimate):
        targets.append((estimate, "estimate"))
    state = str(row["state"])
    if state == "finished" and _has(end):
        when = pd.Timestamp(end)
        head = f"finished {day_text(when)}"
        if targets:
            head += ", " + " and ".join(_against(when, pd.Timestamp(t), w) for t, w in targets)
        date = day_text(when)
    elif state == "failed" and _has(end):
        when = pd.Timestamp(end)
        head, date = f"failed {day_text(when)}", day_text(when)
    else:
        at = f" ({day_text(horizon)})" if horizon is not None else ""
        head = (
            "never started: still waiting" if not _has(row["start"]) else "still running"
        ) + f" at the horizon{at}"
        if row["work_done_pct"] is not None and not pd.isna(row["work_done_pct"]) and _has(row["start"]):
            head += f", about {float(row['work_done_pct']):.0f}% of its compute done"
        missed = [
            f"{w} {day_text(pd.Timestamp(t))}"
            for t, w in targets
            if horizon is None or _due(pd.Timestamp(t), w) <= horizon
        ]
        later = [
            f"{w} {day_text(pd.Timestamp(t))}"
            for t, w in targets
            if horizon is not None and _due(pd.Timestamp(t), w) > horizon
        ]
        if missed:
            head += "; past its " + " and ".join(missed)
        if later:
            head += (
                "; its "
                + " and ".join(later)
                + (" lie" if len(later) > 1 else " lies")
                + " beyond the horizon"
            )
        date = day_text(horizon) if horizon is not None else ""
    goodput = row["goodput_pct"]
    good = "–" if goodput is None or pd.isna(goodput) else f"{float(goodput):.1f}%"
    n = int(row["interruptions"])
    text = (
        f"Training {name} ({int(row['gpus']):,} GPUs): {head}. Goodput {good}, "
        f"{si_text(float(row['lost_gpu_hours']))} GPU-h lost of "
        f"{si_text(float(row['held_gpu_hours']))} held, "
        f"{n:,} interruption{'' if n == 1 else 's'} ({int(row['restarts']):,} failures, "
        f"{int(row['preemptions']):,} preemptions)."
    )
    driver, driver_values = _goodput_driver(row, target or TrainingTarget(), contract, price)
    text += driver
    values: dict[str, Number] = {
        "state": state,
        "gpus": int(row["gpus"]),
        "end": day_text(pd.Timestamp(end)) if _has(end) else None,
        "deadline": day_text(pd.Timestamp(deadline)) if _has(deadline) else None,
        "estimate_end": day_text(pd.Timestamp(estimate)) if _has(estimate) else None,
        "goodput_pct": None if goodput is None or pd.isna(goodput) else float(goodput),
        "lost_gpu_hours": float(row["lost_gpu_hours"]),
        "held_gpu_hours": float(row["held_gpu_hours"]),
        "interruptions": n,
        "restarts": int(row["restarts"]),
        "preemptions": int(row["preemptions"]),
    }
    values |= driver_values
    if _has(end) and _has(deadline):
        values["days_after_deadline"] = _days(pd.Timestamp(end), _due(pd.Timestamp(deadline), "deadline"))
    if _has(end) and _has(estimate):
        values["days_after_estimate"] = _days(pd.Timestamp(end), pd.Timestamp(estimate))
    return Finding("training", name, date, text, values)


# ---------------------------------------------------------------------------------- backlog, money


def _backlog_finding(peaks: QueuePeaks) -> Finding | None:
    p = peaks.gpus_by_class.get("research")
    if p is None:
        return None
    if p.at is None:
        return Finding(
            "backlog", "research", "", "Research backlog: no research job ever waited.", {"gpus": 0.0}
        )
    text = (
        f"Research backlog: largest {p.at:%Y-%m-%d %H:%M} UTC, {p.value:,.0f} GPUs asked for by "
        f"{p.jobs:,.0f} waiting jobs."
    )
    return Finding(
        "backlog", "research", day_text(p.at), text, {"gpus": p.value, "jobs": p.jobs, "at": p.at.isoformat()}
    )


NAMED_CONTRACTS = 3  # the unmet finding names the most idle ones; values["idle_contracts"] has them all


def _all_served(tables: RunTables) -> bool:
    """The run's own tables show no unserved inference and no job ever waiting."""
    inf = tables.inference
    unserved = (inf["demand_tokens_s"] - inf["served_tokens_s"]).clip(lower=0).sum() if len(inf) else 0.0
    return float(unserved) <= 0 and float(tables.queue["queued_gpus"].sum()) <= 0


def _unmet_finding(tables: RunTables, runoff: RunOff | None) -> Finding | None:
    """The month with the most unmet GPU-hours: how much, and whether contracts it may use sat idle.

    A month of the fleet's run-off (runoff.py) is said apart, after the worst month while the fleet is whole.
    """
    u = tables.unmet
    if u.empty:  # a run stored before the unmet table reads it empty: say "none" only when true
        if not _all_served(tables):
            return None
        return Finding("unmet", "", "", "Unmet demand: none in any month.", {"unmet_gpu_hours": 0.0})
    cols = ["unmet_gpu_hours", "demand_gpu_hours", "capacity_short_gpu_hours"]
    months = u.groupby("month")[cols].sum()  # NaN (inference no cluster can serve) counts as 0
    hours = months["unmet_gpu_hours"].to_numpy(np.float64)
    whole_i, late_i = split_worst(months.index.to_series(), hours, runoff)
    ro = runoff if late_i is not None else None  # the run-off is said only where it brings a shortage
    values: dict[str, Number]
    if ro is not None and whole_i is None:
        when, subject = ro.start, ""
        text = f"Unmet demand: none {_whole_text(ro)}."
        values = {"unmet_gpu_hours": 0.0}
    else:  # the worst while whole; with no month above 0 anywhere (rows of NaN), the first
        i = whole_i if whole_i is not None else int(hours.argmax())
        when = pd.Timestamp(months.index[i])
        text, values = _unmet_month(u, when, months.iloc[i], ro)
        subject = str(values["demand"])
    if ro is not None and late_i is not None:
        tail_when = pd.Timestamp(months.index[late_i])
        unmet, asked = float(hours[late_i]), float(months["demand_gpu_hours"].iloc[late_i])
        text += _runoff_text(ro, f"{si_text(unmet)} of {si_text(asked)} GPU-h asked unmet", tail_when)
        values |= ro.values() | {"runoff_worst_month": f"{tail_when:%Y-%m}", "runoff_unmet_gpu_hours": unmet}
    return Finding("unmet", subject, f"{when:%Y-%m}", text, values)


def _unmet_month(
    u: pd.DataFrame, when: pd.Timestamp, month: pd.Series, runoff: RunOff | None
) -> tuple[str, dict[str, Number]]:
    """One month's unmet demand: of what was asked, the demand with the most, and the idle contracts."""
    rows = u[u["month"] == when]
    unmet, asked, short = (
        float(month[c]) for c in ("unmet_gpu_hours", "demand_gpu_hours", "capacity_short_gpu_hours")
    )
    top = rows.iloc[int(rows["unmet_gpu_hours"].fillna(0).to_numpy().argmax())]
    idle: dict[str, float] = {}
    for cell in rows["idle_contracts"].astype(str):
        for name, hours in idle_contracts(cell).items():
            idle[name] = max(idle.get(name, 0.0), hours)
    named = sorted(idle, key=lambda n: (-idle[n], n))
    pct = 100.0 * unmet / asked if asked > 0 else 0.0
    text = (
        f"Unmet demand: {_worst_month_text(when, runoff)}, {si_text(unmet)} of {si_text(asked)} GPU-h asked "
        f"went unmet ({_pct_text(pct)}), most by {top['demand']} ({si_text(float(top['unmet_gpu_hours']))})"
    )
    if not named:
        text += "; capacity short: no contract it may use had idle GPUs meanwhile."
    else:
        lead = f"{si_text(short)} GPU-h capacity short" if short >= 0.5 else "not short of capacity"
        text += (
            f"; {lead}; contracts it may use sat idle meanwhile: "
            + ", ".join(f"{n} ({si_text(idle[n])} GPU-h)" for n in named[:NAMED_CONTRACTS])
            + (f" and {len(named) - NAMED_CONTRACTS} more" if len(named) > NAMED_CONTRACTS else "")
            + "."
        )
    values: dict[str, Number] = {
        "month": f"{when:%Y-%m}",
        "unmet_gpu_hours": unmet,
        "demand_gpu_hours": asked,
        "capacity_short_gpu_hours": short,
        "demand": str(top["demand"]),
        "idle_contracts": ",".join(named),
    }
    return text, values


def _commitment_findings(tables: RunTables) -> list[Finding]:
    """Per contract: commitment booked unused (with the contract years and calendar years it is lost),
    else a shortfall the ledger projects for the term's end at the run's utilization."""
    led = tables.ledger
    if led.empty:
        return []
    years = contract_year_summary(led)
    out = []
    for contract in dict.fromkeys(led["contract"].astype(str)):
        rows = years[(years["contract"].astype(str) == contract) & (years["unused_commitment_usd"] > 0)]
        if len(rows):
            total = float(rows["unused_commitment_usd"].sum())
            parts = [
                f"{usd_text(float(r['unused_commitment_usd']))} in contract year {int(r['contract_year'])} "
                f"(lost {pd.Timestamp(r['last_month']):%b %Y})"
                for _, r in rows.iterrows()
            ]
            first = pd.Timestamp(rows["last_month"].min())
            text = f"Contract {contract}: {usd_text(total)} of commitment unused: " + ", ".join(parts) + "."
            values: dict[str, Number] = {
                "unused_commitment_usd": total,
                "first_year_lost": int(first.year),
                "contract_years": ",".join(str(int(y)) for y in rows["contract_year"]),
            }
            out.append(Finding("commitment", contract, f"{first:%Y-%m}", text, values))
            continue
        mine = led[led["contract"].astype(str) == contract]
        last = mine.sort_values("month").iloc[-1]
        projected = float(last["projected_shortfall_usd"])
        if projected > 0:
            when = pd.Timestamp(last["month"])
            text = (
                f"Contract {contract}: on course to leave {usd_text(projected)} of commitment unused by its "
                f"term's end at the utilization of this run (projected at {month_text(when)})."
            )
            out.append(
                Finding("commitment", contract, f"{when:%Y-%m}", text, {"projected_shortfall_usd": projected})
            )
    return out


def _funding_findings(tables: RunTables) -> list[Finding]:
    port = tables.portfolio
    out = []
    for scen, g in port.groupby(port["scenario"].astype(str), sort=True):
        need = g["cumulative_funding_need_usd"].to_numpy(np.float64)
        if not len(need) or float(need.max()) <= 0:
            text = f"Funding ({scen}): revenue covers cash out every year."
            out.append(Finding("funding", str(scen), "", text, {"peak_usd": 0.0}))
            continue
        i = int(need.argmax())
        year = int(g["year"].iloc[i])
        text = f"Funding ({scen}): peak need {usd_text(float(need[i]))} in {year}."
        out.append(Finding("funding", str(scen), str(year), text, {"peak_usd": float(need[i]), "year": year}))
    return out


def findings(
    tables: RunTables, context: RunContext | None = None, peaks: QueuePeaks | None = None
) -> list[Finding]:
    """The run's findings in reading order: inference, training runs, backlog, unmet, commitments, funding."""
    ctx = context or RunContext()
    horizon = horizon_of(tables, ctx)
    out: list[Finding] = []
    runoff = fleet_runoff(tables, ctx)
    inf = _inference_finding(tables, runoff)
    if inf is not None:
        out.append(inf)
    for _, r in training_runs(tables, ctx).iterrows():
        out.append(
            _training_finding(
                r, horizon, ctx.training.get(str(r["run"])), *_last_contract(tables, r, horizon)
            )
        )
    backlog = _backlog_finding(peaks if peaks is not None else queue_peaks(tables, horizon))
    if backlog is not None:
        out.append(backlog)
    unmet = _unmet_finding(tables, runoff)
    if unmet is not None:
        out.append(unmet)
    out.extend(_commitment_findings(tables))
    out.extend(_funding_findings(tables))
    return out
