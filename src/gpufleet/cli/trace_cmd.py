"""`gpufleet trace stats|synth|fit`: read job and request traces, fit and generate synthetic streams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gpufleet.cli import app
from gpufleet.cli.common import JSON_OPT, SEED_OPT, fmt_num, print_json, print_table
from gpufleet.errors import InputError
from gpufleet.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

trace_app = typer.Typer(
    help="Job traces (philly, openb, generic) and LLM request traces (azure-llm).", no_args_is_help=True
)
app.add_typer(trace_app, name="trace")

FORMAT_HELP = "Trace format: philly, openb, generic (jobs) or azure-llm (requests)."


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise InputError(f"unknown format '{fmt}'; expected one of {', '.join(allowed)}", where="--format")


def _request_stats(file: Path, fmt: str, as_json: bool) -> None:
    import numpy as np

    from gpufleet.workload.readers import read_requests
    from gpufleet.workload.requests import per_minute_output_tokens, within_hour

    tr = read_requests(file, fmt)
    w = within_hour(tr)
    per_min = per_minute_output_tokens(tr)
    span = float(tr.arrived_s[-1]) if len(tr) else 0.0
    data: dict[str, Any] = {
        "file": str(file),
        "format": fmt,
        "requests": len(tr),
        "span_s": span,
        "requests_per_s": len(tr) / span if span else 0.0,
        "prompt_tokens": int(tr.prompt_tokens.sum()),
        "output_tokens": int(tr.output_tokens.sum()),
        "prompt_tokens_per_output_token": w.prompt_tokens_per_output_token,
        "mean_prompt_tokens": float(tr.prompt_tokens.mean()) if len(tr) else 0.0,
        "mean_output_tokens": w.mean_output_tokens,
        "output_tokens_s_by_minute": (per_min / 60.0).tolist(),
        "minute_peak_to_mean": w.minute_peak_to_mean,
        "minute_cv": float(per_min.std() / per_min.mean()) if len(per_min) and per_min.mean() else 0.0,
    }
    if as_json:
        print_json(data)
        return
    rows = [
        ("requests", fmt_num(len(tr))),
        ("span", f"{span / 60:,.1f} min"),
        ("requests per second", f"{data['requests_per_s']:.2f}"),
        ("prompt tokens (mean)", fmt_num(data["mean_prompt_tokens"], 1)),
        ("output tokens (mean)", fmt_num(w.mean_output_tokens, 1)),
        ("prompt tokens per output token", f"{w.prompt_tokens_per_output_token:.2f}"),
        ("output tokens/s, mean of minutes", fmt_num(float(np.mean(per_min)) / 60 if len(per_min) else 0, 1)),
        ("peak minute / mean", f"{w.minute_peak_to_mean:.2f}"),
        ("coefficient of variation of minutes", f"{data['minute_cv']:.2f}"),
    ]
    print_table(f"Request trace {file.name} ({fmt})", ["figure", "value"], rows, right=["value"])


@trace_app.command("stats")
def stats(
    file: Path = typer.Argument(..., help="Trace file."),
    fmt: str = typer.Option(..., "--format", help=FORMAT_HELP),
    as_json: bool = JSON_OPT,
) -> None:
    """Rows read, jobs accepted and skipped by reason, sizes, durations, GPU-hours, arrivals by hour."""
    from gpufleet.workload.readers import FORMATS, REQUEST_FORMATS, read_trace
    from gpufleet.workload.stats import trace_stats

    _check_format(fmt, FORMATS)
    if fmt in REQUEST_FORMATS:
        _request_stats(file, fmt, as_json)
        return
    st = trace_stats(read_trace(file, fmt))
    if as_json:
        print_json({"file": str(file), "format": fmt} | st.to_dict())
        return
    typer.echo(
        f"{file} ({fmt}): {st.rows_read:,} rows read, {st.jobs:,} jobs accepted, "
        f"{sum(st.skipped.values()):,} skipped; {st.gpu_hours:,.0f} GPU-hours "
        f"over {st.span_s / SECONDS_PER_DAY:,.1f} days"
    )
    for reason, n in st.skipped.items():
        typer.echo(f"  skipped {reason}: {n:,}")
    for reason, n in st.adjusted.items():
        typer.echo(f"  kept, adjusted {reason}: {n:,}")
    print_table(
        "Job sizes",
        ["GPUs", "jobs", "share", "GPU-hours"],
        [
            (g, fmt_num(n), f"{n / st.jobs:.2%}", fmt_num(st.gpu_hours_by_gpus[g]))
            for g, n in st.jobs_by_gpus.items()
        ],
        right=["GPUs", "jobs", "share", "GPU-hours"],
    )
    print_table(
        "Duration (seconds)",
        list(st.duration_s),
        [[fmt_num(v) for v in st.duration_s.values()]],
        right=list(st.duration_s),
    )
    total = max(1, st.jobs)
    print_table(
        f"Arrivals by hour of day ({st.hour_clock})",
        ["hour", "jobs", "share"],
        [(f"{h:02d}", fmt_num(n), f"{n / total:.2%}") for h, n in enumerate(st.arrivals_by_hour)],
        right=["jobs", "share"],
    )


def _fit_from(file: Path, fmt: str, name: str, source_gpus: float | None) -> Any:
    from gpufleet.workload.readers import JOB_FORMATS, read_trace
    from gpufleet.workload.synthetic import fit

    _check_format(fmt, JOB_FORMATS)
    batch = read_trace(file, fmt)
    if len(batch) < 2:
        raise InputError("a fit needs at least two jobs", where=str(file))
    return batch, fit(
        batch, name=name, source=f"{file.name} ({fmt}), {len(batch):,} jobs", source_gpus=source_gpus
    )


@trace_app.command("fit")
def fit_cmd(
    file: Path = typer.Argument(..., help="Job trace file."),
    fmt: str = typer.Option(..., "--format", help="philly, openb or generic."),
    out: Path = typer.Option(..., "-o", "--output", help="Parameters YAML to write."),
    name: str = typer.Option("", "--name", help="Name of the parameter set."),
    source_gpus: float | None = typer.Option(
        None, "--source-gpus", help="GPUs of the source fleet (for offered load per GPU)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Fit synthetic-stream parameters on a job trace and save them as YAML."""
    from gpufleet.workload.readers.params_file import save_params

    if source_gpus is not None and source_gpus <= 0:
        raise InputError("expected a positive GPU count", where="--source-gpus")
    _, params = _fit_from(file, fmt, name or file.stem, source_gpus)
    save_params(params, out)
    summary = {
        "output": str(out),
        "jobs": params.jobs,
        "jobs_per_day": params.jobs_per_day,
        "gpu_seconds_per_job": params.trace_gpu_seconds_per_job,
        "offered_gpus": params.offered_gpus,
        "load_per_gpu": params.load_per_gpu,
        "duration_groups": [[g.min_gpus, g.max_gpus, g.jobs] for g in params.groups],
    }
    if as_json:
        print_json(summary)
    else:
        typer.echo(
            f"wrote {out}: {params.jobs:,} jobs, {params.jobs_per_day:,.1f} jobs/day, "
            f"{len(params.groups)} duration groups, offered {params.offered_gpus:,.1f} GPUs"
        )


def _gaps_over_mean(submit_s: Any) -> Any:
    """Inter-arrival gaps divided by their mean: comparable between fleets of different sizes."""
    import numpy as np

    gaps = np.diff(submit_s)
    return gaps / gaps.mean() if len(gaps) and gaps.mean() > 0 else gaps


def _write_jobs_csv(batch: Any, out: Path) -> None:
    """The jobs as a generic-format CSV, written whole."""
    import numpy as np

    from gpufleet.files import atomic_write

    data = np.column_stack([batch.submit_s, batch.duration_s, batch.gpus.astype(np.float64)])

    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8") as f:
            f.write("submit_s,duration_s,gpus\n")
            np.savetxt(f, data, fmt=("%.3f", "%.3f", "%d"), delimiter=",")

    atomic_write(out, write)


@trace_app.command("synth")
def synth(
    source: Path | None = typer.Option(None, "--from", help="Job trace to fit on."),
    fmt: str | None = typer.Option(
        None,
        "--format",
        help="Format of --from: philly, openb or generic (required with --from, as in stats).",
    ),
    params_file: Path | None = typer.Option(
        None,
        "--params",
        help="Fitted parameters (YAML, or a built-in name such as philly) instead of --from.",
    ),
    jobs: int = typer.Option(..., "--jobs", help="Jobs to generate."),
    gpus: float = typer.Option(..., "--gpus", help="Target fleet size in GPUs."),
    out: Path = typer.Option(..., "-o", "--output", help="CSV to write (generic format)."),
    source_gpus: float | None = typer.Option(
        None, "--source-gpus", help="GPUs of the source fleet (default: the parameters' own; philly: 2,490)."
    ),
    load: float | None = typer.Option(
        None, "--load", help="Offered load per GPU instead of the source's (e.g. 0.6)."
    ),
    size_scale: int = typer.Option(1, "--size-scale", help="Multiply each job's GPUs."),
    seed: int | None = SEED_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Generate N jobs for a fleet of G GPUs with the source's offered load per GPU and daily cycle."""
    import dataclasses

    import numpy as np

    from gpufleet.workload.streams import load_stream_params, synthesize

    if jobs <= 0:
        raise InputError("expected a positive number of jobs", where="--jobs")
    if gpus <= 0:
        raise InputError("expected a positive GPU count", where="--gpus")
    if size_scale < 1:
        raise InputError("expected 1 or more", where="--size-scale")
    if (source is None) == (params_file is None):
        raise InputError("give exactly one of --from FILE or --params FILE|NAME", where="--from")
    batch = None
    if source is not None:
        if fmt is None:  # a trace file always comes with its format (stats, fit, synth alike)
            raise InputError("give the format of --from: philly, openb or generic", where="--format")
        if source_gpus is None and fmt == "philly":
            from gpufleet.workload.synthetic import builtin_params

            source_gpus = builtin_params("philly").source_gpus  # the shipped fit's stated estimate
        batch, params = _fit_from(source, fmt, source.stem, source_gpus)
    else:
        assert params_file is not None
        params = load_stream_params(str(params_file), None)
        if source_gpus is not None:
            params = dataclasses.replace(params, source_gpus=source_gpus)
    if load is not None:
        if load <= 0:
            raise InputError("expected a positive load", where="--load")
        params = dataclasses.replace(params, source_gpus=params.offered_gpus / load)
    if params.load_per_gpu is None:
        raise InputError(
            "the source fleet's size is unknown: give --source-gpus (the trace's fleet) or --load",
            where="--gpus",
        )
    rng = np.random.default_rng(0 if seed is None else seed)
    s = synthesize(params, rng, n_jobs=jobs, target_gpus=gpus, size_scale=size_scale)
    _write_jobs_csv(s, out)
    span = float(s.submit_s[-1]) if len(s) else 0.0
    hours = np.bincount((s.submit_s // SECONDS_PER_HOUR).astype(int) % 24, minlength=24)
    result: dict[str, Any] = {
        "output": str(out),
        "jobs": len(s),
        "target_gpus": gpus,
        "span_days": span / SECONDS_PER_DAY,
        "jobs_per_day": len(s) / span * SECONDS_PER_DAY if span else 0.0,
        "source_load_per_gpu": params.load_per_gpu,
        "synth_load_per_gpu": float(s.gpu_seconds.sum()) / span / gpus if span else 0.0,
        "hour_shares_source": list(params.hour_shares),
        "hour_shares_synth": (hours / max(1, len(s))).tolist(),
    }
    if batch is not None and len(s) > 1:
        from scipy.stats import ks_2samp

        result["ks_d"] = {
            "gpus": float(ks_2samp(batch.gpus * size_scale, s.gpus).statistic),
            "duration_s": float(ks_2samp(batch.duration_s, s.duration_s).statistic),
            "inter_arrival_over_mean": float(
                ks_2samp(_gaps_over_mean(batch.submit_s), _gaps_over_mean(s.submit_s)).statistic
            ),
        }
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"wrote {out}: {len(s):,} jobs over {result['span_days']:,.1f} days for {gpus:,.0f} GPUs "
        f"({result['jobs_per_day']:,.0f} jobs/day); offered load per GPU {result['synth_load_per_gpu']:.3f} "
        f"(source {params.load_per_gpu:.3f})"
    )
    if "ks_d" in result:
        d = result["ks_d"]
        typer.echo(
            f"KS D vs the source: sizes {d['gpus']:.4f}, durations {d['duration_s']:.4f}, "
            f"inter-arrival gaps / their mean {d['inter_arrival_over_mean']:.4f}"
        )
