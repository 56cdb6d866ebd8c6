"""The report's plots, built from a run's tables only; each comes with a title and a one-line caption."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gpufleet.report.findings import inference_by_month
from gpufleet.report.headline import JOB_CLASSES
from gpufleet.report.timeline import horizon_end_of
from gpufleet.report.waits import job_waits, queue_curve
from gpufleet.tables import CLASS_COLUMN, PRIORITY_CLASSES, RunTables

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756", "#72B7B2", "#EECA3B", "#9D755D")
CLASS_COLORS = {
    "inference": "#4C78A8",
    "training": "#F58518",
    "research": "#54A24B",
    "best-effort": "#B279A2",
}
FAILED_COLOR, IDLE_COLOR = "#E45756", "#D5D0CB"
# Wait buckets of the report's wait chart: (label, upper bound in hours); censored waits get their own bar.
WAIT_BUCKETS: tuple[tuple[str, float], ...] = (
    ("no wait (< 1 min)", 1 / 60),
    ("1 min – 1 h", 1.0),
    ("1 h – 1 day", 24.0),
    ("1 day – 1 week", 168.0),
    ("over a week", math.inf),
)
CENSORED_BUCKET = "still waiting at the horizon"
QUEUE_POINTS_MAX = 4000  # a queue curve with more steps is drawn as its maximum over equal time bins
DATE_AXIS = "date (UTC)"


@dataclass(frozen=True, slots=True)
class Plot:
    """One plot of the report: a stable id (the div's id), title, caption and the Plotly figure."""

    id: str
    title: str
    caption: str
    figure: Any


def provider_colors(providers: list[str]) -> dict[str, str]:
    return {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(sorted(providers))}


def build_plots(t: RunTables, horizon: pd.Timestamp | None = None) -> list[Plot]:
    """Every plot of a run's report, in reading order; a plot with nothing to show is left out."""
    colors = provider_colors(sorted(set(t.series["provider"].dropna()) | set(t.spend["provider"].dropna())))
    h = horizon if horizon is not None else horizon_end_of(t)
    plots = [
        capacity_vs_demand(t, colors),
        utilization_by_class(t),
        queue_and_waits(t, h),
        failures_and_goodput(t, colors),
        inference_served(t),
        commitment_burn_down(t),
        spend_vs_revenue(t, colors),
        provider_concentration(t, colors),
    ]
    return [p for p in plots if p is not None]


# ----------------------------------------------------------------------------------------- helpers


def plotly_go() -> Any:
    import plotly.graph_objects as go  # heavy: imported when a report is drawn, not at --help

    return go


def style_figure(
    fig: Any, ytitle: str, height: int = 380, xtitle: str | None = DATE_AXIS, **layout: Any
) -> Any:
    layout = {"hovermode": "x unified"} | layout
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 30, "t": 64, "b": 40},
        legend={"orientation": "h", "yref": "container", "yanchor": "top", "y": 0.995, "x": 0},
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 12, "color": "#1f2937"},
        yaxis_title=ytitle,
        **layout,
    )
    if xtitle:
        fig.update_layout(xaxis_title=xtitle)
    return fig


def usd_axis(fig: Any, **where: Any) -> None:
    fig.update_yaxes(tickprefix="$", exponentformat="B", showexponent="all", **where)


def step_index(t: RunTables) -> pd.DatetimeIndex:
    """The run's reporting steps (from `series`), in order."""
    return pd.DatetimeIndex(sorted(t.series["time"].unique()))


def per_step(df: pd.DataFrame, cols: list[str], steps: pd.DatetimeIndex) -> pd.DataFrame:
    return df.groupby("time")[cols].sum().reindex(steps, fill_value=0.0)


def _provider_lines(
    s: pd.DataFrame,
    column: str,
    steps: pd.DatetimeIndex,
    colors: dict[str, str],
    suffix: str,
    width: float,
    **style: Any,
) -> list[Any]:
    """One line per provider: `column` of `series` summed over its clusters, per reporting step."""
    go = plotly_go()
    return [
        go.Scatter(
            x=steps,
            y=per_step(s[s["provider"] == p], [column], steps)[column].to_numpy(),
            name=f"{p}{suffix}",
            mode="lines",
            line={"width": width, "color": colors[p]},
            meta={"provider": p},
            hovertemplate="%{y:,.0f} GPUs",
            **style,
        )
        for p in sorted(s["provider"].dropna().unique())
    ]


# ------------------------------------------------------------------------------------------- plots


def capacity_vs_demand(t: RunTables, colors: dict[str, str]) -> Plot | None:
    steps = step_index(t)
    if not len(steps):
        return None
    go = plotly_go()
    fig = go.Figure()
    s = t.series
    for line in _provider_lines(s, "capacity_gpus", steps, colors, "", 0.6, stackgroup="capacity"):
        fig.add_trace(line)
    alloc = [f"allocated_{CLASS_COLUMN[c]}_gpus" for c in PRIORITY_CLASSES]
    allocated = per_step(s, alloc, steps).sum(axis=1)
    waiting = per_step(t.queue, ["queued_gpus"], steps)["queued_gpus"]
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=(allocated + waiting).to_numpy(),
            name="demand (allocated + waiting)",
            mode="lines",
            line={"color": "#111827", "width": 2, "dash": "dot"},
            meta={"demand": True},
            hovertemplate="%{y:,.0f} GPUs",
        )
    )
    return Plot(
        "capacity",
        "Capacity vs demand",
        "GPUs online by provider, averaged over each reporting step (stacked), against demand: GPUs "
        "allocated plus GPUs asked for by waiting jobs, step averages (the queue chart below shows the "
        "queue at every instant).",
        style_figure(fig, "GPUs"),
    )


def utilization_by_class(t: RunTables) -> Plot | None:
    steps = step_index(t)
    if not len(steps):
        return None
    go = plotly_go()
    fig = go.Figure()
    cols = {c: f"allocated_{CLASS_COLUMN[c]}_gpus" for c in PRIORITY_CLASSES}
    cols |= {"failed": "failed_gpus", "idle": "idle_gpus"}
    per = per_step(t.series, list(cols.values()), steps)
    color = CLASS_COLORS | {"failed": FAILED_COLOR, "idle": IDLE_COLOR}
    for name, col in cols.items():
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=per[col].to_numpy(),
                name=name,
                stackgroup="use",
                groupnorm="percent",
                mode="lines",
                line={"width": 0.4, "color": color[name]},
                meta={"column": col},
                hovertemplate="%{y:.1f}%",
            )
        )
    return Plot(
        "utilization",
        "Utilization and idle by class",
        "Share of online GPUs at each step that were allocated to each priority class, down for failures, "
        "or idle; the layers add up to the capacity.",
        style_figure(fig, "% of GPUs online", yaxis_range=[0, 100], yaxis_ticksuffix="%"),
    )


def wait_buckets(t: RunTables, horizon: pd.Timestamp) -> dict[str, list[int]]:
    """Per job class: jobs in each WAIT_BUCKETS bucket, then jobs still waiting at the horizon (censored)."""
    waits = job_waits(t.jobs, horizon)
    out: dict[str, list[int]] = {}
    for c in JOB_CLASSES:
        mine = waits[waits["class"] == c]
        if mine.empty:
            continue
        done = mine.loc[~mine["censored"], "wait_h"].to_numpy(np.float64)
        counts, low = [], -1.0
        for _, high in WAIT_BUCKETS:
            counts.append(
                int(((done > low) & (done <= high)).sum()) if low >= 0 else int((done <= high).sum())
            )
            low = high
        out[c] = [*counts, int(mine["censored"].sum())]
    return out


def thin_queue(curve: pd.DataFrame, column: str, horizon: pd.Timestamp) -> tuple[pd.Series, np.ndarray]:
    """A queue curve for drawing: exact when short, else the maximum in each of QUEUE_POINTS_MAX time bins
    (so the peak stays visible), ending at the horizon."""
    curve = curve[pd.to_datetime(curve["time"], utc=True) < horizon]  # the horizon's point: drawn below
    times = pd.to_datetime(curve["time"], utc=True)
    values = curve[column].to_numpy(np.float64)
    if len(curve) > QUEUE_POINTS_MAX:
        t0, span = times.iloc[0], (horizon - times.iloc[0]) / QUEUE_POINTS_MAX
        bins = ((times - t0) / span).astype("int64").clip(upper=QUEUE_POINTS_MAX - 1)
        g = pd.Series(values).groupby(bins.to_numpy()).max()
        times = pd.Series(t0 + span * g.index.to_numpy())
        values = g.to_numpy()
    times = pd.concat([pd.Series(times), pd.Series([horizon])], ignore_index=True)
    return times, np.append(values, values[-1] if len(values) else 0.0)


def queue_and_waits(t: RunTables, horizon: pd.Timestamp | None) -> Plot | None:
    """GPUs asked for by waiting jobs at every instant, by class; jobs by wait (censored apart)."""
    if t.jobs.empty or horizon is None:
        return None
    go = plotly_go()
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.62, 0.38],
        horizontal_spacing=0.1,
        subplot_titles=(
            "GPUs asked for by waiting jobs, at every instant",
            "Jobs by wait before first start",
        ),
    )
    jobs = t.jobs
    for c in JOB_CLASSES:
        mine = jobs[jobs["class"] == c]
        curve = queue_curve(mine, horizon)
        if curve.empty or float(curve["queued_gpus"].max()) <= 0:
            continue
        x, y = thin_queue(curve, "queued_gpus", horizon)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                name=f"{c} waiting",
                mode="lines",
                line={"color": CLASS_COLORS[c], "width": 1.4, "shape": "hv"},
                meta={"class": c, "queue": True, "peak": float(curve["queued_gpus"].max())},
                hovertemplate="%{y:,.0f} GPUs<extra>" + c + "</extra>",
            ),
            row=1,
            col=1,
        )
    labels = [b for b, _ in WAIT_BUCKETS] + [CENSORED_BUCKET]
    for c, counts in wait_buckets(t, horizon).items():
        fig.add_trace(
            go.Bar(
                x=labels,
                y=counts,
                name=f"{c} jobs",
                marker_color=CLASS_COLORS[c],
                meta={"class": c, "buckets": True},
                hovertemplate="%{y:,} jobs<extra>" + c + "</extra>",
            ),
            row=1,
            col=2,
        )
    if not fig.data:
        return None
    fig = style_figure(fig, "GPUs waiting", height=420, hovermode="closest", barmode="group")
    fig.update_yaxes(title="jobs (log scale)", type="log", dtick=1, row=1, col=2)
    fig.update_xaxes(title="wait before first start", row=1, col=2)
    fig.update_annotations(font_size=13)
    return Plot(
        "queue",
        "Waiting work and waits",
        "Left: GPUs asked for by jobs waiting for their first start, at event resolution from the jobs table "
        "(waits after a requeue are not placed in time and are left out; curves with more steps are drawn as "
        "their maximum per time bin). Right: jobs by how long they waited before their first start; jobs "
        "still waiting at the horizon are a bar of their own (their waits are censored there).",
        fig,
    )


def failures_and_goodput(t: RunTables, colors: dict[str, str]) -> Plot | None:
    """GPUs down for failures over time (when any were) and GPU-hours lost by class (when any were)."""
    go = plotly_go()
    from plotly.subplots import make_subplots

    steps = step_index(t)
    s = t.series
    hours = _step_hours_per_row(s)
    lost = t.jobs.groupby("class")["lost_gpu_hours"].sum()
    classes, lost_y, text = [], [], []
    for c in JOB_CLASSES:
        alloc = float((s[f"allocated_{CLASS_COLUMN[c]}_gpus"].to_numpy() * hours).sum())
        if alloc == 0 and c not in lost.index:
            continue
        lc = float(lost.get(c, 0.0))
        classes.append(c)
        lost_y.append(lc)
        text.append(f"goodput {100 * (1 - lc / alloc):.1f}%" if alloc else "")
    show_down = bool(len(steps)) and float(s["failed_gpus"].sum()) > 0
    show_lost = sum(lost_y) > 0
    if not (show_down or show_lost):
        return None
    titles = [
        name
        for name, shown in (
            ("GPUs down for failures", show_down),
            ("GPU-hours lost, and goodput, by class", show_lost),
        )
        if shown
    ]
    fig = make_subplots(
        rows=1,
        cols=len(titles),
        column_widths=[0.64, 0.36] if len(titles) == 2 else None,
        horizontal_spacing=0.1,
        subplot_titles=titles,
    )
    if show_down:
        for line in _provider_lines(s, "failed_gpus", steps, colors, " failed", 1.2):
            fig.add_trace(line, row=1, col=1)
    col = 2 if show_down else 1
    if show_lost:
        fig.add_trace(
            go.Bar(
                x=classes,
                y=lost_y,
                text=text,
                textposition="outside",
                name="GPU-hours lost",
                marker_color=[CLASS_COLORS[c] for c in classes],
                meta={"lost_by_class": True},
                hovertemplate="%{y:,.0f} GPU-hours lost<extra>%{x}</extra>",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    fig = style_figure(fig, "GPUs down (step average)" if show_down else "GPU-hours lost", height=400,
                       xtitle=DATE_AXIS if show_down else "job class")  # fmt: skip
    if show_down and show_lost:
        fig.update_yaxes(title="GPU-hours lost", row=1, col=2)
        fig.update_xaxes(title="job class", row=1, col=2)
    fig.update_annotations(font_size=13)
    return Plot(
        "failures",
        "Failures and goodput",
        "GPUs down for failures, averaged over each step, by provider; GPU-hours of work lost to failures "
        "and preemptions (redone work and restarts) by class, with the goodput that leaves. A panel with "
        "nothing to show is left out.",
        fig,
    )


def _step_hours_per_row(df: pd.DataFrame) -> np.ndarray:
    from gpufleet.report.timeline import step_hours

    if not len(df):
        return np.zeros(0)
    return df["time"].map(step_hours(df["time"])).to_numpy(dtype="float64")


def inference_served(t: RunTables) -> Plot | None:
    """The unserved share itself (monthly, and the worst day of each week) over monthly demand and service."""
    inf = t.inference
    if inf.empty:
        return None
    go = plotly_go()
    from plotly.subplots import make_subplots

    months = inference_by_month(inf)
    short = float(months["unserved_tokens"].sum()) > 0  # else the share is 0 throughout: no panel for it
    titles = ["Share of demand unserved"] if short else []
    fig = make_subplots(
        rows=len(titles) + 1,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        row_heights=[0.55, 0.45] if short else None,
        subplot_titles=[*titles, "Tokens per second, monthly mean"],
    )
    if short:
        _unserved_traces(go, fig, months, _daily_unserved_pct(inf).resample("7D").max())
    tokens_row = 2 if short else 1
    _tokens_traces(go, fig, inf, tokens_row)
    fig = style_figure(fig, "% of tokens demanded" if short else "tokens / s", height=520 if short else 380,
                       hovermode="closest", xtitle=None)  # fmt: skip
    if short:
        fig.update_yaxes(ticksuffix="%", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title="tokens / s", rangemode="tozero", row=tokens_row, col=1)
    fig.update_xaxes(title=DATE_AXIS, row=tokens_row, col=1)
    fig.update_annotations(font_size=13)
    top = (
        "Top: the share of tokens demanded that went unserved, per calendar month (bars) and on the worst "
        "day of each week (line). Bottom: "
        if short
        else "All demand was served. "
    )
    return Plot(
        "inference",
        "Inference: demand unserved",
        top + "tokens per second demanded and served, monthly means, all services and regions together.",
        fig,
    )


def _unserved_traces(go: Any, fig: Any, months: pd.DataFrame, weekly_max: pd.Series) -> None:
    fig.add_trace(
        go.Bar(
            x=months["month"],
            y=months["unserved_pct"].to_numpy(),
            name="unserved, month",
            marker_color=FAILED_COLOR,
            opacity=0.75,
            meta={"unserved_month": True},
            customdata=months["gpus_short_avg"].to_numpy(),
            hovertemplate="%{y:.2f}% unserved, ~%{customdata:,.0f} GPUs short on average<extra></extra>",
            xperiod="M1",
            xperiodalignment="middle",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=weekly_max.index,
            y=weekly_max.to_numpy(),
            name="unserved, worst day of each week",
            mode="lines",
            line={"color": "#7f1d1d", "width": 1.2, "shape": "hv"},
            meta={"unserved_weekly_max": True},
            hovertemplate="%{y:.2f}%<extra>worst day of the week</extra>",
        ),
        row=1,
        col=1,
    )


def monthly_tokens(inf: pd.DataFrame) -> pd.DataFrame:
    """Per calendar month: mean tokens/s demanded (`demand`) and served (`served`), all services together."""
    hours = _step_hours_per_row(inf)
    df = inf.assign(
        month=_month_start(inf["time"]),
        d=inf["demand_tokens_s"] * hours,
        s=inf["served_tokens_s"] * hours,
        h=hours,
    )
    per_time = df.groupby("time").agg(
        month=("month", "first"), d=("d", "sum"), s=("s", "sum"), h=("h", "first")
    )
    m = per_time.groupby("month").sum(numeric_only=True)
    return pd.DataFrame({"demand": m["d"] / m["h"], "served": m["s"] / m["h"]})


def _tokens_traces(go: Any, fig: Any, inf: pd.DataFrame, row: int) -> None:
    m = monthly_tokens(inf)
    for col, color, dash in (("demand", "#111827", "dot"), ("served", "#4C78A8", "solid")):
        fig.add_trace(
            go.Scatter(
                x=m.index,
                y=m[col].to_numpy(),
                name=f"{col}, monthly mean",
                mode="lines+markers",
                line={"color": color, "width": 2, "dash": dash},
                meta={"tokens": col},
                hovertemplate="%{y:,.3s} tokens/s",
                xperiod="M1",
                xperiodalignment="middle",
            ),
            row=row,
            col=1,
        )


def _month_start(times: pd.Series) -> pd.Series:
    t = pd.DatetimeIndex(pd.to_datetime(times, utc=True)).tz_convert(None)
    return pd.Series(t.to_period("M").to_timestamp().tz_localize("UTC"), index=times.index)


def _daily_unserved_pct(inf: pd.DataFrame) -> pd.Series:
    """Share of the day's tokens demanded that went unserved, per UTC day (%)."""
    hours = _step_hours_per_row(inf)
    day = pd.DatetimeIndex(pd.to_datetime(inf["time"], utc=True)).floor("D")
    d = pd.Series(inf["demand_tokens_s"].to_numpy(np.float64) * hours).groupby(day).sum()
    u = (
        pd.Series(
            np.maximum(
                inf["demand_tokens_s"].to_numpy(np.float64) - inf["served_tokens_s"].to_numpy(np.float64), 0.0
            )
            * hours
        )
        .groupby(day)
        .sum()
    )
    return (100.0 * u / d.where(d > 0)).fillna(0.0)


def commitment_burn_down(t: RunTables) -> Plot | None:
    """Per contract with a commitment: cumulative plan, use and cost due, and unused commitment booked."""
    go = plotly_go()
    from plotly.subplots import make_subplots

    led = t.ledger.sort_values(["contract", "month"], kind="stable")
    committed = led.groupby("contract")[["plan_usd", "minimum_accrued_usd"]].sum().sum(axis=1)
    contracts = [c for c in dict.fromkeys(t.ledger["contract"]) if float(committed.get(c, 0.0)) > 0]
    if not contracts:
        return None
    cols = 2 if len(contracts) > 1 else 1
    rows = max(1, math.ceil(len(contracts) / cols))
    titles = []
    for c in contracts:
        first = led[led["contract"] == c].iloc[0]
        titles.append(f"{c} ({first['provider']}, {first['kind']})")
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        vertical_spacing=0.35 / rows,
        horizontal_spacing=0.08,
    )
    lines = (
        ("plan_usd", "planned burn", "#9ca3af", "dash"),
        ("usage_cost_usd", "used", "#4C78A8", "solid"),
        ("cost_due_usd", "due (used + true-ups)", "#111827", "solid"),
    )
    for i, c in enumerate(contracts):
        r, k = i // cols + 1, i % cols + 1
        g = led[led["contract"] == c]
        for col, name, color, dash in lines:
            fig.add_trace(
                go.Scatter(
                    x=g["month"],
                    y=g[col].cumsum().to_numpy(),
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0,
                    mode="lines",
                    line={"color": color, "dash": dash, "width": 2},
                    meta={"contract": c, "column": col, "cumulative": True},
                    hovertemplate="$%{y:,.3s}<extra>" + name + "</extra>",
                ),
                row=r,
                col=k,
            )
        fig.add_trace(
            go.Bar(
                x=g["month"],
                y=g["unused_commitment_usd"].to_numpy(),
                name="unused (booked at true-up)",
                legendgroup="unused",
                showlegend=i == 0,
                marker_color=FAILED_COLOR,
                meta={"contract": c, "column": "unused_commitment_usd", "cumulative": False},
                hovertemplate="$%{y:,.3s}<extra>unused</extra>",
            ),
            row=r,
            col=k,
        )
    fig = style_figure(fig, "USD, cumulative", height=max(320, 250 * rows), hovermode="closest", xtitle=None)
    fig.update_xaxes(title="month")
    fig.update_yaxes(title="USD, cumulative")
    usd_axis(fig)
    fig.update_annotations(font_size=12)
    return Plot(
        "commitment",
        "Commitment burn-down per contract",
        "Per contract with a commitment, cumulative dollars: the planned burn of the commitment, the cost of "
        "GPU-hours used, and the cost due (used plus true-ups); red bars are commitment paid but not used. "
        "On-demand and capacity-block contracts have no commitment and no panel.",
        fig,
    )


def _provider_bars(
    go: Any, spend: pd.DataFrame, years: list[Any], column: str, colors: dict[str, str], hover: str
) -> list[Any]:
    """One bar trace per provider of a `spend` column by year (0 where a provider has no row)."""
    bars = []
    for p in sorted(spend["provider"].dropna().unique()):
        y = spend[spend["provider"] == p].groupby("year")[column].sum().reindex(years, fill_value=0.0)
        bars.append(
            go.Bar(
                x=years,
                y=y.to_numpy(),
                name=p,
                marker_color=colors.get(p, "#999"),
                meta={"provider": p},
                hovertemplate=hover,
            )
        )
    return bars


def spend_vs_revenue(t: RunTables, colors: dict[str, str]) -> Plot | None:
    """Spend by provider on its own axis; revenue against total spend on a log axis (may differ 1000x)."""
    sp, port = t.spend, t.portfolio
    years = sorted(set(sp["year"]) | set(port["year"]))
    if not years or (float(sp["spend_usd"].sum()) <= 0 and float(port["revenue_usd"].sum()) <= 0):
        return None
    go = plotly_go()
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=("Spend by provider", "Revenue against total spend (log scale)"),
    )
    labels = [str(y) for y in years]
    for bar in _provider_bars(go, sp, years, "spend_usd", colors, "$%{y:,.3s}"):
        bar.x = labels
        fig.add_trace(bar, row=1, col=1)
    total = sp.groupby("year")["spend_usd"].sum().reindex(years, fill_value=0.0)
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=total.where(total > 0).to_numpy(),
            name="spend, all providers",
            mode="lines+markers",
            line={"color": "#b91c1c", "width": 2.5},
            meta={"total_spend": True},
            hovertemplate="$%{y:,.3s}",
        ),
        row=1,
        col=2,
    )
    dashes = ("solid", "dash", "dot", "dashdot")
    for i, (scen, g) in enumerate(port.groupby("scenario", sort=True)):
        y = g.groupby("year")["revenue_usd"].sum().reindex(years)
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=y.where(y > 0).to_numpy(),
                name=f"revenue: {scen}",
                mode="lines+markers",
                line={"color": "#111827", "dash": dashes[i % len(dashes)], "width": 2},
                meta={"scenario": scen},
                hovertemplate="$%{y:,.3s}",
            ),
            row=1,
            col=2,
        )
    fig = style_figure(fig, "USD per year", barmode="stack", xtitle="calendar year", hovermode="closest")
    fig.update_xaxes(type="category", title="calendar year")
    usd_axis(fig)
    fig.update_yaxes(type="log", dtick=1, title="USD per year (log scale)", row=1, col=2)
    fig.update_annotations(font_size=13)
    return Plot(
        "spend",
        "Spend by provider against revenue",
        "Left: spend in each calendar year by provider (stacked). Right: total spend against revenue in each "
        "of the scenario's revenue scenarios, on a log axis so that both read when revenue is a thousand "
        "times spend (or the reverse).",
        fig,
    )


def provider_concentration(t: RunTables, colors: dict[str, str]) -> Plot | None:
    sp = t.spend
    years = sorted(set(sp["year"]))
    if not years or float(sp["spend_usd"].sum()) <= 0:
        return None
    go = plotly_go()
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for bar in _provider_bars(go, sp, years, "share_pct", colors, "%{y:.1f}%"):
        fig.add_trace(bar, secondary_y=False)
    port = t.portfolio
    if len(port):
        hhi = port.groupby("year")["hhi"].mean().reindex(years)
        fig.add_trace(
            go.Scatter(
                x=years,
                y=hhi.to_numpy(),
                name="HHI (right axis)",
                mode="lines+markers",
                line={"color": "#111827", "width": 2.5},
                meta={"hhi": True},
                hovertemplate="HHI %{y:,.0f}",
            ),
            secondary_y=True,
        )
    fig = style_figure(fig, "% of the year's spend", barmode="stack", xtitle="calendar year")
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[0, 100], ticksuffix="%", secondary_y=False)
    fig.update_yaxes(range=[0, 10000], title="HHI (0–10,000)", secondary_y=True, showgrid=False)
    return Plot(
        "concentration",
        "Provider concentration",
        "Each provider's share of the year's spend, and the Herfindahl–Hirschman index of those shares "
        "(above 2,500 is highly concentrated; 10,000 is a single provider).",
        fig,
    )
