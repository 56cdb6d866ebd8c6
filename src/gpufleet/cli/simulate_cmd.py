"""`gpufleet simulate`: the whole chain (engine, finance, store), then the summary and the HTML report."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from gpufleet.cli import app
from gpufleet.cli.common import (
    JSON_OPT,
    QUIET_OPT,
    SEED_OPT,
    STORE_OPT,
    console,
    fmt_num,
    fmt_usd,
    print_json,
    print_table,
)
from gpufleet.cli.running import simulate_and_store
from gpufleet.errors import InputError
from gpufleet.fleet.capacity import build_capacity
from gpufleet.fleet.summary import QuarterRow, quarterly_capacity
from gpufleet.scenario import load_scenario

REPORT_OPT = typer.Option(
    None, "--report", "-o", help="Where to write the HTML report (default: reports/RUN_ID.html)."
)


def _capacity_table(rows: list[QuarterRow]) -> None:
    """Quarters down, providers across: GPUs online at the quarter's end; then power and list value."""
    providers = list(dict.fromkeys(r.provider for r in rows))
    quarters = list(dict.fromkeys(r.quarter for r in rows))
    by = {(r.provider, r.quarter): r for r in rows}
    table_rows = []
    for q in quarters:
        cells = [by[(p, q)] for p in providers]
        value = sum(c.list_value_usd for c in cells)
        unlisted = any(c.unlisted_gpu_hours for c in cells)
        table_rows.append(
            (q, *(fmt_num(c.gpus_online_end) for c in cells), fmt_num(sum(c.gpus_online_end for c in cells)),
             fmt_num(sum(c.facility_mw_avg for c in cells), 0), fmt_usd(value) + ("*" if unlisted else ""))
        )  # fmt: skip
    cols = ["quarter", *providers, "total GPUs", "facility MW", "list-price value"]
    print_table("GPUs online at quarter end, facility power (average) and list-price value of the capacity",
                cols, table_rows, right=cols[1:])  # fmt: skip
    if any(r.unlisted_gpu_hours for r in rows):
        typer.echo("* partly at the contract price: the catalog has no list price for some products")


@app.command("simulate")
def simulate(
    file: Path | None = typer.Argument(
        None, help="Scenario YAML file (default: the built-in default scenario)."
    ),
    seed: int | None = SEED_OPT,
    store_path: Path = STORE_OPT,
    report: Path | None = REPORT_OPT,
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the HTML report."),
    as_json: bool = JSON_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Simulate a scenario, keep the run in the store, print its summary and write its HTML report."""
    from gpufleet.report import run_context, summarize, terminal_summary, write_html_report
    from gpufleet.store import open_store

    if report is not None and report.is_dir():
        raise InputError("is a folder; expected the report's file path", where=str(report))
    loaded = load_scenario(file)
    capacity = quarterly_capacity(build_capacity(loaded.scenario, loaded.catalog), loaded.catalog)
    result = simulate_and_store(loaded, store_path, seed, quiet or as_json)
    run_id = result.meta.run_id
    report_path = None if no_report else (report or Path("reports") / f"{run_id}.html")
    if report_path is not None:
        with open_store(store_path, read_only=True) as store:
            write_html_report(store, run_id, report_path)
    context = run_context(loaded.scenario, loaded.catalog)
    if as_json:
        found, head = summarize(result.tables, context)
        print_json({"run": result.meta.to_dict(), "store": str(store_path),
                    "report": str(report_path) if report_path else None,
                    "findings": [f.to_dict() for f in found],
                    "headline": head, "trace_jobs_skipped": result.skipped,
                    "capacity_by_quarter": [asdict(r) for r in capacity]})  # fmt: skip
        return
    s = loaded.scenario
    typer.echo(f"Scenario '{s.name}' ({loaded.file}), {s.horizon.start} .. {s.horizon.end}")
    terminal_summary(result.meta, result.tables, console(), report_path, context)  # findings first
    _capacity_table(capacity)
    for stream, reasons in result.skipped.items():
        counts = ", ".join(f"{n:,} {reason.replace('_', ' ')}" for reason, n in reasons.items())
        typer.echo(f"trace stream '{stream}': jobs not simulated: {counts}")
    typer.echo(f"stored as run {run_id} in {store_path}")
