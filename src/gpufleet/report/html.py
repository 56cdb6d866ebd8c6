"""The HTML report of a run: one self-contained offline file (Plotly JS embedded), read from the store."""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from gpufleet import __version__
from gpufleet.files import atomic_write
from gpufleet.report.context import RunContext, stored_context
from gpufleet.report.figures import Plot, build_plots
from gpufleet.report.findings import Finding, horizon_of
from gpufleet.report.headline import Value, fmt_value, label, ordered_keys, summarize
from gpufleet.report.tables_html import ReportTable, frame_html, report_tables
from gpufleet.store.meta import RunMeta
from gpufleet.tables import RunTables

if TYPE_CHECKING:
    from gpufleet.store.store import Store

PLOT_CONFIG = {"displaylogo": False, "responsive": True}

# The big numbers on top: (key, note shown under it, built from other headline keys)
KPIS: tuple[str, ...] = (
    "gpus_online_peak",
    "utilization_pct",
    "goodput_pct",
    "jobs_finished",
    "spend_usd",
    "unused_commitment_usd",
    "inference_unserved_worst_month_pct",
    "peak_queued_gpus",
)


def write_html_report(store: Store, run_id: str, path: Path) -> Path:
    """Write the run's report to `path` (temp file, then rename) from what the store holds."""
    return write_report(
        store.load_meta(run_id),
        store.load_run(run_id),
        path,
        source=str(store.path),
        context=stored_context(store, run_id),
    )


def write_report(
    meta: RunMeta,
    tables: RunTables,
    path: Path,
    source: str = "",
    context: RunContext | None = None,
    share_plotly: bool = False,
) -> Path:
    """Write a report from a run already read (the store can be closed while this renders).

    share_plotly: Plotly's JS (~4.7 MB) goes once into the report's folder and the report loads it from
    there (still offline), instead of a copy inside every report.
    """
    path = Path(path)
    shared = shared_plotly(path.parent) if share_plotly else None
    text = render_report(meta, tables, source=source, context=context, plotly_src=shared)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), make_parent=True)
    return path


def render_report(
    meta: RunMeta,
    tables: RunTables,
    source: str = "",
    context: RunContext | None = None,
    plotly_src: str | None = None,
) -> str:
    """The report's HTML text: dated findings first, then the figures over the run, tables and plots."""
    ctx = context or RunContext()
    found, h = summarize(tables, ctx)
    plots = build_plots(tables, horizon_of(tables, ctx))
    tabs = report_tables(tables, ctx)
    body = [
        findings_html(found),
        _kpis(h),
        details_html([h], ["value"]),
        _toc(plots, tabs),
        *(section_html(p) for p in plots),
        *(frame_html(t) for t in tabs),
    ]
    return page(
        title=f"gpufleet · {meta.scenario_name} · {meta.run_id}",
        kicker="gpufleet · run report",
        heading=html.escape(meta.scenario_name),
        meta=meta_line(meta),
        body="\n".join(body),
        footer=(
            f"Every figure and plot is read from the results store {html.escape(source)}"
            f" (run {html.escape(meta.run_id)}). Written by gpufleet {html.escape(__version__)}; works "
            "offline."
        ),
        plotly_src=plotly_src,
    )


def shared_plotly(folder: Path) -> str:
    """Plotly's JS written once into `folder` (as plotly-VERSION.min.js, whole or not at all); its name."""
    import plotly
    from plotly.offline import get_plotlyjs

    name = f"plotly-{plotly.__version__}.min.js"
    target = folder / name
    if not target.is_file():
        js = get_plotlyjs()
        atomic_write(target, lambda p: p.write_text(js, encoding="utf-8"), make_parent=True)
    return name


def page(
    *, title: str, kicker: str, heading: str, meta: str, body: str, footer: str, plotly_src: str | None = None
) -> str:
    """The page skeleton with Plotly's JS embedded once (no CDN), or loaded from `plotly_src` beside it."""
    from plotly.offline import get_plotlyjs

    if plotly_src is not None:
        script = f'<script type="text/javascript" src="{html.escape(plotly_src)}"></script>'
    else:
        script = f'<script type="text/javascript">{get_plotlyjs()}</script>'

    template = Template(
        files("gpufleet.report").joinpath("templates/report.html").read_text(encoding="utf-8")
    )
    return template.substitute(
        version=html.escape(__version__),
        title=html.escape(title),
        kicker=html.escape(kicker),
        heading=heading,
        meta=meta,
        body=body,
        footer=footer,
        plotly_script=script,
    )


def meta_line(meta: RunMeta, tag: str = "") -> str:
    """One line of run facts for the page header; `tag` marks the run (A, B) in a comparison."""
    items = [
        ("run", meta.run_id),
        ("status", meta.status),
        ("seed", str(meta.seed)),
        ("started", f"{meta.started:%Y-%m-%d %H:%M} UTC"),
        ("wall time", f"{meta.wall_s:,.1f} s"),
        ("scenario hash", meta.content_hash[:19]),
        ("gpufleet", meta.gpufleet_version),
    ]
    spans = "".join(f"<span>{html.escape(k)} <b>{html.escape(v)}</b></span>" for k, v in items)
    mark = f'<span class="tag">{html.escape(tag)}</span>' if tag else ""
    return f'<div class="meta">{mark}{spans}</div>'


def findings_html(found: list[Finding]) -> str:
    """The findings as a list, each item carrying its kind, subject and date for readers and tests."""
    items = "".join(
        f'<li data-kind="{html.escape(f.kind)}" data-subject="{html.escape(f.subject)}" '
        f'data-date="{html.escape(f.date)}">{html.escape(f.text)}</li>'
        for f in found
    )
    if not items:
        items = "<li>Nothing to report: the run has no inference, training, backlog or money.</li>"
    return (
        '<section class="findings"><h2>Findings</h2><ul>' + items + "</ul>"
        '<p class="note">Dated, from the run\'s tables. The figures below are totals, peaks and averages '
        "over the whole run; wait percentiles count jobs still waiting at the horizon, with their wait "
        "up to it (censored).</p></section>"
    )


def _kpis(h: dict[str, Value]) -> str:
    notes = {
        "gpus_online_peak": f"{fmt_value('gpus_online_end', h.get('gpus_online_end'))} at the end",
        "utilization_pct": f"idle {fmt_value('idle_pct', h.get('idle_pct'))}, "
        f"failed {fmt_value('failed_pct', h.get('failed_pct'))}",
        "goodput_pct": f"{fmt_value('lost_gpu_hours', h.get('lost_gpu_hours'))} lost",
        "jobs_finished": f"of {fmt_value('jobs_submitted', h.get('jobs_submitted'))} submitted; "
        f"{fmt_value('jobs_failed', h.get('jobs_failed'))} failed",
        "spend_usd": fmt_value("usd_per_used_gpu_hour", h.get("usd_per_used_gpu_hour"))
        + " per used GPU-hour",
        "unused_commitment_usd": f"true-ups paid {fmt_value('true_up_usd', h.get('true_up_usd'))}",
        "inference_unserved_worst_month_pct": "average over the run "
        + fmt_value("inference_unserved_pct", h.get("inference_unserved_pct")),
        "peak_queued_gpus": fmt_value("peak_queued_jobs", h.get("peak_queued_jobs"))
        + " jobs waiting at the peak",
    }
    cards = []
    for key in KPIS:
        cards.append(
            f'<div class="kpi" data-key="{key}"><div class="label">{html.escape(label(key))}</div>'
            f'<div class="value">{html.escape(fmt_value(key, h.get(key)))}</div>'
            f'<div class="note">{html.escape(notes[key])}</div></div>'
        )
    return f'<section class="kpis">{"".join(cards)}</section>'


def details_html(heads: list[dict[str, Value]], names: list[str]) -> str:
    """Grouped tables of every headline figure; with two runs, a delta coloured by which way is better."""
    union: dict[str, Value] = {}
    for h in heads:
        union |= {k: v for k, v in h.items() if k not in union}
    groups = []
    for group, keys in ordered_keys(union):
        head = "".join(f'<th class="num">{html.escape(n)}</th>' for n in names)
        if len(heads) == 2:
            head += '<th class="num">Δ (B − A)</th>'
        rows = []
        for key in keys:
            values = [h.get(key) for h in heads]
            if all(v is None for v in values):
                continue
            cells = "".join(f'<td class="num">{html.escape(fmt_value(key, v))}</td>' for v in values)
            if len(heads) == 2:
                cells += _delta_cell(key, values[0], values[1])
            rows.append(f'<tr data-key="{html.escape(key)}"><td>{html.escape(label(key))}</td>{cells}</tr>')
        groups.append(
            f'<div class="group"><h3>{html.escape(group)}</h3><table class="figs">'
            f"<tr><th>figure</th>{head}</tr>{''.join(rows)}</table></div>"
        )
    two = " two" if len(heads) > 1 else ""
    return f'<section class="details{two}">{"".join(groups)}</section>'


def _delta_cell(key: str, a: Value, b: Value) -> str:
    from gpufleet.report.headline import delta_tone, fmt_delta

    text = fmt_delta(key, a, b)
    cls = {1: "good", -1: "bad"}.get(delta_tone(key, a, b), "")
    return f'<td class="num {cls}">{html.escape(text)}</td>'


def _toc(plots: list[Plot], tabs: list[ReportTable]) -> str:
    links = "".join(f'<a href="#sec-{p.id}">{html.escape(p.title)}</a>' for p in plots)
    tables = "".join(f'<a href="#tab-{t.id}">{html.escape(t.title)}</a>' for t in tabs)
    return f'<nav class="toc">Plots: {links}<br>Tables: {tables}</nav>'


def section_html(p: Plot) -> str:
    div = p.figure.to_html(full_html=False, include_plotlyjs=False, div_id=p.id, config=PLOT_CONFIG)
    return (
        f'<section class="plot" id="sec-{p.id}"><h2>{html.escape(p.title)}</h2>'
        f'<p class="caption">{html.escape(p.caption)}</p>{div}</section>'
    )
