"""`gpufleet estimate training|inference`: back-of-envelope plans from the workload models and the catalog."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer

from gpufleet.cli import app
from gpufleet.cli.common import JSON_OPT, fmt_num, fmt_usd, print_json, print_table
from gpufleet.errors import InputError, Problem

estimate_app = typer.Typer(
    help="Estimates from the workload models: training time and goodput, inference GPUs.",
    no_args_is_help=True,
)
app.add_typer(estimate_app, name="estimate")

_TRAINING_OPTIONS = {
    "params": "--params",
    "tokens": "--tokens",
    "accelerator": "--accelerator",
    "precision": "--precision",
    "gpus": "--gpus",
    "mfu": "--mfu",
    "sequence_length": "--seq-len",
    "layers": "--layers",
    "hidden_size": "--hidden",
    "cost_s": "--checkpoint-cost",
    "interval_s": "--checkpoint-interval",
    "restart_s": "--restart",
}


def _validation_problems(exc: Any, options: dict[str, str], whole: str) -> InputError:
    """Pydantic errors named by the CLI option they came from; `whole` names a check across options."""
    from gpufleet.scenario.load import error_message

    problems = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        key = next((options[p] for p in reversed(loc) if p in options), ".".join(loc) or whole)
        problems.append(Problem(key, "", error_message(err)))
    return InputError(problems)


@estimate_app.command("training")
def training(
    params: float = typer.Option(..., "--params", help="Parameters N, e.g. 405e9."),
    tokens: float = typer.Option(..., "--tokens", help="Training tokens D, e.g. 15.6e12."),
    accelerator: str = typer.Option(..., "--accelerator", help="Catalog accelerator id (h100, gb200 ...)."),
    gpus: int = typer.Option(..., "--gpus", help="GPUs in the job."),
    precision: str = typer.Option("bf16", "--precision", help="bf16, fp8 or fp4."),
    mfu: float | None = typer.Option(None, "--mfu", help="MFU (default: catalog curve by scale)."),
    seq_len: int | None = typer.Option(None, "--seq-len", help="Sequence length: adds attention FLOPs."),
    layers: int | None = typer.Option(None, "--layers", help="Layers (for the attention term)."),
    hidden: int | None = typer.Option(None, "--hidden", help="Hidden size (for the attention term)."),
    checkpoint_cost: float = typer.Option(30.0, "--checkpoint-cost", help="Seconds a checkpoint stalls."),
    checkpoint_interval: float | None = typer.Option(
        None, "--checkpoint-interval", help="Seconds between checkpoints (default: Young/Daly)."
    ),
    restart: float | None = typer.Option(
        None, "--restart", help="Restart overhead in seconds (default: grows with job size)."
    ),
    failure_rate: float | None = typer.Option(
        None, "--failure-rate", help="Interruptions per GPU-hour (default: catalog, Llama 3 calibration)."
    ),
    price: float | None = typer.Option(None, "--price", help="$ per GPU-hour, for the cost."),
    as_json: bool = JSON_OPT,
) -> None:
    """FLOPs, achieved TFLOP/s per GPU, wall time, GPU-hours, cost, interruptions and goodput of a run."""
    from pydantic import ValidationError

    from gpufleet.catalog import load_builtin_catalog
    from gpufleet.scenario.schema import TrainingRun
    from gpufleet.workload.training import plan_training

    if failure_rate is not None and failure_rate < 0:
        raise InputError("expected a rate >= 0", where="--failure-rate")
    if price is not None and price <= 0:
        raise InputError("expected a price > 0", where="--price")
    try:
        run = TrainingRun.model_validate(
            {
                "name": "estimate",
                "team": "estimate",
                "params": params,
                "tokens": tokens,
                "accelerator": accelerator,
                "precision": precision,
                "gpus": gpus,
                "mfu": mfu,
                "sequence_length": seq_len,
                "layers": layers,
                "hidden_size": hidden,
                "checkpoint": {
                    "cost_s": checkpoint_cost,
                    "interval_s": checkpoint_interval,
                    "restart_s": restart,
                },
            }
        )
    except ValidationError as exc:
        raise _validation_problems(exc, _TRAINING_OPTIONS, whole="arguments") from None
    plan = plan_training(run, load_builtin_catalog(), failure_rate_override=failure_rate)
    cost = None if price is None or math.isinf(plan.expected_gpu_hours) else plan.expected_gpu_hours * price
    if as_json:
        print_json(
            {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in asdict(plan).items()}
            | {
                "achieved_tflops_per_gpu": plan.achieved_flops_per_gpu / 1e12,
                "compute_days": plan.compute_s / 86400,
                "expected_wall_days": None
                if math.isinf(plan.expected_wall_s)
                else plan.expected_wall_s / 86400,
                "price_per_gpu_hour_usd": price,
                "expected_cost_usd": cost,
            }
        )
        return
    ck_note = f"write {plan.checkpoint_write_s:,.1f} s at storage bandwidth; "
    ck_note += f"stall charged {plan.checkpoint_cost_s:g} s"
    price_note = f"at ${price:g}/GPU-h" if price else "give --price"
    rows = [
        ("training FLOPs", f"{plan.flops:.3e}", "6 N D" + (" + attention" if plan.attention_flops else "")),
        ("MFU", f"{plan.mfu:.1%}", plan.mfu_source),
        ("achieved TFLOP/s per GPU", fmt_num(plan.achieved_flops_per_gpu / 1e12, 0),
         f"{plan.precision} peak {plan.peak_flops_per_gpu / 1e12:,.0f}"),
        ("compute time (no failures)", f"{plan.compute_s / 86400:,.1f} days", ""),
        ("GPU-hours (no failures)", fmt_num(plan.gpu_hours), ""),
        ("interruption rate", f"{plan.failure_rate_per_gpu_hour:.2e} per GPU-hour",
         "override" if failure_rate is not None else "catalog"),
        ("job MTBF", f"{plan.mtbf_s / 3600:,.2f} h", f"{plan.gpus:,} GPUs"),
        ("checkpoint", f"{plan.checkpoint_bytes / 1e12:,.2f} TB", ck_note),
        ("checkpoint interval", f"{plan.checkpoint_interval_s:,.0f} s",
         "given" if checkpoint_interval is not None else "Young/Daly sqrt(2 C M)"),
        ("restart overhead", f"{plan.restart_s:,.0f} s", "given" if restart else "grows with size"),
        ("expected goodput", f"{plan.expected_goodput:.1%}", "1 - C/tau - (tau/2 + R)/M"),
        ("expected interruptions", fmt_num(plan.expected_interruptions), ""),
        ("expected wall time", f"{plan.expected_wall_s / 86400:,.1f} days", "compute / goodput"),
        ("expected GPU-hours", fmt_num(plan.expected_gpu_hours), ""),
        ("expected cost", fmt_usd(cost) if cost is not None else "-", price_note),
    ]  # fmt: skip
    if plan.expected_goodput <= 0:
        rows.append(("warning", "never finishes", "failures and restarts outpace progress at this size"))
    print_table(
        f"Training estimate: {params:.3g} params x {tokens:.3g} tokens on {gpus:,} {accelerator}",
        ["figure", "value", "how"],
        rows,
        right=["value"],
    )


def _parse_region(text: str) -> tuple[str, float, float]:
    parts = text.split(":")
    if len(parts) != 3:
        raise InputError(
            f"expected NAME:SHARE:UTC_OFFSET_H (e.g. us:0.45:-6), got {text!r}", where="--region"
        )
    try:
        return parts[0], float(parts[1]), float(parts[2])
    except ValueError:
        raise InputError(f"share and offset must be numbers, got {text!r}", where="--region") from None


_INFERENCE_OPTIONS = {
    "weekly_users": "--weekly-users",
    "tokens_per_user_per_day": "--tokens-per-user-per-day",
    "daily_peak_to_mean": "--peak-to-mean",
    "weekend_factor": "--weekend-factor",
    "regions": "--region",
    "share": "--region",
    "utc_offset_h": "--region",
}


@estimate_app.command("inference")
def inference(
    weekly_users: float = typer.Option(..., "--weekly-users", help="Weekly active users, e.g. 800e6."),
    accelerator: str = typer.Option(..., "--accelerator", help="Catalog accelerator id (gb200, gb300 ...)."),
    tokens_per_user_per_day: float = typer.Option(
        5000.0, "--tokens-per-user-per-day", help="Output tokens per weekly user per day (assumption)."
    ),
    model_class: str = typer.Option(
        "frontier-moe", "--model-class", help="frontier-moe, dense-405b, dense-70b."
    ),
    replica_gpus: int = typer.Option(72, "--replica-gpus", help="GPUs per model replica."),
    headroom: float = typer.Option(1.2, "--headroom", help="Capacity above demand kept for bursts."),
    peak_to_mean: float = typer.Option(1.6, "--peak-to-mean", help="Daily peak / daily mean demand."),
    weekend_factor: float = typer.Option(0.85, "--weekend-factor", help="Weekend / weekday demand."),
    region: list[str] | None = typer.Option(
        None, "--region", help="NAME:SHARE:UTC_OFFSET_H, repeatable (default us:1:-6)."
    ),
    date: str = typer.Option("2025-11-05", "--date", help="The UTC day shown (YYYY-MM-DD)."),
    tokens_per_s_per_gpu: float | None = typer.Option(
        None, "--tokens-per-s-per-gpu", help="Override the catalog's throughput."
    ),
    trace: Path | None = typer.Option(
        None, "--trace", help="An azure-llm request trace: within-hour shape and token mix from it."
    ),
    trace_format: str = typer.Option("azure-llm", "--format", help="Format of --trace (azure-llm)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Tokens/s demanded and GPUs needed by UTC hour of one day, and at the peak (hour and minute)."""
    import numpy as np
    from pydantic import ValidationError

    from gpufleet.catalog import load_builtin_catalog
    from gpufleet.scenario.schema import InferenceDemand
    from gpufleet.workload import inference as inf

    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise InputError(f"expected YYYY-MM-DD, got {date!r}", where="--date") from None
    if replica_gpus <= 0:
        raise InputError("expected a positive GPU count", where="--replica-gpus")
    if not 1.0 <= headroom <= 5.0:
        raise InputError("expected a headroom between 1 and 5", where="--headroom")
    regions = [_parse_region(r) for r in region or []]
    try:
        demand = InferenceDemand.model_validate(
            {
                "weekly_users": weekly_users,
                "tokens_per_user_per_day": tokens_per_user_per_day,
                "daily_peak_to_mean": peak_to_mean,
                "weekend_factor": weekend_factor,
            }
            | ({"regions": {n: {"share": s, "utc_offset_h": o} for n, s, o in regions}} if regions else {})
        )
    except ValidationError as exc:
        raise _validation_problems(exc, _INFERENCE_OPTIONS, whole="--region") from None
    catalog = load_builtin_catalog()
    if tokens_per_s_per_gpu is not None and not (
        math.isfinite(tokens_per_s_per_gpu) and tokens_per_s_per_gpu > 0
    ):
        raise InputError(
            f"expected a positive number, got {tokens_per_s_per_gpu:g}", where="--tokens-per-s-per-gpu"
        )
    overrides = {accelerator: tokens_per_s_per_gpu} if tokens_per_s_per_gpu is not None else None
    per_gpu = inf.tokens_per_s_per_gpu(model_class, accelerator, catalog, overrides)
    how = "given" if overrides else inf.throughput_entry(model_class, accelerator)[1]
    if trace is not None:
        from gpufleet.workload.readers import read_requests
        from gpufleet.workload.requests import within_hour

        shape = within_hour(read_requests(trace, trace_format))
    else:
        shape = inf.catalog_within_hour("conversation")
    per_replica = per_gpu * replica_gpus
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    times = np.arange(0, 86400, 60.0)
    by_region = inf.demand_tokens_s(demand, start, times)
    total = np.sum(np.stack(list(by_region.values())), axis=0)
    hourly = total.reshape(24, 60).mean(axis=1)
    replicas = inf.replicas_needed(hourly, per_replica, headroom)
    peak_h = int(np.argmax(hourly))
    peak_minute_tokens = float(hourly[peak_h]) * shape.minute_peak_to_mean
    peak_minute_replicas = int(inf.replicas_needed(np.array([peak_minute_tokens]), per_replica, 1.0)[0])
    result = {
        "date": day.isoformat(),
        "model_class": model_class,
        "accelerator": accelerator,
        "tokens_per_s_per_gpu": per_gpu,
        "throughput_source": how,
        "replica_gpus": replica_gpus,
        "headroom": headroom,
        "mean_tokens_s": float(total.mean()),
        "by_hour_utc": [
            {
                "hour": h,
                "tokens_s": float(hourly[h]),
                "replicas": int(replicas[h]),
                "gpus": int(replicas[h]) * replica_gpus,
            }
            for h in range(24)
        ],
        "peak_hour_utc": peak_h,
        "peak_tokens_s": float(hourly[peak_h]),
        "peak_gpus": int(replicas[peak_h]) * replica_gpus,
        "within_hour": asdict(shape),
        "peak_minute_tokens_s": peak_minute_tokens,
        "peak_minute_gpus_no_headroom": peak_minute_replicas * replica_gpus,
        "prompt_tokens_s_at_peak": float(hourly[peak_h]) * shape.prompt_tokens_per_output_token,
    }
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"{model_class} on {accelerator}: {per_gpu:,.1f} output tokens/s per GPU ({how}); "
        f"replica {replica_gpus} GPUs, headroom {headroom:g}"
    )
    rows = [
        (f"{h:02d}:00", fmt_num(hourly[h] / 1e6, 2), fmt_num(int(r)), fmt_num(int(r) * replica_gpus))
        for h, r in enumerate(replicas)
    ]
    print_table(
        f"Demand and GPUs by UTC hour, {day} ({day.strftime('%A')})",
        ["hour (UTC)", "M tokens/s", "replicas", "GPUs"],
        rows,
        right=["M tokens/s", "replicas", "GPUs"],
    )
    typer.echo(
        f"mean {total.mean() / 1e6:,.2f} M tokens/s; peak hour {peak_h:02d}:00 UTC "
        f"{hourly[peak_h] / 1e6:,.2f} M tokens/s -> {int(replicas[peak_h]) * replica_gpus:,} GPUs"
    )
    typer.echo(
        f"within the hour ({shape.name}, {shape.source}): peak minute x{shape.minute_peak_to_mean:.2f} -> "
        f"{peak_minute_tokens / 1e6:,.2f} M tokens/s, "
        f"{peak_minute_replicas * replica_gpus:,} GPUs without headroom; "
        f"prompt tokens per output token {shape.prompt_tokens_per_output_token:.2f}"
    )
