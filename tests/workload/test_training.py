"""Training plans: FLOPs, precision and MFU defaults, goodput; the Llama 3 405B check (DESIGN.md)."""

from __future__ import annotations

import itertools
import math

import pytest

from gpufleet.catalog import load_builtin_catalog, load_sources, load_training_data
from gpufleet.errors import InputError
from gpufleet.scenario.schema import TrainingRun
from gpufleet.workload import reliability as rel
from gpufleet.workload.training import default_mfu, default_precision, plan_training, training_flops

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


def test_llama3_405b_published_figures_at_bf16() -> None:
    # DESIGN.md: 3.8e25 FLOPs, ~400 TFLOP/s per H100 at 16k, ~67 days of compute, 70-75 with goodput
    p = plan_training(_run(precision="bf16"), CAT)
    assert p.precision == "bf16" and p.precision_source == "run"
    assert p.flops == pytest.approx(3.8e25, rel=0.05)
    assert 380e12 <= p.achieved_flops_per_gpu <= 430e12
    assert 63 <= p.compute_s / 86400 <= 70
    assert p.expected_goodput > 0.90
    assert 70 <= p.expected_wall_s / 86400 <= 75
    # hand calculation of the chain
    flops = 6 * 405e9 * 15.6e12
    compute = flops / (16384 * 989e12 * p.mfu)
    assert p.compute_s == pytest.approx(compute)
    assert p.gpu_hours == pytest.approx(16384 * compute / 3600)
    m = 3600 / (16384 * 419 / (54 * 24 * 16384))
    assert p.mtbf_s == pytest.approx(m)
    tau = p.checkpoint_interval_s
    assert (1 - tau / m) * math.exp(tau / m) == pytest.approx(math.exp(-30 / m))  # the exact optimum
    assert p.checkpoint_period_s == pytest.approx(tau + 30)
    assert p.work_s == pytest.approx(compute * (tau + 30) / tau)
    # Daly's expected time per period, summed over the periods (the last one partial)
    r = 200.0  # restart at 16,384 GPUs (reliability.yaml)
    n = math.floor(p.work_s / (tau + 30))
    per = m * math.exp(r / m) * math.expm1((tau + 30) / m)
    last = m * math.exp(r / m) * math.expm1((p.work_s - n * (tau + 30)) / m)
    assert p.expected_wall_s == pytest.approx(n * per + last)
    assert p.expected_goodput == pytest.approx(compute / p.expected_wall_s)
    assert p.expected_interruptions == pytest.approx(p.expected_wall_s / m)
    assert p.expected_lost_gpu_hours == pytest.approx(16384 * (p.expected_wall_s - p.work_s) / 3600)


def test_default_precision_follows_practice_with_a_source() -> None:
    table = load_training_data().default_precision
    sources = load_sources()
    for acc in CAT.accelerators:
        assert acc in table, f"{acc} has no default training precision"
        entry = table[acc]
        assert entry.sources and all(s in sources for s in entry.sources)
        assert getattr(CAT.accelerators[acc].tflops, entry.precision) is not None
    # publicly reported practice: FP8 on Hopper (DeepSeek-V3, Llama 4) and Blackwell (NVIDIA)
    for acc in ("h100", "b200", "gb200", "gb300"):
        assert default_precision(acc)[0] == "fp8"
    assert default_precision("my-chip")[0] == "bf16"
    assert "not in catalog" in default_precision("my-chip")[1]
    p = plan_training(_run(), CAT)
    assert p.precision == "fp8" and "deepseek_v3" in p.precision_source
    assert p.peak_flops_per_gpu == 1979e12


def test_mfu_curves_follow_their_measurements_and_decline_with_scale() -> None:
    assert default_mfu("h100", "bf16", 8192)[0] == pytest.approx(0.43)
    assert default_mfu("h100", "bf16", 16384)[0] == pytest.approx(0.41)
    assert default_mfu("h100", "bf16", 1024)[0] == pytest.approx(0.43)
    between = default_mfu("h100", "bf16", round(math.sqrt(8192 * 16384)))[0]
    assert between == pytest.approx(0.42, abs=1e-4)
    # NVIDIA's published model TFLOP/s / peak at the precision (NeMo 26.02, Llama 3.1 405B)
    assert default_mfu("h100", "fp8", 1024)[0] == pytest.approx(784 / 1979, abs=0.001)
    assert default_mfu("gb200", "fp8", 256)[0] == pytest.approx(2004 / 5000, abs=0.001)
    assert default_mfu("gb300", "fp8", 256)[0] == pytest.approx(2495 / 5000, abs=0.001)
    assert default_mfu("gb300", "fp4", 256)[0] == pytest.approx(3365 / 15000, abs=0.001)
    sizes = [16384, 32768, 98304, 262144, 1_000_000]
    for acc, prec in (("h100", "bf16"), ("h100", "fp8"), ("gb300", "fp8"), ("b200", "fp8")):
        mfus = [default_mfu(acc, prec, g)[0] for g in sizes]
        assert all(a >= b for a, b in itertools.pairwise(mfus)), (acc, prec)
    assert default_mfu("h100", "bf16", 32768)[0] == pytest.approx(0.41 * 0.953)
    gb, note = default_mfu("mi300x", "bf16", 16384)
    assert gb == pytest.approx(0.8 * 0.41) and "assumption" in note


def test_a_precision_without_a_curve_converts_by_the_stated_speedup() -> None:
    # GB300 has no bf16 curve: its fp8 curve x (1 / 1.46) x fp8 peak / bf16 peak
    peaks = {"bf16": 2500.0, "fp8": 5000.0, "fp4": 15000.0}
    mfu, note = default_mfu("gb300", "bf16", 256, peaks)
    assert mfu == pytest.approx(0.499 / 1.46 * 2)
    assert "speedup" in note
    with pytest.raises(KeyError):
        default_mfu("gb300", "bf16", 256)  # needs the peaks to convert
    # an accelerator outside the table uses H100's curves (assumption, stated)
    mfu, note = default_mfu("my-chip", "bf16", 16384)
    assert mfu == pytest.approx(0.41) and "not in the MFU table" in note


def test_the_scenario_plan_uses_the_scenario_failure_policy() -> None:
    from gpufleet.scenario import load_scenario
    from gpufleet.workload.training import plan_scenario_run

    loaded = load_scenario(None)
    # the largest of the default roadmap's runs (393,216 GB300 in FP8): failures matter most there
    runs = [w.training_run for w in loaded.scenario.workloads if w.training_run is not None]
    run = max(runs, key=lambda r: (r.gpus, r.tokens))
    assert run.accelerator == "gb300"
    assert isinstance(run, type(_run()))
    p = plan_scenario_run(run, loaded.scenario, loaded.catalog)
    assert p == plan_training(run, loaded.catalog)  # no override in the default scenario
    off = loaded.scenario.model_copy(
        update={"policies": loaded.scenario.policies.model_copy(
            update={"failures": loaded.scenario.policies.failures.model_copy(update={"enabled": False})})}
    )  # fmt: skip
    q = plan_scenario_run(run, off, loaded.catalog)
    assert q.expected_interruptions == 0 and q.expected_wall_s == pytest.approx(q.work_s)
    assert q.checkpoint_interval_s == p.checkpoint_interval_s  # still checkpoints for preemptions
    rate = 1e-6
    over = off.model_copy(
        update={"policies": off.policies.model_copy(
            update={"failures": off.policies.failures.model_copy(
                update={"enabled": True, "rate_per_gpu_hour": {"gb300": rate}})})}
    )  # fmt: skip
    assert plan_scenario_run(run, over, loaded.catalog).failure_rate_per_gpu_hour == rate


def test_attention_term_by_hand_and_its_requirements() -> None:
    total, att = training_flops(405e9, 15.6e12, 8192, 126, 16384)
    assert att == pytest.approx(12 * 126 * 16384 * 8192 * 15.6e12)
    assert total == pytest.approx(6 * 405e9 * 15.6e12 + att)
    with pytest.raises(InputError, match="layers"):
        plan_training(_run(sequence_length=8192), CAT)


def test_given_mfu_interval_restart_and_override_are_used() -> None:
    p = plan_training(
        _run(mfu=0.5, precision="bf16", checkpoint={"cost_s": 10, "interval_s": 600, "restart_s": 120}),
        CAT,
        failure_rate_override=1e-5,
    )
    assert p.mfu == 0.5 and p.mfu_source == "run"
    assert p.achieved_flops_per_gpu == pytest.approx(0.5 * 989e12)
    m = 3600 / (16384 * 1e-5)
    assert p.checkpoint_interval_s == 600 and p.restart_s == 120
    assert p.expected_wall_s == pytest.approx(rel.expected_wall_s(p.compute_s * 610 / 600, 610, 120, m))
    # close to the first-order goodput while tau and R are small against M
    assert p.expected_goodput == pytest.approx(1 - 10 / 610 - (305 + 120) / m, abs=0.01)


def test_unknown_accelerator_is_bad_input() -> None:
    with pytest.raises(InputError, match="unknown accelerator"):
        plan_training(_run(accelerator="tpu9"), CAT)


def test_precision_changes_peak() -> None:
    bf = plan_training(_run(accelerator="gb300", gpus=4096, precision="bf16"), CAT)
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


def test_an_mfu_so_small_the_run_never_ends_is_an_input_error() -> None:
    with pytest.raises(InputError, match="forever"):
        plan_training(_run(gpus=1, mfu=2.225073858507e-311), CAT)
