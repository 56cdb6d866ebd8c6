"""Charts of uncertainty: a tornado (any labelled low/high effects) and fans of quantiles, and a sweep's page.

`tornado(labels, low, high)` is general: a sweep draws each input's effect on a metric from its
samples; a stress table can draw each stress's effect the same way.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gpufleet.files import atomic_write
from gpufleet.report.figures import PALETTE, Plot, plotly_go, style_figure
from gpufleet.report.html import page, section_html, shared_plotly
from gpufleet.report.tables_html import ReportTable, frame_html
from gpufleet.report.units import usd_text

LOW_COLOR, HIGH_COLOR = "#4C78A8", "#E45756"


def tornado(
    labels: Sequence[str],
    low: Sequence[float],
    high: Sequence[float],
    xtitle: str = "change",
    base: float = 0.0,
) -> Any:
    """Horizontal bars from `base` to each label's low and high, the widest swing on top."""
    go = plotly_go()
    rows = sorted(zip(labels, low, high, strict=True), key=lambda r: abs(r[2] - r[1]))
    fig = go.Figure()
    ends = (("low", [r[1] for r in rows], LOW_COLOR), ("high", [r[2] for r in rows], HIGH_COLOR))
    for name, end, color in ends:
        fig.add_bar(
            y=[r[0] for r in rows],
            x=[e - base for e in end],
            base=base,
            orientation="h",
            name=name,
            marker_color=color,
        )
    style_figure(
        fig, "", height=max(260, 60 + 36 * len(rows)), xtitle=xtitle, barmode="overlay", hovermode="y unified"
    )
    return fig


def fan(
    x: Sequence[str], bands: Mapping[str, Sequence[float | None]], ytitle: str, xtitle: str = "year"
) -> Any:
    """A fan chart: the P10-P90 band shaded and the P50 line, over `x` (years)."""
    go = plotly_go()
    fig = go.Figure()
    fig.add_scatter(
        x=list(x), y=list(bands["p90"]), mode="lines", line={"width": 0}, name="P90", showlegend=False
    )
    fig.add_scatter(
        x=list(x),
        y=list(bands["p10"]),
        mode="lines",
        line={"width": 0},
        fill="tonexty",
        fillcolor="rgba(76,120,168,0.25)",
        name="P10-P90",
    )
    fig.add_scatter(
        x=list(x), y=list(bands["p50"]), mode="lines+markers", line={"color": PALETTE[0]}, name="P50"
    )
    return style_figure(fig, ytitle, xtitle=xtitle)


def distribution(values: Sequence[float], name: str) -> Any:
    """A metric's samples as a box with every point (for a figure with no yearly values)."""
    go = plotly_go()
    fig = go.Figure()
    fig.add_box(
        x=list(values), name=name, boxpoints="all", jitter=0.4, marker_color=PALETTE[0], orientation="h"
    )
    return style_figure(fig, "", height=220, xtitle=name, showlegend=False)


def sweep_plots(summary: dict[str, Any], samples: Any) -> list[Plot]:
    """The sweep page's plots: fans of yearly figures, each metric's spread, a tornado per metric."""
    plots: list[Plot] = []
    for figure, by_year in summary["yearly"].items():
        years = list(by_year)
        bands = {k: [by_year[y][k] for y in years] for k in ("p10", "p50", "p90")}
        plots.append(
            Plot(
                f"fan-{figure}",
                f"{figure} by year: P10-P90 and P50",
                "Quantiles over the finished samples, year by year.",
                fan(years, bands, figure),
            )
        )
    ok = samples[samples["error"].isna()] if len(samples) else samples
    for metric, q in summary["metrics"].items():
        if q["p50"] is None:
            continue
        plots.append(
            Plot(
                f"dist-{metric}",
                f"{metric}: every sample",
                f"P10 {q['p10']:,.4g}, P50 {q['p50']:,.4g}, P90 {q['p90']:,.4g}.",
                distribution(ok[metric].tolist(), metric),
            )
        )
        effects = [s for s in summary["sensitivity"] if s["metric"] == metric and s["spearman"] is not None]
        if effects:
            labels = [e["input"] for e in effects]
            lows = [min(0.0, e["spearman"]) for e in effects]
            highs = [max(0.0, e["spearman"]) for e in effects]
            plots.append(
                Plot(
                    f"tornado-{metric}",
                    f"What drives {metric}",
                    "Spearman rank correlation of each input with the metric over the samples.",
                    tornado(labels, lows, highs, xtitle="rank correlation"),
                )
            )
    return plots


def _value(metric: str, x: float | None) -> str:
    if x is None:
        return "–"
    return usd_text(x) if metric.endswith("_usd") else f"{x:,.2f}"


def sweep_tables(summary: dict[str, Any]) -> list[ReportTable]:
    """The figures behind the charts: each metric's quantiles, and each input's effect on each metric."""
    import pandas as pd

    quantiles = pd.DataFrame(
        [{"metric": m, **{k: _value(m, q[k]) for k in ("p10", "p50", "p90", "mean")}}
         for m, q in summary["metrics"].items()]
    )  # fmt: skip
    metrics = list(summary["metrics"])
    by = {(e["input"], e["metric"]): e for e in summary["sensitivity"]}

    def effect(e: dict[str, Any]) -> str:
        r, f = e["spearman"], e["first_order"]
        return f"{'–' if r is None else f'{r:+.2f}'} / {'–' if f is None else f'{f:.2f}'}"

    inputs = list(dict.fromkeys(e["input"] for e in summary["sensitivity"]))
    effects = pd.DataFrame([{"input": i, **{m: effect(by[(i, m)]) for m in metrics}} for i in inputs])
    return [
        ReportTable("quantiles", "Metrics: P10, P50, P90 and mean", "Over the finished samples.", quantiles),
        ReportTable("sensitivity", "What drives what: rank correlation / first-order index",
                    summary["sensitivity_estimator"], effects),
    ]  # fmt: skip


def write_sweep_report(
    record: dict[str, Any], summary: dict[str, Any], samples: Any, path: Path, share_plotly: bool = False
) -> Path:
    """The sweep's HTML page, self-contained unless `share_plotly` (Plotly's JS beside it, shared)."""
    shared = shared_plotly(path.parent) if share_plotly else None
    text = render_sweep_report(record, summary, samples, shared)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), make_parent=True)
    return path


def render_sweep_report(
    record: dict[str, Any], summary: dict[str, Any], samples: Any, plotly_src: str | None = None
) -> str:
    """The sweep page's HTML: fans, spreads and tornados, Plotly embedded unless `plotly_src` names it."""
    plots = sweep_plots(summary, samples)
    counts = summary["samples"]
    probs = summary["probabilities"]

    def pct(p: float | None) -> str:
        return "-" if p is None or math.isnan(p) else f"{100 * p:.1f}%"

    facts = (
        f"{counts['finished']} of {counts['planned']} samples finished, {counts['failed']} failed; "
        f"P(funding need > ${probs['funding_need_above']['threshold_usd']:,.0f}) = "
        f"{pct(probs['funding_need_above']['probability'])}; "
        f"P(unused commitment > ${probs['unused_commitment_above']['threshold_usd']:,.0f}) = "
        f"{pct(probs['unused_commitment_above']['probability'])}"
    )
    tables = "".join(frame_html(t) for t in sweep_tables(summary))
    body = f'<p class="caption">{html.escape(facts)}</p>{tables}' + "".join(section_html(p) for p in plots)
    meta = html.escape(
        f"sweep {record['sweep_id']} · scenario {record['scenario_name']} ({record['content_hash']}) · "
        f"{record['fidelity']} fidelity · seed {record['seed']} · {record['sampling']} sampling"
    )
    return page(
        title=f"gpufleet sweep {record['sweep_id']}",
        kicker="gpufleet sweep",
        heading=html.escape(record["scenario_name"]),
        meta=meta,
        body=body,
        footer=html.escape(summary["sensitivity_estimator"]),
        plotly_src=plotly_src,
    )
