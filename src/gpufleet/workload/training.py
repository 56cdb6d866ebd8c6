"""Training runs: FLOPs, precision, MFU, GPU-hours, checkpointing and failures -> expected wall time.

One model, used by `gpufleet estimate training` and by the engine's input (assemble.py):
- FLOPs = 6 N D, plus 12 L d T per token for attention when sequence length T, layers L and hidden
  size d are given (the PaLM / Chinchilla accounting, forward + backward);
- precision: the run's, else the accelerator's default (catalog/data/training.yaml);
- achieved FLOP/s per GPU = dense peak at the precision x MFU (the run's, or the catalog's curve
  by accelerator, precision and scale);
- compute time = FLOPs / (GPUs x achieved FLOP/s): wall time at full speed with no failures;
- work = compute + checkpoint writes (C every tau of training): what the engine runs;
- expected wall time = work under failures and restarts (workload.reliability, exact for the engine's
  failure process); goodput = compute / expected wall time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import get_args

from gpufleet.catalog import Catalog, load_training_data
from gpufleet.catalog.model import Accelerator, Precision
from gpufleet.catalog.workload_model import MfuPoint
from gpufleet.errors import InputError
from gpufleet.scenario.schema import Scenario, TrainingRun
from gpufleet.workload import reliability

PRECISIONS: tuple[str, ...] = get_args(Precision)


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    """What a training run needs and how long it is expected to take. Seconds, FLOPs, GPU-hours."""

    name: str
    accelerator: str
    precision: str
    precision_source: str  # "run" or the catalog default's basis
    gpus: int
    flops: float  # total training FLOPs (dense 6ND + attention term)
    attention_flops: float  # the attention part of `flops` (0 when not modelled)
    peak_flops_per_gpu: float  # dense peak FLOP/s at the precision
    mfu: float  # against the peak at the precision
    mfu_source: str  # "run" or a short description of the catalog figure used
    achieved_flops_per_gpu: float
    compute_s: float  # wall time at full speed, no failures, no checkpoints
    gpu_hours: float  # GPUs x compute time
    checkpoint_bytes: float
    checkpoint_write_s: float  # bytes / storage bandwidth: a lower bound on the stall
    checkpoint_cost_s: float  # stall charged per checkpoint (the run's checkpoint.cost_s)
    checkpoint_interval_s: float  # training seconds between checkpoints: the run's, else the optimum
    checkpoint_period_s: float  # interval + cost: running seconds from one checkpoint to the next
    work_s: float  # compute + checkpoint writes: the run without failures (the engine's work)
    restart_s: float
    failure_rate_per_gpu_hour: float
    mtbf_s: float  # of the whole job
    expected_goodput: float  # compute / expected wall
    expected_wall_s: float
    expected_interruptions: float
    expected_gpu_hours: float  # GPUs x expected wall time (what the job occupies)
    expected_lost_gpu_hours: float  # GPUs x (expected wall - work): rolled-back work and restarts


def training_flops(
    params: float,
    tokens: float,
    sequence_length: int | None = None,
    layers: int | None = None,
    hidden_size: int | None = None,
) -> tuple[float, float]:
    """(total FLOPs, attention FLOPs): 6 N D, plus 12 L d T D when T, L and d are all given."""
    dense = 6.0 * params * tokens
    if sequence_length is None:
        return dense, 0.0
    if layers is None or hidden_size is None:
        raise ValueError("the attention term needs layers and hidden_size as well as sequence_length")
    attention = 12.0 * layers * hidden_size * sequence_length * tokens
    return dense + attention, attention


def default_precision(accelerator_id: str) -> tuple[Precision, str]:
    """The precision frontier training on this accelerator is reported in, and the basis for it."""
    table = load_training_data().default_precision
    known = accelerator_id in table
    entry = table[accelerator_id if known else "default"]
    where = "catalog" if known else "not in catalog"
    basis = f"{where}: {', '.join(entry.sources)} ({entry.confidence})"
    return entry.precision, basis


def _curve(points: Sequence[MfuPoint], gpus: int) -> float:
    """MFU at `gpus` on a curve of (gpus, mfu) points, by the rules stated in training.yaml."""
    scale = load_training_data().scale
    pts = sorted((float(p.gpus), p.mfu) for p in points)
    x = math.log2(gpus)
    if gpus <= pts[0][0]:
        return pts[0][1]
    for (g0, m0), (g1, m1) in itertools.pairwise(pts):
        if gpus <= g1:
            t = (x - math.log2(g0)) / (math.log2(g1) - math.log2(g0))
            return m0 + t * (m1 - m0)
    g_last, m_last = pts[-1]
    extrapolated = m_last * scale.per_doubling ** (x - math.log2(g_last))
    return float(max(extrapolated, scale.floor_share * m_last))


def default_mfu(
    accelerator_id: str, precision: str, gpus: int, peaks: Mapping[str, float | None] | None = None
) -> tuple[float, str]:
    """Catalog MFU for an accelerator, precision and job size, and a note of where it came from.

    An accelerator outside the table uses the `default` entry. Where the curve's accelerator has no
    curve at `precision`, one at another precision is converted by the achieved-speedup table; that
    needs the dense peaks of the accelerator (`peaks`, TFLOP/s or FLOP/s by precision).
    """
    data = load_training_data()
    table = data.mfu
    factor = 1.0
    notes: list[str] = []
    acc = accelerator_id if accelerator_id in table else "default"
    if acc == "default":
        notes.append(f"{accelerator_id} not in the MFU table")
    entry = table[acc]
    while entry.like is not None and entry.factor is not None:  # the catalog checks that likes end
        factor *= entry.factor
        notes.append(f"{acc} = {entry.factor} x {entry.like} ({entry.confidence})")
        acc, entry = entry.like, table[entry.like]
    curve = entry.curve(precision)
    if curve is not None:
        notes.append(f"{acc} {precision} curve ({curve.confidence}: {', '.join(curve.sources)})")
        return factor * _curve(curve.points, gpus), "; ".join(notes)
    for other in ("fp8", "bf16", "fp4"):
        curve = entry.curve(other)
        if other == precision or curve is None or peaks is None:
            continue
        p_other, p_this = peaks.get(other), peaks.get(precision)
        if not p_other or not p_this:
            continue
        ratio = data.precision_speedup.of(precision) / data.precision_speedup.of(other)
        mfu = factor * _curve(curve.points, gpus) * ratio * float(p_other) / float(p_this)
        notes.append(
            f"{acc} {other} curve ({curve.confidence}: {', '.join(curve.sources)}) "
            f"x {precision}/{other} speedup {ratio:.2f} (precision_speedup)"
        )
        return mfu, "; ".join(notes)
    raise KeyError(f"no default MFU for {accelerator_id} at {precision}; give the run's mfu")


def _peaks(acc: Accelerator) -> dict[str, float | None]:
    return {p: getattr(acc.tflops, p) for p in PRECISIONS}


def checkpoint_size_bytes(params: float) -> float:
    return load_training_data().checkpoint.bytes_per_param * params


def checkpoint_write_s(params: float) -> float:
    return checkpoint_size_bytes(params) / load_training_data().checkpoint.write_bandwidth_bytes_s


def plan_training(
    run: TrainingRun,
    catalog: Catalog,
    failure_rate_override: float | None = None,
    failures: bool = True,
) -> TrainingPlan:
    """The expected FLOPs, time and goodput of a training run, from the run and the catalog.

    `failure_rate_override` (interruptions per GPU-hour) replaces the catalog's rate, as a scenario's
    policies.failures.rate_per_gpu_hour does; `failures=False` plans a run that never fails. Raises
    InputError for an unknown accelerator, a missing MFU default or an incomplete attention term.
    """
    where = f"training_run {run.name}"
    acc = catalog.accelerators.get(run.accelerator)
    if acc is None:
        known = ", ".join(sorted(catalog.accelerators))
        raise InputError(f"unknown accelerator '{run.accelerator}'; known: {known}", where=where)
    if run.precision is not None:
        precision: Precision = run.precision
        precision_source = "run"
    else:
        precision, precision_source = default_precision(run.accelerator)
        if getattr(acc.tflops, precision) is None:
            precision, precision_source = "bf16", f"catalog default {precision} has no peak: bf16"
    if getattr(acc.tflops, precision) is None:
        # the catalog's peak_flops would fall back to bf16 while the MFU curve is for `precision`:
        # an fp4 run on an H100 would come out slower than at bf16
        has = ", ".join(p for p in PRECISIONS if getattr(acc.tflops, p) is not None)
        raise InputError(
            f"{run.accelerator} has no {precision} peak in the catalog; it has {has}", where=where
        )
    try:
        flops, attention = training_flops(
            run.params, run.tokens, run.sequence_length, run.layers, run.hidden_size
        )
    except ValueError as exc:
        raise InputError(str(exc), where=where) from None
    if run.mfu is not None:
        mfu, mfu_source = float(run.mfu), "run"
    else:
        try:
            mfu, mfu_source = default_mfu(run.accelerator, precision, run.gpus, _peaks(acc))
        except KeyError as exc:
            raise InputError(str(exc.args[0]), where=where) from None
    peak = acc.peak_flops(precision)
    achieved = peak * mfu
    compute_s = flops / (run.gpus * achieved)
    if not math.isfinite(compute_s):  # e.g. an MFU so small that the run would never finish
        raise InputError(f"the run would take forever at MFU {mfu:g} on {run.gpus} GPUs", where=where)

    expected_rate = (
        failure_rate_override
        if failure_rate_override is not None
        else reliability.failure_rate_per_gpu_hour(run.accelerator)
    )
    rate = expected_rate if failures else 0.0
    mtbf = reliability.job_mtbf_s(run.gpus, rate)
    cost = float(run.checkpoint.cost_s)
    restart = (
        float(run.checkpoint.restart_s)
        if run.checkpoint.restart_s is not None
        else reliability.restart_overhead_s(run.gpus)
    )
    if run.checkpoint.interval_s is not None:
        interval = float(run.checkpoint.interval_s)
    else:
        # a run checkpoints for the failures it expects even where a scenario turns failures off
        # (preemptions still roll back to the last checkpoint)
        interval = reliability.optimal_interval_s(cost, reliability.job_mtbf_s(run.gpus, expected_rate))
    if math.isinf(interval) or interval == 0:
        period, work = interval, compute_s  # never checkpoints, or free continuous checkpoints
    else:
        period, work = interval + cost, compute_s * (interval + cost) / interval
    wall = reliability.expected_wall_s(work, period, restart, mtbf)
    goodput = compute_s / wall if wall > 0 and math.isfinite(wall) else 0.0
    interruptions = 0.0 if math.isinf(mtbf) else wall / mtbf
    return TrainingPlan(
        name=run.name,
        accelerator=run.accelerator,
        precision=precision,
        precision_source=precision_source,
        gpus=run.gpus,
        flops=flops,
        attention_flops=attention,
        peak_flops_per_gpu=peak,
        mfu=mfu,
        mfu_source=mfu_source,
        achieved_flops_per_gpu=achieved,
        compute_s=compute_s,
        gpu_hours=run.gpus * compute_s / 3600.0,
        checkpoint_bytes=checkpoint_size_bytes(run.params),
        checkpoint_write_s=checkpoint_write_s(run.params),
        checkpoint_cost_s=cost,
        checkpoint_interval_s=interval,
        checkpoint_period_s=period,
        work_s=work,
        restart_s=restart,
        failure_rate_per_gpu_hour=rate,
        mtbf_s=mtbf,
        expected_goodput=goodput,
        expected_wall_s=wall,
        expected_interruptions=interruptions,
        expected_gpu_hours=run.gpus * wall / 3600.0,
        expected_lost_gpu_hours=run.gpus * (wall - work) / 3600.0,
    )


def plan_scenario_run(run: TrainingRun, scenario: Scenario, catalog: Catalog) -> TrainingPlan:
    """The plan of a scenario's training run under the scenario's failure policy: the one the engine
    runs (assemble.py) and the one its comparison measures against (workload.training_gap)."""
    f = scenario.policies.failures
    override = f.rate_per_gpu_hour.get(run.accelerator) if f.rate_per_gpu_hour else None
    strict = scenario.policies.strict
    return plan_training(run, catalog, override, failures=f.enabled and not strict)
