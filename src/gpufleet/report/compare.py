"""Two runs compared: headline figures side by side with deltas, and their plots overlaid in one HTML file."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpufleet.files import atomic_write
from gpufleet.report.context import stored_context
from gpufleet.report.figures import (
    Plot,
    per_step,
    plotly_go,
    step_index,
    style_figure,
    thin_queue,
    usd_axis,
)
from gpufleet.report.headline import Value, headline
from gpufleet.report.html import details_html, meta_line, page, section_html
from gpufleet.report.timeline import horizon_end_of
from gpufleet.report.waits import queue_curve
from gpufleet.store.meta import RunMeta
from gpufleet.tables import CLASS_COLUMN, PRIORITY_CLASSES, RunTables

if TYPE_CHECKING:
    from gpufleet.store.store import Store

RUN_STYLE = {"A": {"color": "#1e3a8a", "dash": "solid"}, "B": {"color": "#d97706", "dash": "dash"}}


def stored_headline(store: Store, run_id: str) -> dict[str, Value]:
    """A stored run's headline as its own report shows it (with the context of the scenario it kept)."""
    return headline(store.load_run(run_id), stored_context(store, run_id))


def compare_headlines(store: Store, run_a: str, run_b: str) -> dict[str, dict[str, Value]]:
    """{key: {"a": value, "b": value, "delta": b − a or None}} over the union of both runs' figures."""
    return compare_figures(stored_headline(store, run_a), stored_headline(store, run_b))


def compare_figures(ha: dict[str, Value], hb: dict[str, Value]) -> dict[str, dict[str, Value]]:
    """Two headlines key by key, with B − A where both have a value."""
    out: dict[str, dict[str, Value]] = {}
    for key in ha | {k: v for k, v in hb.items() if k not in ha}:
        a, b = ha.get(key), hb.get(key)
        out[key] = {"a": a, "b": b, "delta": None if a is None or b is None else b - a}
    return out


def write_compare_html(store: Store, run_a: str, run_b: str, path: Path) -> Path:
    """Both runs' headline figures with deltas and overlaid plots in one offline HTML file (temp, rename)."""
    runs = {
        "A": (store.load_meta(run_a), store.load_run(run_a)),
        "B": (store.load_meta(run_b), store.load_run(run_b)),
    }
    heads = (stored_headline(store, run_a), stored_headline(store, run_b))
    return write_compare(runs, path, source=str(store.path), heads=heads)


def write_compare(
    runs: dict[str, tuple[RunMeta, RunTables]],
    path: Path,
    source: str = "",
    heads: tuple[dict[str, Value], dict[str, Value]] | None = None,
) -> Path:
    """Write the comparison from runs already read (the store can be closed while this renders)."""
    text = render_compare(runs, source=source, heads=heads)
    path = Path(path)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), make_parent=True)
    return path


def render_compare(
    runs: dict[str, tuple[RunMeta, RunTables]],
    source: str = "",
    heads: tuple[dict[str, Value], dict[str, Value]] | None = None,
) -> str:
    """`heads`: both runs' headlines as their reports show them (stored_headline); else from the tables."""
    (ma, ta), (mb, tb) = runs["A"], runs["B"]
    plots = overlay_plots({"A": ta, "B": tb})
    ha, hb = heads if heads is not None else (headline(ta), headline(tb))
    body = [
        details_html([ha, hb], ["A", "B"]),
        *(section_html(p) for p in plots),
    ]
    meta = meta_line(ma, "A") + meta_line(mb, "B")
    return page(
        title=f"gpufleet · compare {ma.run_id} vs {mb.run_id}",
        kicker="gpufleet · run comparison (A solid, B dashed)",
        heading=f"{html.escape(ma.scenario_name)} <small>vs</small> {html.escape(mb.scenario_name)}",
        meta=meta,
        body="\n".join(body),
        footer=f"Read from the results store {html.escape(source)}. Δ is B − A; green where B is better.",
    )


def overlay_plots(runs: dict[str, RunTables]) -> list[Plot]:
    """The main plots with both runs on the same axes."""
    return [_capacity(runs), _utilization(runs), _queue(runs), _failures(runs), _cost(runs), _spend(runs)]


def _line(go: Any, run: str, x: Any, y: Any, name: str, **kw: Any) -> Any:
    st = RUN_STYLE[run]
    line = {"color": st["color"], "dash": st["dash"], "width": 2} | kw.pop("line", {})
    return go.Scatter(x=x, y=y, name=f"{run}: {name}", mode="lines", line=line, meta={"run": run}, **kw)


def _capacity(runs: dict[str, RunTables]) -> Plot:
    go = plotly_go()
    fig = go.Figure()
    for run, t in runs.items():
        steps = step_index(t)
        cap = per_step(t.series, ["capacity_gpus"], steps)["capacity_gpus"]
        alloc = per_step(t.series, [f"allocated_{CLASS_COLUMN[c]}_gpus" for c in PRIORITY_CLASSES], steps)
        waiting = per_step(t.queue, ["queued_gpus"], steps)["queued_gpus"]
        fig.add_trace(_line(go, run, steps, cap.to_numpy(), "GPUs online"))
        fig.add_trace(
            _line(
                go,
                run,
                steps,
                (alloc.sum(axis=1) + waiting).to_numpy(),
                "demand",
                line={"width": 1},
                opacity=0.6,
            )
        )
    return Plot(
        "cmp-capacity",
        "Capacity vs demand",
        "GPUs online (all providers) and demand (allocated plus waiting) at each step, both runs.",
        style_figure(fig, "GPUs"),
    )


def _utilization(runs: dict[str, RunTables]) -> Plot:
    go = plotly_go()
    fig = go.Figure()
    for run, t in runs.items():
        steps = step_index(t)
        cols = [f"allocated_{CLASS_COLUMN[c]}_gpus" for c in PRIORITY_CLASSES]
        per = per_step(t.series, [*cols, "capacity_gpus"], steps)
        util = 100 * per[cols].sum(axis=1) / per["capacity_gpus"].where(per["capacity_gpus"] > 0)
        fig.add_trace(_line(go, run, steps, util.to_numpy(), "utilization", hovertemplate="%{y:.1f}%"))
    fig = style_figure(fig, "% of GPUs online allocated", yaxis_range=[0, 100], yaxis_ticksuffix="%")
    return Plot(
        "cmp-utilization",
        "Utilization",
        "Share of online GPUs allocated to any class at each step, both runs.",
        fig,
    )


def _queue(runs: dict[str, RunTables]) -> Plot:
    """GPUs asked for by waiting jobs at every instant (all classes), both runs: true peaks side by side."""
    go = plotly_go()
    fig = go.Figure()
    for run, t in runs.items():
        horizon = horizon_end_of(t)
        if horizon is None or t.jobs.empty:
            continue
        x, y = thin_queue(queue_curve(t.jobs, horizon), "queued_gpus", horizon)
        fig.add_trace(_line(go, run, x, y, "GPUs waiting", line={"width": 1.2, "shape": "hv"}))
    return Plot(
        "cmp-queue",
        "Waiting work",
        "GPUs asked for by jobs waiting for their first start, at every instant (from the jobs table), both "
        "runs; A solid, B dashed.",
        style_figure(fig, "GPUs waiting", hovermode="closest"),
    )


def _failures(runs: dict[str, RunTables]) -> Plot:
    go = plotly_go()
    fig = go.Figure()
    for run, t in runs.items():
        steps = step_index(t)
        fig.add_trace(
            _line(
                go,
                run,
                steps,
                per_step(t.series, ["failed_gpus"], steps)["failed_gpus"].to_numpy(),
                "GPUs down for failures",
                line={"width": 1.2},
            )
        )
    return Plot(
        "cmp-failures",
        "Failures",
        "GPUs down for failures at each step, all providers, both runs.",
        style_figure(fig, "GPUs"),
    )


def _cost(runs: dict[str, RunTables]) -> Plot:
    go = plotly_go()
    fig = go.Figure()
    for run, t in runs.items():
        m = t.ledger.groupby("month")[["cost_due_usd", "unused_commitment_usd"]].sum().sort_index()
        fig.add_trace(_line(go, run, m.index, m["cost_due_usd"].cumsum().to_numpy(), "cost due, cumulative"))
        fig.add_trace(
            _line(
                go,
                run,
                m.index,
                m["unused_commitment_usd"].cumsum().to_numpy(),
                "unused commitment, cumulative",
                line={"width": 1},
            )
        )
    fig = style_figure(fig, "USD")
    usd_axis(fig)
    return Plot(
        "cmp-cost",
        "Cost due and unused commitment",
        "Cumulative cost due over all contracts, and cumulative commitment paid but unused, both runs.",
        fig,
    )


def _spend(runs: dict[str, RunTables]) -> Plot:
    go = plotly_go()
    fig = go.Figure()
    years = sorted(set().union(*(set(t.spend["year"]) for t in runs.values())))
    for run, t in runs.items():
        y = t.spend.groupby("year")["spend_usd"].sum().reindex(years, fill_value=0.0)
        fig.add_trace(
            go.Bar(
                x=[str(v) for v in years],
                y=y.to_numpy(),
                name=f"{run}: spend",
                marker_color=RUN_STYLE[run]["color"],
                meta={"run": run},
            )
        )
    fig = style_figure(fig, "USD per year", barmode="group")
    usd_axis(fig)
    return Plot("cmp-spend", "Spend per year", "Spend per calendar year, all providers, A beside B.", fig)


__all__ = ["compare_figures", "compare_headlines", "stored_headline", "write_compare_html"]
