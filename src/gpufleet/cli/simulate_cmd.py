"""`gpufleet simulate`: the whole chain (engine, finance, store), then the summary and the HTML report."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
import typer

from gpufleet.cli import app
from gpufleet.cli.common import (
    JSON_OPT,
    QUIET_OPT,
    SEED_OPT,
    STORE_OPT,
    check_output_file,
    console,
    fmt_num,
    fmt_usd,
    print_json,
    print_table,
    records,
    report_path,
)
from gpufleet.cli.running import check_fits, simulate_and_store, working
from gpufleet.fleet.capacity import build_capacity
from gpufleet.fleet.summary import QuarterRow, quarterly_capacity
from gpufleet.fleet.usable import usable_contracts
from gpufleet.scenario import load_scenario, with_case
from gpufleet.sched.planned import PlanMonth
from gpufleet.workload.training_gap import TrainingGap, scenario_training_gaps

REPORT_OPT = typer.Option(
    None,
    "--report",
    "-o",
    help="Where to write the HTML report, self-contained (default: reports/RUN_ID.html, which loads "
    "Plotly's JS from one shared file in reports/).",
)


def _capacity_table(rows: list[QuarterRow]) -> None:
    """Quarters down, providers across: GPUs online at the quarter's end; then power and contract value."""
    providers = list(dict.fromkeys(r.provider for r in rows))
    quarters = list(dict.fromkeys(r.quarter for r in rows))
    by = {(r.provider, r.quarter): r for r in rows}
    table_rows = []
    for q in quarters:
        cells = [by[(p, q)] for p in providers]
        table_rows.append(
            (q, *(fmt_num(c.gpus_online_end) for c in cells), fmt_num(sum(c.gpus_online_end for c in cells)),
             fmt_num(sum(c.facility_mw_avg for c in cells), 0),
             fmt_usd(sum(c.contract_value_usd for c in cells)))
        )  # fmt: skip
    cols = ["quarter", *providers, "total GPUs", "facility MW", "at contract price"]
    print_table("GPUs online at quarter end, facility power (average), capacity at contract prices",
                cols, table_rows, right=cols[1:])  # fmt: skip
    typer.echo(
        "at contract price = GPU-hours online x the contract's price per GPU-hour (what reserved capacity"
        " bills); list prices are in --json (list_value_usd, for the products the catalog lists)"
    )
    unusable = sum(r.unusable_gpu_hours for r in rows)
    if unusable:
        typer.echo(f"not counted as online: {unusable / 1e6:,.1f}M GPU-hours that no workload may use")


def _training_table(gaps: list[TrainingGap]) -> None:
    """Each training run: estimate vs simulation, and the gap in days by cause."""

    def days(x: float) -> str:
        return f"{x:,.1f}"

    def part(x: float) -> str:
        text = f"{x:,.2f}"
        return "0.00" if text == "-0.00" else text

    rows = [
        (g.name + ("" if g.finished else f" ({g.state})"),
         f"{days(g.estimated_days)} / {days(g.simulated_days)}{'' if g.finished else '+'}",
         f"{g.estimated_goodput:.1%} / " + ("-" if g.simulated_goodput != g.simulated_goodput
                                             else f"{g.simulated_goodput:.1%}"),
         f"{fmt_usd(g.estimated_lost_gpu_hours)[1:]} / {fmt_usd(g.simulated_lost_gpu_hours)[1:]}",
         f"{fmt_usd(g.estimated_cost_usd)} / {fmt_usd(g.simulated_cost_usd)}"
         if g.estimated_cost_usd is not None and g.simulated_cost_usd is not None else "-",
         part(g.wait_before_start_days), part(g.requeued_wait_days), part(g.preemption_days),
         part(g.failures_days), part(g.other_days))
        for g in gaps
    ]  # fmt: skip
    cols = ["training run", "days est / sim", "goodput est / sim", "lost GPU-h est / sim",
            "cost est / sim", "wait", "requeued", "preempted", "failures", "other"]  # fmt: skip
    print_table("Training runs: estimate (gpufleet estimate training) vs simulation; gap in days by cause",
                cols, rows, right=cols[1:])  # fmt: skip
    typer.echo(
        "gap = wait before start + requeued waits + preemption losses + (failures as drawn - expected)"
        " + other (expected time of the work not done at the horizon);"
        " '+' marks a run unfinished at the horizon"
    )


@app.command("simulate")
def simulate(
    file: Path | None = typer.Argument(
        None, help="Scenario YAML file (default: the built-in default scenario)."
    ),
    seed: int | None = SEED_OPT,
    store_path: Path = STORE_OPT,
    report: Path | None = REPORT_OPT,
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the HTML report."),
    force: bool = typer.Option(
        False, "--force", help="Run even when the estimated size does not fit this machine's memory."
    ),
    as_json: bool = JSON_OPT,
    quiet: bool = QUIET_OPT,
    case: str | None = typer.Option(
        None, "--case", help="Revenue case whose path drives the demand (default: the scenario's base case)."
    ),
    plan: str | None = typer.Option(
        None,
        "--plan",
        metavar="PLAN",
        help="A stored plan (id, prefix or 'latest', from `gpufleet plan FILE`): its signed options become "
        "contracts and jobs follow its monthly allocation (provider policy `plan`).",
    ),
) -> None:
    """Simulate a scenario, keep the run in the store, print its summary and write its HTML report."""
    from gpufleet.report import run_context, summarize, terminal_summary, write_report
    from gpufleet.store import open_store

    if not no_report:  # checked before the work, not after it
        check_output_file(report or report_path("check"), "--report")
    planned = load_scenario(file)
    loaded = with_case(planned, case)
    months: list[PlanMonth] = []
    plan_id = None
    if plan is not None:
        from gpufleet.plan.follow import follow_plan

        with open_store(store_path, read_only=True, create=False) as st:
            stored = st.load_plan(plan)
        plan_id = stored.meta.plan_id
        loaded, months = follow_plan(loaded, planned, stored, case)
    check_fits(loaded, force)
    timeline = build_capacity(loaded.scenario, loaded.catalog)
    capacity = quarterly_capacity(timeline, loaded.catalog, usable_contracts(loaded.scenario))
    result = simulate_and_store(loaded, store_path, seed, quiet or as_json, plan_id, months)
    horizon_end = pd.Timestamp(timeline.start, tz="UTC") + pd.Timedelta(days=timeline.days)
    prices = {c.name: c.price_per_gpu_hour_usd for c in timeline.contracts}
    gaps = scenario_training_gaps(result.tables.jobs, loaded.scenario, loaded.catalog, prices, horizon_end)
    run_id = result.meta.run_id
    report_file = None if no_report else (report or report_path(run_id))
    context = run_context(loaded.scenario, loaded.catalog)
    if report_file is not None:
        with open_store(store_path, read_only=True) as store:  # read, close, then render
            meta, tables = store.load_meta(run_id), store.load_run(run_id)
        with working(quiet or as_json, "writing the report"):
            write_report(meta, tables, report_file, str(store_path), context, share_plotly=report is None)
    if as_json:
        found, head = summarize(result.tables, context)
        print_json({"run": result.meta.to_dict(), "store": str(store_path), "plan_id": plan_id,
                    "report": str(report_file) if report_file else None,
                    "findings": [f.to_dict() for f in found],
                    "headline": head, "trace_jobs_skipped": result.skipped,
                    "capacity_by_quarter": [asdict(r) for r in capacity],
                    "training_runs": [g.to_dict() for g in gaps],
                    "unmet": records(result.tables.unmet)})  # fmt: skip
        return
    s = loaded.scenario
    run_case = s.finance.default_case
    on_case = f", revenue case '{run_case}'" if run_case else ""
    typer.echo(f"Scenario '{s.name}' ({loaded.file}), {s.horizon.start} .. {s.horizon.end}{on_case}")
    terminal_summary(result.meta, result.tables, console(), report_file, context)  # findings first
    _capacity_table(capacity)
    if gaps:
        _training_table(gaps)
    for stream, reasons in result.skipped.items():
        counts = ", ".join(f"{n:,} {reason.replace('_', ' ')}" for reason, n in reasons.items())
        typer.echo(f"trace stream '{stream}': jobs not simulated: {counts}")
    followed = f", following plan {plan_id} (gpufleet compare {plan_id} {run_id})" if plan_id else ""
    typer.echo(f"stored as run {run_id} in {store_path}{followed}")
