"""Training plans: FLOPs, MFU defaults, goodput; the Llama 3 405B check (DESIGN.md)."""

from __future__ import annotations

import itertools
import math

import pytest

from gpufleet.catalog import load_builtin_catalog
from gpufleet.errors import InputError
from gpufleet.scenario.schema import TrainingRun
from gpufleet.workload.training import default_mfu, plan_training, training_flops

CAT = load_builtin_catalog()


def _run(**kw: object) -> TrainingRun:
    base: dict[str, object] = {
        "name": "r",
        "team": "t",
        "params": 405e9,
        "tokens": 15.6e12,
        "accelerator": "h100",
        "gpus": 16384,
    }
    base.update(kw)
    return TrainingRun.model_validate(base)


def test_llama3_405b_published_figures() -> None:
    p = plan_training(_run(), CAT)
    assert p.flops == pytest.approx(3.8e25, rel=0.05)
    assert 380e12 <= p.achieved_flops_per_gpu <= 430e12
    assert p.expected_goodput > 0.90
    assert 70 <= p.expected_wall_s / 86400 <= 75
    # hand calculation of the chain
    flops = 6 * 405e9 * 15.6e12
    compute = flops / (16384 * 989e12 * p.mfu)
    assert p.compute_s == pytest.approx(compute)
    assert p.gpu_hours == pytest.approx(16384 * compute / 3600)
    assert p.expected_wall_s == pytest.approx(compute / p.expected_goodput)
    m = 3600 / (16384 * 419 / (54 * 24 * 16384))
    assert p.mtbf_s == pytest.approx(m)
    assert p.checkpoint_interval_s == pytest.approx(math.sqrt(2 * 30 * m))
    assert p.expected_interruptions == pytest.approx(p.expected_wall_s / m)


def test_mfu_curve_follows_llama3_points_and_declines_with_scale() -> None:
    assert default_mfu("h100", "bf16", 8192)[0] == pytest.approx(0.43)
    assert default_mfu("h100", "bf16", 16384)[0] == pytest.approx(0.41)
    assert default_mfu("h100", "bf16", 1024)[0] == pytest.approx(0.43)
    between = default_mfu("h100", "bf16", round(math.sqrt(8192 * 16384)))[0]
    assert between == pytest.approx(0.42, abs=1e-4)
    sizes = [16384, 32768, 98304, 262144, 1_000_000]
    mfus = [default_mfu("h100", "bf16", g)[0] for g in sizes]
    assert all(a >= b for a, b in itertools.pairwise(mfus))
    assert mfus[1] == pytest.approx(0.41 * 0.953)
    gb, note = default_mfu("gb200", "bf16", 16384)
    assert gb < 0.41 and "assumption" in note


def test_attention_term_by_hand_and_its_requirements() -> None:
    total, att = training_flops(405e9, 15.6e12, 8192, 126, 16384)
    assert att == pytest.approx(12 * 126 * 16384 * 8192 * 15.6e12)
    assert total == pytest.approx(6 * 405e9 * 15.6e12 + att)
    with pytest.raises(InputError, match="layers"):
        plan_training(_run(sequence_length=8192), CAT)


def test_given_mfu_interval_restart_and_override_are_used() -> None:
    p = plan_training(
        _run(mfu=0.5, checkpoint={"cost_s": 10, "interval_s": 600, "restart_s": 120}),
        CAT,
        failure_rate_override=1e-5,
    )
    assert p.mfu == 0.5 and p.mfu_source == "run"
    assert p.achieved_flops_per_gpu == pytest.approx(0.5 * 989e12)
    m = 3600 / (16384 * 1e-5)
    assert p.expected_goodput == pytest.approx(1 - 10 / 600 - (300 + 120) / m)


def test_unknown_accelerator_is_bad_input() -> None:
    with pytest.raises(InputError, match="unknown accelerator"):
        plan_training(_run(accelerator="tpu9"), CAT)


def test_precision_changes_peak() -> None:
    bf = plan_training(_run(accelerator="gb300", gpus=4096), CAT)
    f8 = plan_training(_run(accelerator="gb300", gpus=4096, precision="fp8"), CAT)
    assert f8.peak_flops_per_gpu == 2 * bf.peak_flops_per_gpu
    assert f8.compute_s < bf.compute_s


def test_a_precision_the_chip_lacks_is_bad_input() -> None:
    # H100 has no FP4: the catalog's peak would fall back to BF16 while the MFU is FP4's
    assert CAT.accelerators["h100"].tflops.fp4 is None
    with pytest.raises(InputError, match="h100 has no fp4"):
        plan_training(_run(precision="fp4"), CAT)
    f4 = plan_training(_run(accelerator="gb200", gpus=4096, precision="fp4"), CAT)
    assert f4.peak_flops_per_gpu == CAT.accelerators["gb200"].tflops.fp4 * 1e12
