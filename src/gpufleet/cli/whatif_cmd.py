"""`gpufleet whatif`: a stored run's scenario changed (--set) or stressed (--stress), answered by the fluid
model in seconds beside the run's own figures, or re-simulated in full (--fidelity full)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gpufleet.cli import app
from gpufleet.cli.common import JSON_OPT, QUIET_OPT, STORE_OPT, check_output_file, print_json, print_table
from gpufleet.errors import InputError, Problem

FIDELITIES = ("fluid", "full")


def _fmt(metric: str, value: float) -> str:
    from gpufleet.report.units import usd_text

    return f"{value:,.1f}%" if metric.endswith("_pct") else usd_text(value)


def _fmt_delta(metric: str, value: float) -> str:
    from gpufleet.report.units import usd_text

    if metric.endswith("_pct"):
        shown = f"{value:+,.1f} pp"
        return shown if any(ch in "123456789" for ch in shown) else "0.0 pp"  # never "-0.0 pp"
    shown = usd_text(abs(value))
    if not any(ch in "123456789" for ch in shown):
        return "±" + shown
    return ("+" if value > 0 else "−") + shown


def _run_figures(store_path: Path, run: str | None, quiet: bool) -> tuple[str, Any, Any]:
    """The run id, its scenario (under the revenue case it ran) and its metrics."""
    from gpufleet.cli.running import latest_or_simulate
    from gpufleet.risk.stored import stored_run_base
    from gpufleet.store import open_store

    if run is None or run == "latest":
        run = latest_or_simulate(store_path, None, quiet)
    elif not store_path.exists():
        raise InputError([Problem("RUN", "", f"{store_path} holds no runs: simulate a scenario first")])
    with open_store(store_path, read_only=True, create=False) as st:
        run_id = st.resolve(run)
        loaded, figures = stored_run_base(st, run_id)
    return run_id, loaded, figures


@app.command("whatif")
def whatif(
    run: str | None = typer.Argument(
        None, metavar="RUN", help="A stored run: id, unique prefix or 'latest' (default: the latest)."
    ),
    sets: list[str] = typer.Option(
        [],
        "--set",
        metavar="PATH=VALUE",
        help="A change: PATH=VALUE, PATH*=FACTOR or PATH+=DELTA (repeatable).",
    ),
    fidelity: str = typer.Option(
        "fluid", "--fidelity", help="fluid: the fluid model in seconds; full: re-simulate and store the run."
    ),
    stress: bool = typer.Option(
        False, "--stress", help="The standard stress set (fluid): a table and a tornado chart (HTML)."
    ),
    output: Path | None = typer.Option(
        None, "-o", help="Where --stress writes its tornado chart (default reports/whatif-RUN.html)."
    ),
    store_path: Path = STORE_OPT,
    as_json: bool = JSON_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """What if the run's scenario were changed: the fluid model's answer beside the run's own figures."""
    from gpufleet.risk.error import fluid_error_json, fluid_error_note
    from gpufleet.risk.fluid import FluidModel
    from gpufleet.risk.metrics import METRICS
    from gpufleet.risk.whatif import fluid_whatif
    from gpufleet.scenario.overrides import Editable, parse_override

    if fidelity not in FIDELITIES:
        raise InputError([Problem("--fidelity", "", f"'{fidelity}' is not one of {', '.join(FIDELITIES)}")])
    overrides = [parse_override(s) for s in sets]  # bad syntax: exit 2 before any work
    if not overrides and not stress:
        raise InputError([Problem("--set", "", "give at least one --set PATH=VALUE, or --stress")])
    if output is not None:
        check_output_file(output, "-o")
    run_id, loaded, figures = _run_figures(store_path, run, quiet or as_json)
    edit = Editable.of(loaded)
    changed = edit.apply(overrides)  # a change the scenario refuses: exit 2, naming the change
    model = FluidModel.of(loaded)
    out: dict[str, Any] = {"run_id": run_id, "changes": [o.text for o in overrides], "fidelity": fidelity}
    rows: list[tuple[str, ...]] = []
    if overrides and fidelity == "fluid":
        w = fluid_whatif(model, loaded, changed)
        estimate = w.estimate(figures)
        out |= {"run": figures, "fluid_run_scenario": w.base, "fluid_changed": w.changed,
                "fluid_change": w.change, "estimate": estimate}  # fmt: skip
        out["fluid_error"] = fluid_error_json()
        for k in METRICS:
            rows.append((k, _fmt(k, figures[k]), _fmt(k, w.base[k]), _fmt(k, w.changed[k]),
                         _fmt_delta(k, w.change[k]), _fmt(k, estimate[k])))  # fmt: skip
    elif overrides:
        from gpufleet.cli.running import simulate_and_store
        from gpufleet.report.context import run_context
        from gpufleet.risk.metrics import run_metrics

        result = simulate_and_store(changed, store_path, None, quiet or as_json)
        case = changed.scenario.finance.default_case or "none"
        full = run_metrics(result.tables, run_context(changed.scenario, changed.catalog), case)
        out |= {"run": figures, "new_run_id": result.meta.run_id, "full": full,
                "change": {k: full[k] - figures[k] for k in METRICS}}  # fmt: skip
        for k in METRICS:
            rows.append((k, _fmt(k, figures[k]), _fmt(k, full[k]), _fmt_delta(k, full[k] - figures[k])))
    stress_out = (
        _stresses(model, edit, overrides, loaded, run_id, output, quiet or as_json) if stress else None
    )
    if stress_out is not None:
        out["stress"] = stress_out
    if as_json:
        print_json(out)
        return
    what = "; ".join(o.text for o in overrides)
    if rows and fidelity == "fluid":
        cols = ["metric", f"run {run_id}", "fluid, run's scenario", "fluid, changed", "fluid change",
                "estimate = run + change"]  # fmt: skip
        print_table(f"What if {what} (fluid model)", cols, rows, right=cols[1:])
        typer.echo(
            "estimate: the run's own figure moved by the fluid model's change (the fluid level differs)"
        )
        typer.echo(fluid_error_note())
    elif rows:
        cols = ["metric", f"run {run_id}", f"run {out['new_run_id']} (changed)", "change"]
        print_table(f"What if {what} (full simulation)", cols, rows, right=cols[1:])
        typer.echo(f"stored as run {out['new_run_id']} in {store_path}; its scenario text lists the changes")
    if stress_out is not None:
        srows = [(r["stress"], *(_fmt_delta(k, r["change"][k]) for k in METRICS)) for r in stress_out["rows"]]
        print_table(
            "Stresses (fluid model): change of each metric against " + (what or "the run's scenario"),
            ["stress", *METRICS], srows, right=list(METRICS),
        )  # fmt: skip
        typer.echo(fluid_error_note())
        typer.echo(f"tornado chart: {stress_out['tornado']}")


def _stresses(
    model: Any, edit: Any, overrides: list[Any], loaded: Any, run_id: str, output: Path | None, quiet: bool
) -> dict[str, Any]:
    """The stress set against the changed scenario: rows for the table and JSON, and the tornado page."""
    from gpufleet.cli.common import REPORTS_DIR
    from gpufleet.cli.running import working
    from gpufleet.report.tornado import write_tornado
    from gpufleet.risk.error import fluid_error_note
    from gpufleet.risk.whatif import stresses_json, tornado_panels

    out = stresses_json(model, edit, overrides, loaded)
    panels = tornado_panels(out)
    labels = {m: m for m in panels}
    path = output or REPORTS_DIR / f"whatif-{run_id}.html"
    with working(quiet, "writing the tornado chart"):
        write_tornado(
            path, panels, labels, f"Stresses on run {run_id}",
            [f"changes first applied: {'; '.join(o.text for o in overrides) or 'none'}", fluid_error_note()],
            share_plotly=output is None,
        )  # fmt: skip
    return {"reference_fluid": out["reference_fluid"], "rows": out["rows"], "tornado": str(path)}
