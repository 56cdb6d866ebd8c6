"""The report's plots, built from a run's tables only; each comes with a title and a one-line caption."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gpufleet.report.headline import JOB_CLASSES
from gpufleet.tables import CLASS_COLUMN, PRIORITY_CLASSES, RunTables

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756", "#72B7B2", "#EECA3B", "#9D755D")
CLASS_COLORS = {
    "inference": "#4C78A8",
    "training": "#F58518",
    "research": "#54A24B",
    "best-effort": "#B279A2",
}
FAILED_COLOR, IDLE_COLOR = "#E45756", "#D5D0CB"
WAIT_QUANTILES = np.linspace(0.0, 1.0, 101)
WAIT_FLOOR_H = 1.0 / 60.0  # on a log axis a zero wait would vanish: waits under a minute are drawn at one


@dataclass(frozen=True, slots=True)
class Plot:
    """One plot of the report: a stable id (the div's id), title, caption and the Plotly figure."""

    id: str
    title: str
    caption: str
    figure: Any


def provider_colors(providers: list[str]) -> dict[str, str]:
    return {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(sorted(providers))}


def build_plots(t: RunTables) -> list[Plot]:
    """Every plot of a run's report, in reading order."""
    colors = provider_colors(sorted(set(t.series["provider"].dropna()) | set(t.spend["provider"].dropna())))
    return [
        capacity_vs_demand(t, colors),
        utilization_by_class(t),
        wait_distribution(t),
        failures_and_goodput(t, colors),
        inference_served(t),
        commitment_burn_down(t),
        spend_vs_revenue(t, colors),
        provider_concentration(t, colors),
    ]


# ----------------------------------------------------------------------------------------- helpers


def plotly_go() -> Any:
    import plotly.graph_objects as go  # heavy: imported when a report is drawn, not at --help

    return go


def style_figure(fig: Any, ytitle: str, height: int = 380, **layout: Any) -> Any:
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
    return fig


def usd_axis(fig: Any, **where: Any) -> None:
    fig.update_yaxes(tickprefix="$", exponentformat="B", showexponent="all", **where)


def _empty(fig: Any, what: str) -> Any:
    fig.add_annotation(
        text=f"no {what} in this run",
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"size": 14, "color": "#6b7280"},
    )
    return fig


def step_index(t: RunTables) -> pd.DatetimeIndex:
    """The run's reporting steps (from `series`), in order."""
    return pd.DatetimeIndex(sorted(t.series["time"].unique()))


def per_step(df: pd.DataFrame, cols: list[str], steps: pd.DatetimeIndex) -> pd.DataFrame:
    return df.groupby("time")[cols].sum().reindex(steps, fill_value=0.0)


# ------------------------------------------------------------------------------------------- plots


def capacity_vs_demand(t: RunTables, colors: dict[str, str]) -> Plot:
    go = plotly_go()
    fig = go.Figure()
    steps = step_index(t)
    s = t.series
    for p in sorted(s["provider"].dropna().unique()):
        y = per_step(s[s["provider"] == p], ["capacity_gpus"], steps)["capacity_gpus"]
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=y.to_numpy(),
                name=p,
                stackgroup="capacity",
                mode="lines",
                line={"width": 0.6, "color": colors[p]},
                meta={"provider": p},
                hovertemplate="%{y:,.0f} GPUs",
            )
        )
    if len(steps):
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
    else:
        _empty(fig, "capacity")
    return Plot(
        "capacity",
        "Capacity vs demand",
        "GPUs online by provider at each reporting step (stacked), against demand: GPUs allocated plus "
        "GPUs asked for by jobs still waiting.",
        style_figure(fig, "GPUs"),
    )


def utilization_by_class(t: RunTables) -> Plot:
    go = plotly_go()
    fig = go.Figure()
    steps = step_index(t)
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
    if not len(steps):
        _empty(fig, "capacity")
    return Plot(
        "utilization",
        "Utilization and idle by class",
        "Share of online GPUs at each step that were allocated to each priority class, down for failures, "
        "or idle; the layers add up to the capacity.",
        style_figure(fig, "% of GPUs online", yaxis_range=[0, 100], yaxis_ticksuffix="%"),
    )


def wait_quantiles(t: RunTables, cls: str) -> np.ndarray:
    """Quantiles (0, 1, ..., 100 %) of the wait in hours of the class's jobs that started."""
    j = t.jobs
    w = j.loc[j["start"].notna() & (j["class"] == cls), "wait_s"].dropna().to_numpy(dtype="float64")
    return np.quantile(w / 3600.0, WAIT_QUANTILES) if len(w) else np.zeros(0)


def wait_distribution(t: RunTables) -> Plot:
    go = plotly_go()
    fig = go.Figure()
    j = t.jobs
    for c in JOB_CLASSES:
        q = wait_quantiles(t, c)
        if not len(q):
            continue
        n = int((j["start"].notna() & (j["class"] == c)).sum())
        fig.add_trace(
            go.Scatter(
                x=np.maximum(q, WAIT_FLOOR_H),
                y=100 * WAIT_QUANTILES,
                name=f"{c} ({n:,} job{'' if n == 1 else 's'})",
                mode="lines",
                line={"color": CLASS_COLORS[c], "width": 2.5, "shape": "hv"},
                meta={"class": c, "jobs": n},
                hovertemplate="%{y:.0f}% waited ≤ %{x:,.2f} h<extra>" + c + "</extra>",
            )
        )
    if not fig.data:
        _empty(fig, "started jobs")
    fig = style_figure(fig, "% of started jobs", hovermode="closest")
    fig.update_xaxes(type="log", title="wait before first start (hours, log scale)")
    fig.update_yaxes(range=[0, 101], ticksuffix="%")
    return Plot(
        "wait",
        "Wait before start, by class",
        "Share of each class's started jobs that waited at most a given time before their first start "
        "(log scale; waits under a minute drawn at one minute; jobs still queued at the horizon are in the "
        "headline figures).",
        fig,
    )


def failures_and_goodput(t: RunTables, colors: dict[str, str]) -> Plot:
    go = plotly_go()
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.64, 0.36],
        horizontal_spacing=0.1,
        subplot_titles=("GPUs down for failures", "GPU-hours lost, and goodput, by class"),
    )
    steps = step_index(t)
    s = t.series
    for p in sorted(s["provider"].dropna().unique()):
        y = per_step(s[s["provider"] == p], ["failed_gpus"], steps)["failed_gpus"]
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=y.to_numpy(),
                name=f"{p} failed",
                mode="lines",
                line={"color": colors[p], "width": 1.2},
                meta={"provider": p},
                hovertemplate="%{y:,.0f} GPUs",
            ),
            row=1,
            col=1,
        )
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
        col=2,
    )
    fig = style_figure(fig, "GPUs", height=400)
    fig.update_yaxes(title="GPU-hours", row=1, col=2)
    fig.update_annotations(font_size=13)
    return Plot(
        "failures",
        "Failures and goodput",
        "Left: GPUs down for failures at each step, by provider. Right: GPU-hours of work lost to failures "
        "and preemptions (redone work and restarts) by class, with the goodput that leaves.",
        fig,
    )


def _step_hours_per_row(df: pd.DataFrame) -> np.ndarray:
    from gpufleet.report.timeline import step_hours

    if not len(df):
        return np.zeros(0)
    return df["time"].map(step_hours(df["time"])).to_numpy(dtype="float64")


def inference_served(t: RunTables) -> Plot:
    go = plotly_go()
    fig = go.Figure()
    steps = step_index(t)
    inf = t.inference
    if len(inf):
        steps = pd.DatetimeIndex(sorted(inf["time"].unique()))
        per = per_step(inf, ["demand_tokens_s", "served_tokens_s"], steps)
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=per["served_tokens_s"].to_numpy(),
                name="served",
                mode="lines",
                fill="tozeroy",
                line={"color": "#4C78A8", "width": 1.5},
                meta={"column": "served_tokens_s"},
                hovertemplate="%{y:,.3s} tokens/s",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=per["demand_tokens_s"].to_numpy(),
                name="demand",
                mode="lines",
                line={"color": "#111827", "width": 1.5, "dash": "dot"},
                meta={"column": "demand_tokens_s"},
                hovertemplate="%{y:,.3s} tokens/s",
            )
        )
    else:
        _empty(fig, "inference services")
    return Plot(
        "inference",
        "Inference demand and service",
        "Tokens per second demanded and served, all services and regions together, at each reporting "
        "step; the gap between the lines is unserved demand.",
        style_figure(fig, "tokens / s"),
    )


def commitment_burn_down(t: RunTables) -> Plot:
    go = plotly_go()
    from plotly.subplots import make_subplots

    led = t.ledger.sort_values(["contract", "month"], kind="stable")
    contracts = list(dict.fromkeys(t.ledger["contract"]))
    cols = 2 if len(contracts) > 1 else 1
    rows = max(1, math.ceil(len(contracts) / cols))
    titles = []
    for c in contracts:
        first = led[led["contract"] == c].iloc[0]
        titles.append(f"{c} ({first['provider']}, {first['kind']})")
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles or None,
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
    if not contracts:
        _empty(fig, "contracts")
    fig = style_figure(fig, "", height=max(320, 250 * rows), hovermode="closest")
    usd_axis(fig)
    fig.update_annotations(font_size=12)
    return Plot(
        "commitment",
        "Commitment burn-down per contract",
        "Per contract, cumulative dollars: the planned burn of the commitment, the cost of GPU-hours used, "
        "and "
        "the cost due (used plus true-ups); red bars are commitment paid but not used.",
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


def spend_vs_revenue(t: RunTables, colors: dict[str, str]) -> Plot:
    go = plotly_go()
    fig = go.Figure()
    sp, port = t.spend, t.portfolio
    years = sorted(set(sp["year"]) | set(port["year"]))
    for bar in _provider_bars(go, sp, years, "spend_usd", colors, "$%{y:,.3s}"):
        fig.add_trace(bar)
    dashes = ("solid", "dash", "dot", "dashdot")
    for i, (scen, g) in enumerate(port.groupby("scenario", sort=True)):
        y = g.groupby("year")["revenue_usd"].sum().reindex(years)
        fig.add_trace(
            go.Scatter(
                x=years,
                y=y.to_numpy(),
                name=f"revenue: {scen}",
                mode="lines+markers",
                line={"color": "#111827", "dash": dashes[i % len(dashes)], "width": 2},
                meta={"scenario": scen},
                hovertemplate="$%{y:,.3s}",
            )
        )
    if not years:
        _empty(fig, "spend")
    fig = style_figure(fig, "USD per year", barmode="stack")
    fig.update_xaxes(type="category")
    usd_axis(fig)
    return Plot(
        "spend",
        "Spend by provider against revenue",
        "Spend in each calendar year by provider (stacked bars) against revenue in each of the scenario's "
        "revenue scenarios (lines).",
        fig,
    )


def provider_concentration(t: RunTables, colors: dict[str, str]) -> Plot:
    go = plotly_go()
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    sp = t.spend
    years = sorted(set(sp["year"]))
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
    if not years:
        _empty(fig, "spend")
    fig = style_figure(fig, "% of the year's spend", barmode="stack")
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
