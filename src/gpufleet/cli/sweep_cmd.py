"""`gpufleet sweep`: Monte Carlo over the scenario's uncertainty section; quantiles, risks and drivers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gpufleet.cli import app
from gpufleet.cli.common import (
    JSON_OPT,
    QUIET_OPT,
    REPORTS_DIR,
    SEED_OPT,
    STORE_OPT,
    check_output_file,
    fmt_num,
    fmt_usd,
    print_json,
    print_table,
)
from gpufleet.cli.running import progress_bar
from gpufleet.errors import InputError

MAX_SAMPLES = 1_000_000
MAX_WORKERS = 1024
DEFAULT_FIDELITY = "full"  # the fluid model is not in this gpufleet yet (risk/sweep.py FIDELITIES)


def _check_counts(samples: int, workers: int, chunk: int | None) -> None:
    for value, option, high in (
        (samples, "--samples", MAX_SAMPLES),
        (workers, "--workers", MAX_WORKERS),
        (chunk, "--chunk-size", MAX_SAMPLES),
    ):
        if value is not None and not 1 <= value <= high:
            raise InputError(f"expected a whole number from 1 to {high:,}, got {value}", option)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = "no such file" if isinstance(exc, FileNotFoundError) else f"cannot read: {exc}"
        raise InputError(why, str(path)) from None


def _fluid_note() -> str | None:
    """How far the fluid model is from full fidelity, as measured (risk/error.py), for every fluid sweep."""
    try:
        from gpufleet.risk import error  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    return str(error.fluid_error_note())


def _fmt(metric: str, x: float | None) -> str:
    if x is None:
        return "-"
    return fmt_usd(x) if metric.endswith("_usd") else fmt_num(x, 2)


@app.command("sweep")
def sweep(
    file: Path | None = typer.Argument(
        None, help="Scenario YAML with an `uncertainty` section (default: the built-in default, with -u)."
    ),
    uncertainty: Path | None = typer.Option(
        None, "--uncertainty", "-u", help="A YAML file with an `uncertainty:` section to add to the scenario."
    ),
    samples: int = typer.Option(100, "--samples", "-n", help="How many samples to draw and run."),
    fidelity: str = typer.Option(
        DEFAULT_FIDELITY,
        "--fidelity",
        help="full: a whole simulation per sample; fluid: the monthly model (fast).",
    ),
    seed: int | None = SEED_OPT,
    workers: int = typer.Option(1, "--workers", "-w", help="Processes (local) or CPUs (a local Ray)."),
    backend: str = typer.Option("local", "--backend", help="local (a process pool) or ray (gpufleet[ray])."),
    address: str | None = typer.Option(
        None, "--address", help="A Ray cluster's address (with --backend ray)."
    ),
    resume: str | None = typer.Option(
        None,
        "--resume",
        help="Finish an interrupted sweep (its id, or latest) with its stored scenario, count, seed and "
        "fidelity (FILE, if given, must be the same scenario).",
    ),
    chunk_size: int | None = typer.Option(
        None, "--chunk-size", help="Samples per task (default: ~4 per worker)."
    ),
    funding_threshold: float = typer.Option(
        0.0, "--funding-threshold", help="Report P(funding need > this many $); default 0: any need at all."
    ),
    unused_threshold: float = typer.Option(
        0.0, "--unused-threshold", help="Report P(unused commitment > this many $); default 0: any at all."
    ),
    report: Path | None = typer.Option(
        None, "--report", "-o", help="HTML report path (default: reports/SWEEP_ID.html)."
    ),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the HTML report."),
    store_path: Path = STORE_OPT,
    as_json: bool = JSON_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Sample the scenario's uncertain inputs, run each sample, store them; print P10/P50/P90 and drivers."""
    from gpufleet.risk.driver import Execution, execute, new_sweep, resumed_sweep
    from gpufleet.risk.sweep import uncertainty_of
    from gpufleet.scenario import load_scenario
    from gpufleet.store import open_store
    from gpufleet.store.sweeps import done_samples, load_samples

    _check_counts(samples, workers, chunk_size)
    if not no_report:
        check_output_file(report or REPORTS_DIR / "check.html", "--report")
    from gpufleet.risk.backends import check_backend

    check_backend(backend, address)
    given = None
    if file is not None or uncertainty is not None:
        given = load_scenario(file)
        if uncertainty is not None:
            from gpufleet.risk.sweep import attach_uncertainty

            given = attach_uncertainty(given, _read(uncertainty), str(uncertainty))
    if resume is not None:
        record, loaded = resumed_sweep(store_path, resume, given)
    else:
        if given is None:
            raise InputError("name a scenario FILE, an --uncertainty file, or --resume SWEEP_ID", "FILE")
        loaded = given
        run_seed = loaded.scenario.seed if seed is None else seed
        record = new_sweep(loaded, store_path, samples, run_seed, fidelity)
    how = Execution(backend, workers, address, chunk_size)
    try:
        with progress_bar(quiet or as_json, "sweep") as progress:
            record = execute(record, loaded, store_path, how, progress)
    except KeyboardInterrupt:
        with open_store(store_path, read_only=True) as store:
            stored = len(done_samples(store, record.sweep_id))
        typer.echo(
            f"interrupted; sweep {record.sweep_id} holds {stored} of {record.samples} samples: "
            f"gpufleet sweep --resume {record.sweep_id} finishes it",
            err=True,
        )
        raise SystemExit(130) from None  # past main()'s run-oriented interrupt line: this one says it all
    from gpufleet.risk.summary import summarize_sweep

    with open_store(store_path, read_only=True) as store:
        frame = load_samples(store, record.sweep_id)
    summary = summarize_sweep(
        uncertainty_of(loaded), frame, record.samples, funding_threshold, unused_threshold
    )
    report_file = None if no_report else (report or REPORTS_DIR / f"{record.sweep_id}.html")
    if report_file is not None:
        from gpufleet.report.risk_charts import write_sweep_report

        write_sweep_report(record.to_dict(), summary, frame, report_file, share_plotly=report is None)
    note = _fluid_note() if record.fidelity == "fluid" else None
    if note is not None:
        summary["fluid_error"] = note
    if as_json:
        print_json(
            {
                "sweep": record.to_dict(),
                "store": str(store_path),
                "report": str(report_file) if report_file else None,
                **summary,
            }
        )
        return
    _print(record.to_dict(), summary, report_file)


def _print(record: dict[str, Any], summary: dict[str, Any], report_file: Path | None) -> None:
    counts = summary["samples"]
    typer.echo(
        f"Sweep {record['sweep_id']} of '{record['scenario_name']}': "
        f"{counts['finished']} of {counts['planned']} samples finished, {counts['failed']} failed "
        f"({record['fidelity']} fidelity, seed {record['seed']}, {record['sampling']} sampling)"
    )
    rows = [
        (m, *(_fmt(m, q[k]) for k in ("p10", "p50", "p90", "mean"))) for m, q in summary["metrics"].items()
    ]
    print_table(
        "Metrics over the finished samples",
        ["metric", "P10", "P50", "P90", "mean"],
        rows,
        right=["P10", "P50", "P90", "mean"],
    )
    for key, label in (
        ("funding_need_above", "funding need"),
        ("unused_commitment_above", "unused commitment"),
    ):
        p = summary["probabilities"][key]
        shown = "-" if p["probability"] is None else f"{100 * p['probability']:.1f}%"
        typer.echo(f"P({label} > {fmt_usd(p['threshold_usd'])}) = {shown}")
    metrics = list(summary["metrics"])
    by = {(s["input"], s["metric"]): s for s in summary["sensitivity"]}
    inputs = list(dict.fromkeys(s["input"] for s in summary["sensitivity"]))

    def cell(s: dict[str, Any]) -> str:
        r, f = s["spearman"], s["first_order"]
        return f"{'-' if r is None else f'{r:+.2f}'} / {'-' if f is None else f'{f:.2f}'}"

    print_table(
        "What drives what: Spearman rank correlation / first-order index",
        ["input", *metrics],
        [(i, *(cell(by[(i, m)]) for m in metrics)) for i in inputs],
        right=metrics,
    )
    typer.echo(f"first-order index: {summary['sensitivity_estimator']}")
    if "fluid_error" in summary:
        typer.echo(summary["fluid_error"])
    for e in summary["errors"]:
        typer.echo(f"sample {e['sample']} failed: {e['error']}")
    if report_file is not None:
        typer.echo(f"report: {report_file}")


@app.command("sweeps")
def sweeps(store_path: Path = STORE_OPT, as_json: bool = JSON_OPT) -> None:
    """List the stored sweeps: id, scenario, fidelity, samples stored of planned, failed, status."""
    from gpufleet.store import open_store
    from gpufleet.store.sweeps import list_sweeps

    with open_store(store_path, read_only=True) as store:
        rows = list_sweeps(store)
    records = [
        {**r, "samples": int(r["samples"]), "seed": int(r["seed"]), "stored": int(r["stored"]),
         "failed": int(r["failed"]), "created": str(r["created"])}
        for r in rows.to_dict("records")
    ]  # fmt: skip
    if as_json:
        print_json(records)
        return
    cols = ["sweep", "scenario", "fidelity", "stored", "failed", "status", "created (UTC)"]
    table = [
        (r["sweep_id"], r["scenario_name"], r["fidelity"], f"{r['stored']}/{r['samples']}", str(r["failed"]),
         r["status"], r["created"][:19])
        for r in records
    ]  # fmt: skip
    print_table(f"Sweeps in {store_path}", cols, table, right=["stored", "failed"])
