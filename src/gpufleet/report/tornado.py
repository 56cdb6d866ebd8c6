"""A tornado chart: each stress's change of a few metrics, one panel per metric, largest effect on top.

Takes plain rows (stress, change) per metric, so the what-if stresses and a sweep's sensitivities can
both draw it; the page is the reports' own skeleton, Plotly's JS embedded or shared beside it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gpufleet.files import atomic_write
from gpufleet.report.units import usd_text

Bars = Sequence[tuple[str, float]]  # (label, change), largest effect first


def _unit(metric: str) -> tuple[float, str]:
    return (1.0, "pp") if metric.endswith("_pct") else (1e9, "$B")


def tornado_figure(panels: Mapping[str, Bars], labels: Mapping[str, str]) -> Any:
    """One horizontal bar panel per metric (changes in $B or percentage points)."""
    from plotly.subplots import make_subplots

    names = list(panels)
    fig = make_subplots(
        rows=len(names), cols=1, subplot_titles=[f"{labels.get(n, n)} ({_unit(n)[1]})" for n in names]
    )
    for i, metric in enumerate(names, start=1):
        scale, _ = _unit(metric)
        bars = list(reversed(panels[metric]))  # plotly draws the first bar at the bottom
        fig.add_bar(
            row=i,
            col=1,
            y=[b[0] for b in bars],
            x=[b[1] / scale for b in bars],
            orientation="h",
            marker_color=["#b2182b" if b[1] > 0 else "#2166ac" for b in bars],
            showlegend=False,
            hovertemplate="%{y}: %{x:+,.2f}<extra></extra>",
        )
    fig.update_layout(height=max(320, 60 + len(names) * (40 + 22 * max(len(p) for p in panels.values()))))
    return fig


def write_tornado(
    path: Path,
    panels: Mapping[str, Bars],
    labels: Mapping[str, str],
    title: str,
    notes: Sequence[str],
    share_plotly: bool = False,
) -> Path:
    """The tornado as an HTML page (written whole or not at all)."""
    from gpufleet.report.html import shared_plotly

    shared = shared_plotly(path.parent) if share_plotly else None
    text = render_tornado(panels, labels, title, notes, shared)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), make_parent=True)
    return path


def render_tornado(
    panels: Mapping[str, Bars],
    labels: Mapping[str, str],
    title: str,
    notes: Sequence[str],
    plotly_src: str | None = None,
) -> str:
    """The tornado page's HTML: Plotly's JS embedded (works offline) unless `plotly_src` names it."""
    from gpufleet.report.html import PLOT_CONFIG, page

    fig = tornado_figure(panels, labels)
    div = fig.to_html(full_html=False, include_plotlyjs=False, div_id="tornado", config=PLOT_CONFIG)
    rows = (
        "".join(
            f"<tr><td>{html.escape(name)}</td>"
            + "".join(f"<td>{html.escape(_cell(m, dict(panels[m]).get(name, 0.0)))}</td>" for m in panels)
            + "</tr>"
            for name, _ in sorted(next(iter(panels.values())), key=lambda b: b[0])
        )
        if panels
        else ""
    )
    head = "".join(f"<th>{html.escape(labels.get(m, m))}</th>" for m in panels)
    body = (
        f"<section><h2>{html.escape(title)}</h2>{div}"
        f"<table><thead><tr><th>stress</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
        + "".join(f"<p>{html.escape(n)}</p>" for n in notes)
        + "</section>"
    )
    return page(
        title=title, kicker="gpufleet what-if", heading=html.escape(title), meta="", body=body,
        footer="", plotly_src=plotly_src,
    )  # fmt: skip


def _cell(metric: str, value: float) -> str:
    if metric.endswith("_pct"):
        return f"{value:+,.2f} pp"
    return ("+" if value > 0 else "−" if value < 0 else "±") + usd_text(abs(value))
