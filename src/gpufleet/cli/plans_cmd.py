"""`gpufleet plans list|show|report`: the plans kept in the results store by `gpufleet plan`."""

from __future__ import annotations

from pathlib import Path

import typer

from gpufleet.cli import command_group
from gpufleet.cli.common import (
    JSON_OPT,
    STORE_OPT,
    check_output_file,
    fmt_num,
    fmt_usd,
    print_json,
    print_table,
    report_path,
)
from gpufleet.cli.plan_print import print_plan

plans_app = command_group("plans", "Plans kept in the results store (gpufleet plan): list, show, report.")

PLAN_ARG = typer.Argument("latest", help="Plan id, a unique prefix of it, or 'latest'.")


@plans_app.command("list")
def list_plans(store: Path = STORE_OPT, as_json: bool = JSON_OPT) -> None:
    """Every stored plan, oldest first: id, scenario, status, cost PV, objective PV."""
    from gpufleet.store import open_store

    if not store.exists():
        if as_json:
            print_json([])
        else:
            typer.echo(f"no plans: {store} does not exist yet (gpufleet plan writes it)")
        return
    with open_store(store, read_only=True, create=False) as st:
        metas = st.list_plans()
    if as_json:
        print_json([m.to_dict() for m in metas])
        return
    rows = [
        [m.plan_id, m.scenario_name, f"{m.created:%Y-%m-%d %H:%M}", m.status, fmt_usd(m.cost_pv_usd),
         fmt_usd(m.objective_pv_usd)]
        for m in metas
    ]  # fmt: skip
    cols = ["plan", "scenario", "created (UTC)", "status", "cost PV", "objective PV"]
    print_table("Plans", cols, rows or [["-"] * len(cols)], ["cost PV", "objective PV"])


@plans_app.command("show")
def show(plan: str = PLAN_ARG, store: Path = STORE_OPT, as_json: bool = JSON_OPT) -> None:
    """A stored plan as `gpufleet plan` printed it, with its signed options and allocation."""
    from gpufleet.plan.run import routing_by_quarter
    from gpufleet.store import open_store

    with open_store(store, read_only=True, create=False) as st:
        stored = st.load_plan(plan)
    if as_json:
        print_json(
            {**stored.figures, **stored.meta.to_dict(),
             "allocation": stored.allocation.to_dict(orient="records")}
        )  # fmt: skip
        return
    m = stored.meta
    when = f"{m.created:%Y-%m-%d %H:%M} UTC"
    typer.echo(f"plan {m.plan_id} of scenario '{m.scenario_name}' (hash {m.content_hash}), {when}")
    extra_mw = float(stored.figures.get("extra_mw", 1000.0))
    print_plan(stored.figures, routing_by_quarter(stored.allocation), extra_mw)
    typer.echo(f"{fmt_num(len(stored.allocation))} allocation rows (class, target, month): --json")


@plans_app.command("report")
def report(
    plan: str = PLAN_ARG,
    store: Path = STORE_OPT,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="HTML file to write, self-contained (default: reports/PLAN.html)."
    ),
    run: str | None = typer.Option(
        None,
        "--run",
        metavar="ID",
        help="Add planned vs simulated use and cash of this run (simulate --plan).",
    ),
) -> None:
    """Write a stored plan's HTML page: what to sign, allocation by provider and quarter, cash, values."""
    from gpufleet.report.plan_compare import plan_vs_run
    from gpufleet.report.plan_page import versus_table, write_plan_report
    from gpufleet.store import open_store

    check_output_file(output or report_path("check"), "-o")
    extra = []
    with open_store(store, read_only=True, create=False) as st:
        stored = st.load_plan(plan)
        if run is not None:
            run_id = st.resolve(run)
            extra.append(versus_table(plan_vs_run(stored, st.load_run(run_id)), run_id))
    path = output or report_path(stored.meta.plan_id)
    write_plan_report(stored, path, str(store), share_plotly=output is None, extra=extra)
    typer.echo(f"report of plan {stored.meta.plan_id}: {path}")
