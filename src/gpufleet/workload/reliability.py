"""Interruptions of large jobs: failure rates, restart overhead, checkpoint interval, expected wall time.

Arithmetic (DESIGN.md, "Failures" and "Checkpointing"; docs/workloads.md):
- rate per GPU-hour: Llama 3 calibration 419 / (54 d x 24 h x 16,384 GPUs) ~ 1.97e-5 for H100, other
  accelerators x a stated multiplier (catalog/data/reliability.yaml);
- a job on G GPUs fails at G x rate per hour: MTBF M = 3,600 / (G x rate) seconds;
- the job runs in periods P = tau + C (tau of training, then a checkpoint costing C); a failure loses
  the period in progress and costs a restart R (which a failure may interrupt too). Under exponential
  failures a period takes M e^(R/M) (e^(P/M) - 1) seconds on average (Daly 2006, exact for this
  process, which is the one the engine draws), so wall = periods x that;
- the interval that minimises it: tau = M (1 + W0(-e^(-1 - C/M))) (W0: Lambert's W), which is
  Young's sqrt(2 C M) when C << M;
- goodput = compute time / expected wall time.
The first-order goodput 1 - C/tau - (tau/2 + R)/M (Young) is kept for comparison: it is close when
tau and R are small against M and far too pessimistic when they are not (a 393k-GPU job: M ~ 6 min).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from gpufleet.catalog import load_reliability_data


def calibration_rate_per_gpu_hour() -> float:
    """Interruptions per GPU-hour on the calibration accelerator: count / (days x 24 x GPUs)."""
    cal = load_reliability_data().calibration
    return cal.unexpected_interruptions / (cal.days * 24.0 * cal.gpus)


def failure_rate_per_gpu_hour(accelerator_id: str, overrides: Mapping[str, float] | None = None) -> float:
    """Unexpected interruptions per GPU-hour for an accelerator: a scenario override, else catalog."""
    if overrides and accelerator_id in overrides:
        return float(overrides[accelerator_id])
    data = load_reliability_data()
    mult = data.multipliers.get(accelerator_id, data.default_multiplier).multiplier
    return calibration_rate_per_gpu_hour() * mult


def job_mtbf_s(gpus: int, rate_per_gpu_hour: float) -> float:
    """Mean time between interruptions of a job on `gpus` GPUs, in seconds (inf when the rate is 0)."""
    per_hour = gpus * rate_per_gpu_hour
    return math.inf if per_hour <= 0 else 3600.0 / per_hour


def restart_overhead_s(gpus: int) -> float:
    """Seconds from an interruption to training again, for a job of `gpus` GPUs.

    A power law through the data file's two points (200 s at 16k, 900 s at 98k), extended both
    ways, and never below the floor.
    """
    if gpus <= 0:
        raise ValueError("gpus must be positive")
    restart = load_reliability_data().restart  # points by ascending GPUs (checked by the catalog)
    first, last = restart.points[0], restart.points[-1]
    g0, r0, g1, r1 = float(first.gpus), first.seconds, float(last.gpus), last.seconds
    exponent = math.log(r1 / r0) / math.log(g1 / g0)
    return max(restart.floor_s, float(r0 * (gpus / g0) ** exponent))


def young_daly_interval_s(checkpoint_cost_s: float, mtbf_s: float) -> float:
    """Young/Daly optimal checkpoint interval sqrt(2 C M); 0 when checkpoints cost nothing."""
    if checkpoint_cost_s < 0 or mtbf_s <= 0:
        raise ValueError("checkpoint cost must be >= 0 and MTBF > 0")
    return math.sqrt(2.0 * checkpoint_cost_s * mtbf_s)


def lambert_w0(x: float) -> float:
    """Principal branch of Lambert's W on [-1/e, 0]: w with w e^w = x (Halley's iteration)."""
    if not -1.0 / math.e - 1e-12 <= x <= 0.0:
        raise ValueError("lambert_w0 is defined here on [-1/e, 0]")
    if x <= -1.0 / math.e:
        return -1.0
    p = math.sqrt(2.0 * (math.e * x + 1.0))  # series about the branch point: a start within 1e-3
    w = -1.0 + p - p * p / 3.0 + 11.0 / 72.0 * p**3
    for _ in range(50):
        ew = math.exp(w)
        f = w * ew - x
        if f == 0.0:
            break
        step = f / (ew * (w + 1.0) - (w + 2.0) * f / (2.0 * w + 2.0))
        w -= step
        if abs(step) <= 1e-15 * (1.0 + abs(w)):
            break
    return w


def optimal_interval_s(checkpoint_cost_s: float, mtbf_s: float) -> float:
    """Training seconds between checkpoints that minimise the expected wall time (exact, Daly).

    Minimising (e^((tau + C)/M) - 1) / tau gives (1 - tau/M) e^(tau/M) = e^(-C/M), solved by
    tau = M (1 + W0(-e^(-1 - C/M))). 0 when checkpoints cost nothing, inf when nothing fails.
    """
    if checkpoint_cost_s < 0 or mtbf_s <= 0:
        raise ValueError("checkpoint cost must be >= 0 and MTBF > 0")
    if math.isinf(mtbf_s):
        return math.inf
    if checkpoint_cost_s == 0:
        return 0.0
    return mtbf_s * (1.0 + lambert_w0(-math.exp(-1.0 - checkpoint_cost_s / mtbf_s)))


def expected_wall_s(work_s: float, period_s: float, restart_s: float, mtbf_s: float) -> float:
    """Expected wall time to get through `work_s` seconds of uninterrupted running (training and
    checkpoint writes) when failures come at rate 1/M, each losing the period in progress and costing
    a restart R; checkpoints every `period_s` of running (0: continuous, inf: never).

    A period of length P takes M e^(R/M) (e^(P/M) - 1) on average whatever came before (each starts
    either at the job's start or right after a completed period), so the periods add; the last, shorter
    one counts for what it is. With P -> 0 the time per second of work tends to e^(R/M).
    """
    if work_s < 0 or period_s < 0 or restart_s < 0 or mtbf_s <= 0:
        raise ValueError("work, period and restart must be >= 0 and MTBF > 0")
    if math.isinf(mtbf_s) or math.isinf(work_s):
        return work_s  # no failures, or work that never ends (an MFU near zero): no remainder to take
    try:
        return _expected_wall_s(work_s, period_s, restart_s, mtbf_s)
    except OverflowError:
        return math.inf  # restarts and periods far beyond the MTBF: it never finishes


def _expected_wall_s(work_s: float, period_s: float, restart_s: float, m: float) -> float:
    scale = m * math.exp(restart_s / m)
    if period_s == 0:
        return work_s * math.exp(restart_s / m)
    if math.isinf(period_s) or period_s >= work_s:
        return scale * math.expm1(work_s / m)
    rest = math.fmod(work_s, period_s)
    x = period_s / m
    per_second = math.expm1(x) / x if x > 0 else 1.0  # e^(R/M) x this per second of whole periods
    return math.exp(restart_s / m) * (work_s - rest) * per_second + scale * math.expm1(rest / m)


def expected_goodput(checkpoint_cost_s: float, interval_s: float, restart_s: float, mtbf_s: float) -> float:
    """First-order goodput 1 - C/tau - (tau/2 + R)/M, clipped to [0, 1] (Young): for comparison only.

    C/tau is the time spent writing checkpoints; each failure (one per M seconds) loses half an
    interval of work on average plus the restart. With C = 0 and tau = 0 (continuous checkpoints)
    only the restarts cost.
    """
    if interval_s < 0 or restart_s < 0 or checkpoint_cost_s < 0:
        raise ValueError("checkpoint cost, interval and restart time must be >= 0")
    if interval_s == 0:
        if checkpoint_cost_s > 0:
            return 0.0
        write = 0.0
    else:
        write = checkpoint_cost_s / interval_s
    loss = 0.0 if math.isinf(mtbf_s) else (interval_s / 2.0 + restart_s) / mtbf_s
    return min(1.0, max(0.0, 1.0 - write - loss))
