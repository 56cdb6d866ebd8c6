"""Interruptions of large jobs: failure rates, restart overhead, Young/Daly checkpoint interval, goodput.

Arithmetic (DESIGN.md, "Failures" and "Checkpointing"):
- rate per GPU-hour: Llama 3 calibration 419 / (54 d x 24 h x 16,384 GPUs) ~ 1.97e-5 for H100, other
  accelerators x a stated multiplier (catalog/data/reliability.yaml);
- a job on G GPUs fails at G x rate per hour: MTBF M = 3,600 / (G x rate) seconds;
- Young/Daly interval tau = sqrt(2 C M) for checkpoint cost C;
- goodput = 1 - C/tau - (tau/2 + R)/M, the share of wall time that advances training.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from gpufleet.catalog import read_data_file


@dataclass(frozen=True, slots=True)
class ReliabilityData:
    """The reliability data file, parsed."""

    calibration_rate: float  # interruptions per GPU-hour on the calibration accelerator
    calibration_accelerator: str
    multipliers: dict[str, float]
    default_multiplier: float
    restart_points: tuple[tuple[float, float], ...]  # (gpus, seconds), ascending
    restart_floor_s: float


@cache
def reliability_data() -> ReliabilityData:
    raw: dict[str, Any] = read_data_file("reliability.yaml")
    cal = raw["calibration"]
    rate = float(cal["unexpected_interruptions"]) / (float(cal["days"]) * 24.0 * float(cal["gpus"]))
    points = sorted((float(p["gpus"]), float(p["seconds"])) for p in raw["restart"]["points"])
    return ReliabilityData(
        calibration_rate=rate,
        calibration_accelerator=str(cal["accelerator"]),
        multipliers={str(k): float(v["multiplier"]) for k, v in raw["multipliers"].items()},
        default_multiplier=float(raw["default_multiplier"]["multiplier"]),
        restart_points=tuple(points),
        restart_floor_s=float(raw["restart"]["floor_s"]),
    )


def failure_rate_per_gpu_hour(accelerator_id: str, overrides: Mapping[str, float] | None = None) -> float:
    """Unexpected interruptions per GPU-hour for an accelerator: a scenario override, else catalog."""
    if overrides and accelerator_id in overrides:
        return float(overrides[accelerator_id])
    data = reliability_data()
    mult = data.multipliers.get(accelerator_id, data.default_multiplier)
    return data.calibration_rate * mult


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
    (g0, r0), (g1, r1) = reliability_data().restart_points[0], reliability_data().restart_points[-1]
    exponent = math.log(r1 / r0) / math.log(g1 / g0)
    return max(reliability_data().restart_floor_s, float(r0 * (gpus / g0) ** exponent))


def young_daly_interval_s(checkpoint_cost_s: float, mtbf_s: float) -> float:
    """Young/Daly optimal checkpoint interval sqrt(2 C M); 0 when checkpoints cost nothing."""
    if checkpoint_cost_s < 0 or mtbf_s <= 0:
        raise ValueError("checkpoint cost must be >= 0 and MTBF > 0")
    return math.sqrt(2.0 * checkpoint_cost_s * mtbf_s)


def expected_goodput(checkpoint_cost_s: float, interval_s: float, restart_s: float, mtbf_s: float) -> float:
    """1 - C/tau - (tau/2 + R)/M, clipped to [0, 1]: the share of wall time that advances training.

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
