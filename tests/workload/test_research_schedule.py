"""Research as a planned schedule of busy GPUs: the steps by day, and the offered load that follows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pydantic import ValidationError

from gpufleet.scenario.schema import GpuStep, SyntheticSource
from gpufleet.units import SECONDS_PER_DAY
from gpufleet.workload.streams import schedule_gpus_per_day, synthesize
from gpufleet.workload.synthetic import builtin_params


def test_schedule_steps_hold_until_the_next() -> None:
    steps = [GpuStep(date=dt.date(2026, 1, 3), gpus=100), GpuStep(date=dt.date(2026, 1, 6), gpus=250)]
    days = schedule_gpus_per_day(steps, dt.date(2026, 1, 1), 8)
    np.testing.assert_array_equal(days, [0, 0, 100, 100, 100, 250, 250, 250])


def test_schedule_offers_its_gpu_seconds_whatever_the_capacity() -> None:
    steps = [GpuStep(date=dt.date(2026, 1, 1), gpus=2000), GpuStep(date=dt.date(2026, 7, 1), gpus=6000)]
    days = 365
    cap = schedule_gpus_per_day(steps, dt.date(2026, 1, 1), days)
    batch = synthesize(
        builtin_params("philly"),
        np.random.default_rng(7),
        horizon_s=days * SECONDS_PER_DAY,
        fleet_share=1.0,
        capacity_gpus_per_day=cap,
    )
    offered = float((batch.gpus * batch.duration_s).sum())
    planned = float(cap.sum()) * SECONDS_PER_DAY
    assert offered == pytest.approx(planned, rel=0.15)  # heavy-tailed job sizes: a loose tolerance


def test_one_rate_only() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        SyntheticSource.model_validate(
            {"fleet_share": 0.1, "gpus_schedule": [{"date": "2026-01-01", "gpus": 1}]}
        )
    with pytest.raises(ValidationError, match="increase"):
        SyntheticSource.model_validate(
            {"gpus_schedule": [{"date": "2026-02-01", "gpus": 1}, {"date": "2026-01-01", "gpus": 2}]}
        )
