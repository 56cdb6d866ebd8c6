"""The terminal summary of a run: dated findings first, then the headline table (rich), run id, report."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gpufleet.report.context import RunContext
from gpufleet.report.findings import Finding
from gpufleet.report.headline import (
    Value,
    delta_tone,
    fmt_delta,
    fmt_value,
    label,
    ordered_keys,
    summarize,
)
from gpufleet.store.meta import RunMeta
from gpufleet.tables import RunTables


def print_findings(found: list[Finding], console: Console) -> None:
    """The findings as a list, one per line, wrapped to the terminal."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for f in found:
        grid.add_row("  •", escape(f.text))
    if not found:
        grid.add_row("  •", "nothing to report: the run has no inference, training, backlog or money")
    console.print("[bold]Findings[/bold] (dated, from the run's tables)")
    console.print(grid)


def terminal_summary(
    meta: RunMeta,
    tables: RunTables,
    console: Console,
    report_path: Path | str | None = None,
    context: RunContext | None = None,
) -> dict[str, Value]:
    """Print the run's dated findings, then its headline figures grouped, then its id and report path.

    Returns the headline (the findings are `summarize(tables, context)[0]`).
    """
    found, h = summarize(tables, context)
    console.print(
        f"[bold]{escape(meta.scenario_name)}[/bold] · run {meta.run_id} · seed {meta.seed} · "
        f"{meta.wall_s:,.1f} s"
    )
    print_findings(found, console)
    table = Table(
        title="Over the whole run: totals, peaks and averages (labelled)",
        title_justify="left",
        show_header=False,
        box=None,
        padding=(0, 2),
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    for group, keys in ordered_keys(h):
        shown = [k for k in keys if h[k] is not None]
        if not shown:
            continue
        table.add_row(f"[bold]{escape(group)}[/bold]", "")
        for key in shown:
            table.add_row(f"  {escape(label(key))}", fmt_value(key, h[key]))
    console.print(table)
    console.print(f"run id: [bold]{meta.run_id}[/bold] ({meta.status})")
    if report_path is not None:
        console.print(f"report: {report_path}")
    return h


def compare_table(
    a: tuple[RunMeta, dict[str, Value]], b: tuple[RunMeta, dict[str, Value]], console: Console
) -> None:
    """Two runs' headline figures side by side with B − A; green where B is better, red where worse."""
    (ma, ha), (mb, hb) = a, b
    table = Table(title=f"A = {ma.run_id} ({ma.scenario_name}) · B = {mb.run_id} ({mb.scenario_name})",
                  title_justify="left", box=None, padding=(0, 2))  # fmt: skip
    table.add_column("figure", overflow="fold")  # labels wrap at spaces; figures never split
    table.add_column("A", justify="right", no_wrap=True)
    table.add_column("B", justify="right", no_wrap=True)
    table.add_column("B − A", justify="right", no_wrap=True)
    for group, keys in ordered_keys(ha | {k: v for k, v in hb.items() if k not in ha}):
        shown = [k for k in keys if ha.get(k) is not None or hb.get(k) is not None]
        if not shown:
            continue
        table.add_row(f"[bold]{escape(group)}[/bold]", "", "", "")
        for key in shown:
            va, vb = ha.get(key), hb.get(key)
            delta, tone = fmt_delta(key, va, vb), delta_tone(key, va, vb)
            if tone:  # a delta that rounds to zero stays neutral
                delta = f"[{'green' if tone > 0 else 'red'}]{delta}[/]"
            table.add_row(f"  {escape(label(key))}", fmt_value(key, va), fmt_value(key, vb), delta)
    console.print(table)
