"""Training runs: FLOPs, MFU, GPU-hours, checkpointing and goodput -> expected wall time.

Arithmetic (DESIGN.md, "Training time"):
- FLOPs = 6 N D, plus 12 L d T per token for attention when sequence length T, layers L and hidden
  size d are given (the PaLM / Chinchilla accounting, forward + backward);
- achieved FLOP/s per GPU = dense peak at the precision x MFU (the run's, or the catalog's curve
  by accelerator, precision and scale: catalog/data/training.yaml);
- compute time = FLOPs / (GPUs x achieved FLOP/s): wall time at full speed with no failures;
- expected wall time = compute time / goodput (workload.reliability).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache
from typing import Any, get_args

from gpufleet.catalog import Catalog, read_data_file
from gpufleet.catalog.model import Precision
from gpufleet.errors import InputError
from gpufleet.scenario.schema import TrainingRun
from gpufleet.workload import reliability


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    """What a training run needs and how long it is expected to take. Seconds, FLOPs, GPU-hours."""

    name: str
    accelerator: str
    precision: str
    gpus: int
    flops: float  # total training FLOPs (dense 6ND + attention term)
    attention_flops: float  # the attention part of `flops` (0 when not modelled)
    peak_flops_per_gpu: float  # dense peak FLOP/s at the precision
    mfu: float
    mfu_source: str  # "run" or a short description of the catalog figure used
    achieved_flops_per_gpu: float
    compute_s: float  # wall time at full speed, no failures
    gpu_hours: float  # GPUs x compute time
    checkpoint_bytes: float
    checkpoint_write_s: float  # bytes / storage bandwidth: a lower bound on the stall
    checkpoint_cost_s: float  # stall charged per checkpoint (the run's checkpoint.cost_s)
    checkpoint_interval_s: float  # the run's, else Young/Daly
    restart_s: float
    failure_rate_per_gpu_hour: float
    mtbf_s: float  # of the whole job
    expected_goodput: float
    expected_wall_s: float
    expected_interruptions: float
    expected_gpu_hours: float  # GPUs x expected wall time (what the job occupies)


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


@cache
def _training_data() -> dict[str, Any]:
    data: dict[str, Any] = read_data_file("training.yaml")
    return data


def _curve(points: list[dict[str, float]], gpus: int) -> float:
    """MFU at `gpus` on a curve of (gpus, mfu) points, by the rules stated in training.yaml."""
    scale = _training_data()["scale"]
    pts = sorted((float(p["gpus"]), float(p["mfu"])) for p in points)
    x = math.log2(gpus)
    if gpus <= pts[0][0]:
        return pts[0][1]
    for (g0, m0), (g1, m1) in itertools.pairwise(pts):
        if gpus <= g1:
            t = (x - math.log2(g0)) / (math.log2(g1) - math.log2(g0))
            return m0 + t * (m1 - m0)
    g_last, m_last = pts[-1]
    extrapolated = m_last * float(scale["per_doubling"]) ** (x - math.log2(g_last))
    return float(max(extrapolated, float(scale["floor_share"]) * m_last))


def default_mfu(accelerator_id: str, precision: str, gpus: int) -> tuple[float, str]:
    """Catalog MFU for an accelerator, precision and job size, and a note of where it came from."""
    table: dict[str, Any] = _training_data()["mfu"]
    fallback: dict[str, Any] = _training_data()["precision_fallback"]
    factor = 1.0
    notes: list[str] = []
    acc, prec = accelerator_id, precision
    for _ in range(8):  # follow `like` and precision fallbacks; the data file has no cycles
        entry = table.get(acc)
        if entry is None:
            raise KeyError(f"no default MFU for accelerator '{accelerator_id}'; give the run's mfu")
        if "like" in entry:
            factor *= float(entry["factor"])
            notes.append(f"{acc} = {entry['factor']} x {entry['like']} ({entry['confidence']})")
            acc = str(entry["like"])
            continue
        if prec in entry:
            curve = entry[prec]
            mfu = factor * _curve(curve["points"], gpus)
            notes.append(f"{acc} {prec} curve ({curve['confidence']}: {', '.join(curve['sources'])})")
            return mfu, "; ".join(notes)
        if prec not in fallback:
            break
        fb = fallback[prec]
        factor *= float(fb["factor"])
        notes.append(f"{prec} = {fb['factor']} x {fb['precision']} ({fb['confidence']})")
        prec = str(fb["precision"])
    raise KeyError(f"no default MFU for {accelerator_id} at {precision}; give the run's mfu")


def checkpoint_size_bytes(params: float) -> float:
    return float(_training_data()["checkpoint"]["bytes_per_param"]) * params


def checkpoint_write_s(params: float) -> float:
    ck = _training_data()["checkpoint"]
    return checkpoint_size_bytes(params) / float(ck["write_bandwidth_bytes_s"])


def plan_training(
    run: TrainingRun, catalog: Catalog, failure_rate_override: float | None = None
) -> TrainingPlan:
    """The expected FLOPs, time and goodput of a training run, from the run and the catalog.

    `failure_rate_override` (interruptions per GPU-hour) replaces the catalog's rate, as a scenario's
    policies.failures.rate_per_gpu_hour does. Raises InputError for an unknown accelerator, a
    missing MFU default or an incomplete attention term.
    """
    where = f"training_run {run.name}"
    acc = catalog.accelerators.get(run.accelerator)
    if acc is None:
        known = ", ".join(sorted(catalog.accelerators))
        raise InputError(f"unknown accelerator '{run.accelerator}'; known: {known}", where=where)
    precision: Precision = run.precision
    if getattr(acc.tflops, precision) is None:
        # the catalog's peak_flops would fall back to bf16 while the MFU curve is for `precision`:
        # an fp4 run on an H100 would come out slower than at bf16
        has = ", ".join(p for p in get_args(Precision) if getattr(acc.tflops, p) is not None)
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
            mfu, mfu_source = default_mfu(run.accelerator, precision, run.gpus)
        except KeyError as exc:
            raise InputError(str(exc.args[0]), where=where) from None
    peak = acc.peak_flops(precision)
    achieved = peak * mfu
    compute_s = flops / (run.gpus * achieved)

    rate = (
        failure_rate_override
        if failure_rate_override is not None
        else reliability.failure_rate_per_gpu_hour(run.accelerator)
    )
    mtbf = reliability.job_mtbf_s(run.gpus, rate)
    cost = float(run.checkpoint.cost_s)
    restart = (
        float(run.checkpoint.restart_s)
        if run.checkpoint.restart_s is not None
        else reliability.restart_overhead_s(run.gpus)
    )
    if run.checkpoint.interval_s is not None:
        interval = float(run.checkpoint.interval_s)
    elif math.isinf(mtbf):
        interval = math.inf
    else:
        interval = reliability.young_daly_interval_s(cost, mtbf)
    goodput = 1.0 if math.isinf(interval) else reliability.expected_goodput(cost, interval, restart, mtbf)
    wall = math.inf if goodput <= 0 else compute_s / goodput
    interruptions = 0.0 if math.isinf(mtbf) else wall / mtbf
    return TrainingPlan(
        name=run.name,
        accelerator=run.accelerator,
        precision=precision,
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
        restart_s=restart,
        failure_rate_per_gpu_hour=rate,
        mtbf_s=mtbf,
        expected_goodput=goodput,
        expected_wall_s=wall,
        expected_interruptions=interruptions,
        expected_gpu_hours=run.gpus * wall / 3600.0,
    )
