"""`gpufleet runs list|show|delete|export`, `gpufleet report`, `gpufleet compare`: stored runs for people."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gpufleet.cli import app, command_group
from gpufleet.cli.common import (
    JSON_OPT,
    QUIET_OPT,
    REPORTS_DIR,
    SEED_OPT,
    STORE_OPT,
    check_output_file,
    check_output_folder,
    console,
    print_json,
    print_table,
    records,
    report_path,
)
from gpufleet.cli.running import latest_or_simulate, progress_bar, working
from gpufleet.errors import InputError, Problem

if TYPE_CHECKING:
    from gpufleet.store import Store

runs_app = command_group("runs", "Runs kept in the results store: list, show, delete, export.")

RUN_ARG = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'.")
USAGE_COLUMNS = ["planned GPU-h", "simulated GPU-h", "planned cash", "simulated cash"]


def _open(store: Path, read_only: bool = True) -> Store:
    """An existing store (never a new one: a mistyped --store is bad input, not an empty store)."""
    from gpufleet.store import open_store

    return open_store(store, read_only=read_only, create=False)


def _no_store(store: Path, as_json: bool) -> bool:
    """Say there are no runs when the store file does not exist yet (never create it to list it)."""
    if store.exists():
        return False
    if as_json:
        print_json([])
    else:
        typer.echo(f"no runs: {store} does not exist yet (gpufleet simulate writes it)")
    return True


@runs_app.command("list")
def runs_list(store: Path = STORE_OPT, as_json: bool = JSON_OPT) -> None:
    """List the runs in the store, oldest first."""
    if _no_store(store, as_json):
        return
    with _open(store) as st:
        runs = st.list_runs()
    if as_json:
        print_json([m.to_dict() for m in runs])
        return
    rows = [
        (m.run_id, m.scenario_name, m.seed, f"{m.started:%Y-%m-%d %H:%M:%S}", m.status, f"{m.wall_s:,.1f}",
         m.content_hash[:19], m.gpufleet_version)
        for m in runs
    ]  # fmt: skip
    print_table(
        f"{len(runs)} run{'s' if len(runs) != 1 else ''} in {store}",
        ["run id", "scenario", "seed", "started (UTC)", "status", "wall s", "scenario hash", "version"],
        rows,
        right=["seed", "wall s"],
    )


@runs_app.command("status")
def runs_status(store: Path = STORE_OPT, as_json: bool = JSON_OPT) -> None:
    """Every run the store knows and where it stands: queued, running, finished or failed (and why)."""
    if _no_store(store, as_json):
        return
    with _open(store) as st:
        statuses = st.statuses()
    if as_json:
        print_json([s.to_dict() for s in statuses])
        return
    rows = [
        (s.run_id, s.status, s.scenario_name or "", f"{s.updated:%Y-%m-%d %H:%M:%S}", s.pid or "", s.message)
        for s in statuses
    ]
    print_table(
        f"{len(statuses)} run{'s' if len(statuses) != 1 else ''} in {store}",
        ["run id", "status", "scenario", "updated (UTC)", "pid", "why"],
        rows,
        prose=["why"],
    )


@runs_app.command("show")
def runs_show(run: str = RUN_ARG, store: Path = STORE_OPT, as_json: bool = JSON_OPT) -> None:
    """Show a run: its dated findings, metadata, headline figures and table sizes."""
    from gpufleet.report import stored_context, summarize, terminal_summary

    with _open(store) as st:
        run_id = st.resolve(run)
        meta, tables = st.load_meta(run_id), st.load_run(run_id)
        context = stored_context(st, run_id)
    rows = {name: len(df) for name, df in tables.items()}
    if as_json:
        found, h = summarize(tables, context)
        print_json(
            {
                "run": meta.to_dict(),
                "findings": [f.to_dict() for f in found],
                "headline": h,
                "rows": rows,
                "unmet": records(tables.unmet),
            }
        )
        return
    out = console()
    terminal_summary(meta, tables, out, context=context)
    out.print("rows: " + ", ".join(f"{n} {c:,}" for n, c in rows.items()))
    out.print(
        f"scenario hash: {meta.content_hash} · gpufleet {meta.gpufleet_version} · "
        f"started {meta.started:%Y-%m-%d %H:%M:%S} UTC"
    )


@runs_app.command("delete")
def runs_delete(
    runs: list[str] = typer.Argument(..., metavar="RUN", help="Run ids (or unique prefixes) to delete."),
    store: Path = STORE_OPT,
) -> None:
    """Delete runs and all their rows (each in one transaction), and their reports in reports/."""
    with _open(store, read_only=False) as st:
        ids = [st.resolve(r) for r in runs]  # every id checked before anything is deleted
        for run_id in dict.fromkeys(ids):
            st.delete_run(run_id)
            typer.echo(f"deleted run {run_id}{_delete_reports(run_id)}")


def _delete_reports(run_id: str) -> str:
    """Remove the run's report and the comparisons that name it from reports/; say what went."""
    gone = [report_path(run_id), *REPORTS_DIR.glob(f"compare-*{run_id}*.html")]
    removed = []
    for path in gone:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(str(path))
    if removed:
        return f" and {', '.join(removed)}"
    return f" (no report at {report_path(run_id)}; one written with -o elsewhere stays)"


@runs_app.command("export")
def runs_export(
    run: str = RUN_ARG,
    format: str = typer.Option("parquet", "--format", help="Output format: parquet or csv."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write the tables into."),
    store: Path = STORE_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Export a run's tables, one file per table, plus run.json with its metadata."""
    from gpufleet.store.export import EXPORT_FORMATS, write_run_files

    if format not in EXPORT_FORMATS:
        expected = ", ".join(EXPORT_FORMATS)
        raise InputError([Problem("--format", "", f"expected one of {expected}, got {format!r}")])
    check_output_folder(output, "-o")
    with _open(store) as st:  # read, close, then write the files
        run_id = st.resolve(run)
        meta, tables = st.load_meta(run_id), st.load_run(run_id)
    with progress_bar(quiet, f"exporting {run_id}") as progress:
        paths = write_run_files(meta, tables, output, format, progress)
    typer.echo(f"wrote {len(paths)} files of run {run_id} to {output}")


def _is_scenario_file(target: str) -> bool:
    return target.endswith((".yaml", ".yml")) or Path(target).is_file()


def simulate_and_store(file: Path, store: Path, seed: int | None, quiet: bool) -> str:
    """Run a scenario file through the pipeline and keep it in the store; returns the run id."""
    from gpufleet.cli.running import simulate_and_store as run_and_store
    from gpufleet.scenario import load_scenario

    return run_and_store(load_scenario(file), store, seed, quiet).meta.run_id


@app.command("report")
def report(
    target: str | None = typer.Argument(
        None,
        metavar="RUN|FILE",
        help="A stored run (id, unique prefix or 'latest'), or a scenario YAML file to simulate and store "
        "first. Default: the latest stored run (the default scenario is simulated only when the store "
        "holds no run).",
    ),
    run: str | None = typer.Option(
        None, "--run", metavar="ID", help="A stored run (same as giving it as RUN): id, prefix or 'latest'."
    ),
    output: Path | None = typer.Option(
        None,
        "-o",
        "--output",
        help="HTML file to write, self-contained (default: reports/RUN.html, which loads Plotly's JS from "
        "one shared file in reports/).",
    ),
    store: Path = STORE_OPT,
    seed: int | None = SEED_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Write a run's HTML report: one self-contained file that works offline, read from the store."""
    from gpufleet.report import stored_context, write_report

    if run is not None and target is not None:
        raise InputError([Problem("--run", "", "give the run as TARGET or as --run, not both")])
    check_output_file(output or report_path("check"), "-o")
    ref = run if run is not None else target
    if ref is None:
        run_id = latest_or_simulate(store, seed, quiet)
    elif run is None and _is_scenario_file(ref):
        run_id = simulate_and_store(Path(ref), store, seed, quiet)
    else:
        if seed is not None:
            raise InputError(
                [Problem("--seed", "", "a stored run has its seed already; --seed is for a FILE")]
            )
        with _open(store) as st:
            run_id = st.resolve(ref)
    path = output or report_path(run_id)
    with _open(store) as st:  # read, close, then render: a writer waits only for the read
        meta, tables, context = st.load_meta(run_id), st.load_run(run_id), stored_context(st, run_id)
    with working(quiet, f"writing the report of {run_id}"):
        write_report(meta, tables, path, str(store), context, share_plotly=output is None)
    typer.echo(f"report of run {run_id}: {path}")


@app.command("compare")
def compare(
    run_a: str = typer.Argument(..., help="Run A (id, unique prefix or 'latest'), or a plan id (plan-...)."),
    run_b: str = typer.Argument(..., help="Run B."),
    html: bool = typer.Option(False, "--html", help="Also write overlaid plots to an HTML file (-o)."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="HTML file for --html (default: reports/compare-A-vs-B.html)."
    ),
    store: Path = STORE_OPT,
    as_json: bool = JSON_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Two runs' headline figures side by side with deltas (B − A); --html for overlaid plots. With a plan
    as A (`compare PLAN RUN`): the plan's use and cash per contract and quarter beside the run's."""
    from gpufleet.report import compare_figures, compare_table, stored_headline, write_compare

    if run_a.startswith("plan-"):
        _compare_plan(run_a, run_b, store, as_json)
        return
    if output is not None and not html:
        html = True
    if html:
        check_output_file(output or Path("reports") / "compare.html", "-o")
    with _open(store) as st:  # read, close, then render
        a, b = st.resolve(run_a), st.resolve(run_b)
        runs = {"A": (st.load_meta(a), st.load_run(a)), "B": (st.load_meta(b), st.load_run(b))}
        heads = (stored_headline(st, a), stored_headline(st, b))  # as each run's own report shows it
    (ma, _), (mb, _) = runs["A"], runs["B"]
    if as_json:
        data: dict[str, Any] = {"a": ma.to_dict(), "b": mb.to_dict(), "figures": compare_figures(*heads)}
    else:
        compare_table((ma, heads[0]), (mb, heads[1]), console())
    if html:
        path = output or Path("reports") / f"compare-{a}-vs-{b}.html"
        with working(quiet or as_json, "writing the overlaid plots"):
            write_compare(runs, path, source=str(store), heads=heads)
        if as_json:
            data["html"] = str(path)
        else:
            typer.echo(f"overlaid plots: {path}")
    if as_json:
        print_json(data)


def _compare_plan(plan_ref: str, run_ref: str, store: Path, as_json: bool) -> None:
    """Planned vs simulated use and cash, by contract and by quarter (--json: by contract and quarter)."""
    from gpufleet.cli.common import fmt_usd
    from gpufleet.report.plan_compare import plan_vs_run, totals

    with _open(store) as st:
        plan = st.load_plan(plan_ref)
        run_id = st.resolve(run_ref)
        meta, tables = st.load_meta(run_id), st.load_run(run_id)
        followed = st.plan_of_run(run_id)
    frame = plan_vs_run(plan, tables)
    if as_json:
        print_json({"plan": plan.meta.to_dict(), "run": meta.to_dict(), "run_followed_plan": followed,
                    "by_contract_quarter": frame.to_dict(orient="records")})  # fmt: skip
        return
    pid = plan.meta.plan_id
    if followed != pid:
        typer.echo(f"note: run {run_id} did not follow plan {pid} (simulate --plan {pid} runs it)")

    def rows(df: Any, key: str) -> list[list[str]]:
        return [
            [str(r[key]), f"{r['planned_gpu_hours'] / 1e6:,.2f}M", f"{r['simulated_gpu_hours'] / 1e6:,.2f}M",
             fmt_usd(r["planned_cash_usd"]), fmt_usd(r["simulated_cash_usd"])]
            for _, r in df.iterrows()
        ]  # fmt: skip

    for key in ("contract", "provider", "quarter"):
        print_table(
            f"Plan {pid} vs run {run_id}, by {key}", [key, *USAGE_COLUMNS], rows(totals(frame, key), key),
            USAGE_COLUMNS,
        )  # fmt: skip
    typer.echo("planned: the plan's base case billed by the ledger; simulated: the run's usage and ledger")
