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
from gpufleet.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

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


def _positive(value: float | None, option: str, zero_ok: bool = False) -> None:
    """A finite number > 0 (>= 0 with zero_ok), else an InputError naming the option."""
    if value is None:
        return
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        raise InputError(
            f"expected a finite number {'>= 0' if zero_ok else '> 0'}, got {value:g}", where=option
        )


_ACCELERATOR_OPTIONS = {"tflops": "--peak-tflops", "hbm_gb": "--memory-gb", "power_w": "--power-kw"}


def _custom_accelerator(
    acc_id: str,
    precision: str | None,
    peak_tflops: float | None,
    memory_gb: float | None,
    power_kw: float | None,
) -> Any:
    """An accelerator from the command line: `peak_tflops` is the dense peak at the run's precision."""
    from pydantic import ValidationError

    from gpufleet.catalog.model import Accelerator
    from gpufleet.workload.training import default_precision

    for value, option in (
        (peak_tflops, "--peak-tflops"),
        (memory_gb, "--memory-gb"),
        (power_kw, "--power-kw"),
    ):
        if value is None:
            raise InputError(
                "a custom accelerator needs --peak-tflops, --memory-gb and --power-kw", where=option
            )
        _positive(value, option)
    assert peak_tflops is not None and memory_gb is not None and power_kw is not None
    prec = precision if precision in ("bf16", "fp8", "fp4") else default_precision(acc_id)[0]
    per_bf16 = {"bf16": 1.0, "fp8": 2.0, "fp4": 4.0}[prec]  # the usual dense ratios, for bf16's slot
    tflops: dict[str, float] = {"bf16": peak_tflops / per_bf16, prec: peak_tflops}
    try:
        return Accelerator.model_validate(
            {
                "id": acc_id,
                "name": f"{acc_id} (command line)",
                "vendor": "custom",
                "tflops": tflops,
                "hbm_gb": memory_gb,
                "hbm_tbps": 1.0,
                "power_w": power_kw * 1000.0,
                "nvlink_domain_gpus": 8,
                "sources": ["command line"],
                "confidence": "assumption",
                "notes": {
                    "tflops": f"given at {prec}"
                    + ("" if prec == "bf16" else f"; bf16 taken as 1/{per_bf16:g}"),
                    "hbm_tbps": "not given; not used by the training estimate",
                    "nvlink_domain_gpus": "not given; not used by the training estimate",
                },
            }
        )
    except ValidationError as exc:
        raise _validation_problems(exc, _ACCELERATOR_OPTIONS, whole="--accelerator") from None


def _accelerator_file(path: Path, acc_id: str | None) -> Any:
    """One accelerator from a YAML file in the catalog's format (an entry, or a list of entries)."""
    from pydantic import ValidationError

    from gpufleet.catalog.model import Accelerator
    from gpufleet.scenario.load import error_message
    from gpufleet.scenario.source import format_path, parse_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a folder, not an accelerator file", where=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", where=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where=str(path)) from None
    data, smap = parse_yaml(text, str(path))
    entries = data if isinstance(data, list) else [data]
    picked = [
        (i, e)
        for i, e in enumerate(entries)
        if acc_id is None or (isinstance(e, dict) and e.get("id") == acc_id)
    ]
    if len(picked) != 1:
        ids = [e.get("id") for e in entries if isinstance(e, dict)]
        what = f"no accelerator '{acc_id}'" if acc_id and not picked else "give --accelerator to pick one"
        raise InputError(f"{what}; the file has {ids}", where=smap.where(()))
    i, entry = picked[0]
    if not isinstance(entry, dict):
        raise InputError("an accelerator is a YAML mapping of keys to values", where=smap.where(()))
    try:
        return Accelerator.model_validate(entry)
    except ValidationError as exc:
        prefix: tuple[int, ...] = (i,) if isinstance(data, list) else ()
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(Problem(smap.where(prefix + loc), format_path(loc), error_message(err)))
        raise InputError(problems) from None


@estimate_app.command("training")
def training(
    params: float = typer.Option(..., "--params", help="Parameters N, e.g. 405e9."),
    tokens: float = typer.Option(..., "--tokens", help="Training tokens D, e.g. 15.6e12."),
    accelerator: str | None = typer.Option(
        None, "--accelerator", help="Catalog accelerator id (h100, gb200 ...), or the id of a custom one."
    ),
    gpus: int = typer.Option(..., "--gpus", help="GPUs in the job."),
    precision: str | None = typer.Option(
        None, "--precision", help="bf16, fp8 or fp4 (default: what the accelerator trains in, catalog)."
    ),
    mfu: float | None = typer.Option(None, "--mfu", help="MFU (default: catalog curve by scale)."),
    seq_len: int | None = typer.Option(None, "--seq-len", help="Sequence length: adds attention FLOPs."),
    layers: int | None = typer.Option(None, "--layers", help="Layers (for the attention term)."),
    hidden: int | None = typer.Option(None, "--hidden", help="Hidden size (for the attention term)."),
    checkpoint_cost: float = typer.Option(30.0, "--checkpoint-cost", help="Seconds a checkpoint stalls."),
    checkpoint_interval: float | None = typer.Option(
        None, "--checkpoint-interval", help="Training seconds between checkpoints (default: the optimum)."
    ),
    restart: float | None = typer.Option(
        None, "--restart", help="Restart overhead in seconds (default: grows with job size)."
    ),
    failure_rate: float | None = typer.Option(
        None, "--failure-rate", help="Interruptions per GPU-hour (default: catalog, Llama 3 calibration)."
    ),
    price: float | None = typer.Option(None, "--price", help="$ per GPU-hour, for the cost."),
    peak_tflops: float | None = typer.Option(
        None, "--peak-tflops", help="Custom accelerator: dense peak TFLOP/s at the precision."
    ),
    memory_gb: float | None = typer.Option(None, "--memory-gb", help="Custom accelerator: HBM in GB."),
    power_kw: float | None = typer.Option(None, "--power-kw", help="Custom accelerator: power per GPU, kW."),
    accelerator_file: Path | None = typer.Option(
        None, "--accelerator-file", help="Custom accelerator from a YAML file in the catalog's format."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """FLOPs, achieved TFLOP/s per GPU, wall time, GPU-hours, cost, interruptions and goodput of a run."""
    from pydantic import ValidationError

    from gpufleet.catalog import load_builtin_catalog
    from gpufleet.scenario.schema import TrainingRun
    from gpufleet.workload.training import checkpoint_size_bytes, plan_training

    _positive(failure_rate, "--failure-rate", zero_ok=True)
    _positive(price, "--price")
    catalog = load_builtin_catalog()
    custom = any(v is not None for v in (peak_tflops, memory_gb, power_kw))
    if custom and accelerator_file is not None:
        raise InputError("give --accelerator-file or --peak-tflops/--memory-gb/--power-kw, not both",
                         where="--accelerator-file")  # fmt: skip
    if accelerator_file is not None:
        acc = _accelerator_file(accelerator_file, accelerator)
    elif custom:
        acc = _custom_accelerator(accelerator or "custom", precision, peak_tflops, memory_gb, power_kw)
    elif accelerator is None:
        raise InputError("give --accelerator (or a custom one: --peak-tflops ..., --accelerator-file)",
                         where="--accelerator")  # fmt: skip
    else:
        acc = None
    if acc is not None:
        catalog = catalog.with_overrides([acc])
        accelerator = acc.id
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
    plan = plan_training(run, catalog, failure_rate_override=failure_rate)
    chip = catalog.accelerators[run.accelerator]
    cost = None if price is None or math.isinf(plan.expected_gpu_hours) else plan.expected_gpu_hours * price
    states_gb = checkpoint_size_bytes(params) / plan.gpus / 1e9  # weights + optimizer, fully sharded
    energy_mwh = plan.expected_gpu_hours * chip.power_w / 1e6
    if as_json:
        print_json(
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(plan).items()
            }
            | {
                "achieved_tflops_per_gpu": plan.achieved_flops_per_gpu / 1e12,
                "compute_days": plan.compute_s / SECONDS_PER_DAY,
                "expected_wall_days": None
                if math.isinf(plan.expected_wall_s)
                else plan.expected_wall_s / SECONDS_PER_DAY,
                "price_per_gpu_hour_usd": price,
                "expected_cost_usd": cost,
                "model_states_gb_per_gpu": states_gb,
                "gpu_energy_mwh": energy_mwh,
                "accelerator_spec": chip.model_dump(mode="json"),
            }
        )
        return
    ck_note = f"write {plan.checkpoint_write_s:,.1f} s at storage bandwidth; "
    ck_note += f"stall charged {plan.checkpoint_cost_s:g} s"
    price_note = f"at ${price:g}/GPU-h" if price else "give --price"
    interval_how = "given" if checkpoint_interval is not None else "optimum M (1 + W0(-e^(-1-C/M)))"
    rows = [
        ("training FLOPs", f"{plan.flops:.3e}", "6 N D" + (" + attention" if plan.attention_flops else "")),
        ("precision", plan.precision, "given" if plan.precision_source == "run" else plan.precision_source),
        ("MFU", f"{plan.mfu:.1%}", plan.mfu_source),
        ("achieved TFLOP/s per GPU", fmt_num(plan.achieved_flops_per_gpu / 1e12, 0),
         f"{plan.precision} peak {plan.peak_flops_per_gpu / 1e12:,.0f}"),
        ("compute time (no failures)", f"{plan.compute_s / SECONDS_PER_DAY:,.1f} days", ""),
        ("GPU-hours (no failures)", fmt_num(plan.gpu_hours), ""),
        ("model states per GPU", f"{states_gb:,.1f} GB", f"14 B/param fully sharded; HBM {chip.hbm_gb:g} GB"),
        ("interruption rate", f"{plan.failure_rate_per_gpu_hour:.2e} per GPU-hour",
         "override" if failure_rate is not None else "catalog"),
        ("job MTBF", f"{plan.mtbf_s / SECONDS_PER_HOUR:,.2f} h", f"{plan.gpus:,} GPUs"),
        ("checkpoint", f"{plan.checkpoint_bytes / 1e12:,.2f} TB", ck_note),
        ("checkpoint interval", f"{plan.checkpoint_interval_s:,.0f} s", interval_how),
        ("restart overhead", f"{plan.restart_s:,.0f} s", "given" if restart is not None else "by size"),
        ("expected goodput", f"{plan.expected_goodput:.1%}", "compute / expected wall time"),
        ("expected interruptions", fmt_num(plan.expected_interruptions), ""),
        ("expected wall time", f"{plan.expected_wall_s / SECONDS_PER_DAY:,.1f} days",
         "periods x M e^(R/M) (e^((tau+C)/M) - 1)"),
        ("expected GPU-hours", fmt_num(plan.expected_gpu_hours), ""),
        ("GPU energy", f"{energy_mwh:,.0f} MWh", f"{chip.power_w / 1000:g} kW per GPU, no PUE"),
        ("expected cost", fmt_usd(cost) if cost is not None else "-", price_note),
    ]  # fmt: skip
    if not math.isfinite(plan.expected_wall_s):
        rows.append(("warning", "never finishes", "failures and restarts outpace progress at this size"))
    elif plan.expected_goodput <= 0.01:
        rows.append(("warning", "barely progresses", "failures and restarts outpace progress at this size"))
    if states_gb > chip.hbm_gb:
        rows.append(("warning", "does not fit", f"model states alone exceed {chip.hbm_gb:g} GB per GPU"))
    print_table(
        f"Training estimate: {params:.3g} params x {tokens:.3g} tokens on {gpus:,} {run.accelerator}",
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
    times = np.arange(0, SECONDS_PER_DAY, 60.0)
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
