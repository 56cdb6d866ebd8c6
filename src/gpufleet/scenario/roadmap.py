"""A compute roadmap's frontier runs: pre-training on a cadence at k x compute, post-training alongside.

Run i (from 0) starts at first_start + i x every_months (while on or before `until`). Its compute is
C_i = 6 N_0 D_0 k^i (at most max_flop, never below the first run's) with the first run's tokens per
parameter r = D_0 / N_0 kept, so N_i = sqrt(C_i / 6r)
and D_i = r N_i. Its GPUs are first_gpus x gpu_growth^i, capped at max_gpus (what fits the largest
cluster), rounded down to gpu_multiple. Its post-training/RL run has the same parameters and
post_training_share x D_i tokens (share x C_i FLOPs) on post_training_gpus, starting
post_training_lag_months after the pre-training's start.
"""

from __future__ import annotations

import datetime as dt
import math

from gpufleet.scenario.schema import Roadmap, TrainingRun


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later (clipped to the month's last day)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _accelerator(roadmap: Roadmap, day: dt.date) -> tuple[str, str | None]:
    step = [a for a in roadmap.accelerators if a.date <= day][-1]
    return step.accelerator, step.precision


def roadmap_runs(roadmap: Roadmap, horizon_end: dt.date) -> list[TrainingRun]:
    """The training runs a roadmap generates, in start order (pre-training, then its post-training)."""
    until = min(roadmap.until or horizon_end, horizon_end)
    ratio = roadmap.first_tokens / roadmap.first_params
    first_compute = 6.0 * roadmap.first_params * roadmap.first_tokens
    runs: list[TrainingRun] = []
    i = 0
    while (start := add_months(roadmap.first_start, i * roadmap.every_months)) <= until:
        compute = first_compute * roadmap.compute_growth**i
        if roadmap.max_flop is not None:
            compute = min(compute, max(roadmap.max_flop, first_compute))
        params = math.sqrt(compute / (6.0 * ratio))
        tokens = ratio * params
        gpus = min(roadmap.max_gpus, round(roadmap.first_gpus * roadmap.gpu_growth**i))
        gpus = max(roadmap.gpu_multiple, gpus // roadmap.gpu_multiple * roadmap.gpu_multiple)
        acc, precision = _accelerator(roadmap, start)
        common = {
            "team": roadmap.team,
            "priority_class": roadmap.priority_class,
            "params": params,
            "accelerator": acc,
            "precision": precision,
            "checkpoint": roadmap.checkpoint,
            "allowed_providers": roadmap.allowed_providers,
        }
        runs.append(
            TrainingRun.model_validate(
                common
                | {
                    "name": f"{roadmap.name}-{i + 1}",
                    "tokens": tokens,
                    "gpus": gpus,
                    "topology": roadmap.topology,
                    "earliest_start": start,
                }
            )
        )
        post_start = add_months(start, roadmap.post_training_lag_months)
        if roadmap.post_training_share > 0 and post_start <= horizon_end:
            assert roadmap.post_training_gpus is not None
            runs.append(
                TrainingRun.model_validate(
                    common
                    | {
                        "name": f"{roadmap.name}-{i + 1}-post",
                        "tokens": roadmap.post_training_share * tokens,
                        "gpus": roadmap.post_training_gpus,
                        "earliest_start": post_start,
                    }
                )
            )
        i += 1
    return runs
