"""`estimate training`: default precision, a custom accelerator (command line or file), bad values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import run_cli

from gpufleet.catalog import load_builtin_catalog

RUN = ("--params", "70e9", "--tokens", "2e12", "--gpus", "1024")


def _json(*args: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    res = run_cli("estimate", "training", *args, "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    out: dict[str, object] = json.loads(res.stdout)
    return out


def test_default_precision_is_the_accelerators_and_bf16_reproduces_llama3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    llama3 = ("--params", "405e9", "--tokens", "15.6e12", "--accelerator", "h100", "--gpus", "16384")
    d = _json(*llama3, capsys=capsys)
    assert d["precision"] == "fp8" and "deepseek_v3" in str(d["precision_source"])
    b = _json(*llama3, "--precision", "bf16", capsys=capsys)
    assert b["precision"] == "bf16" and b["precision_source"] == "run"
    assert 380 <= float(b["achieved_tflops_per_gpu"]) <= 430  # type: ignore[arg-type]
    assert 63 <= float(b["compute_days"]) <= 70  # type: ignore[arg-type]
    assert 70 <= float(b["expected_wall_days"]) <= 75  # type: ignore[arg-type]
    # FP8 runs faster than BF16 on the same chips (the point of the default)
    assert float(d["compute_days"]) < float(b["compute_days"])  # type: ignore[arg-type]


def test_a_custom_accelerator_round_trips_command_line_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = _json(*RUN, "--accelerator", "my-chip", "--peak-tflops", "1500", "--memory-gb", "120",
                "--power-kw", "1.2", "--price", "2", capsys=capsys)  # fmt: skip
    spec = cli["accelerator_spec"]
    assert isinstance(spec, dict)
    assert spec["id"] == "my-chip" and spec["hbm_gb"] == 120 and spec["power_w"] == pytest.approx(1200)
    assert cli["precision"] == "bf16"  # not in the catalog: bf16 (stated default)
    assert cli["peak_flops_per_gpu"] == pytest.approx(1500e12)
    assert cli["achieved_tflops_per_gpu"] == pytest.approx(1500 * float(cli["mfu"]))  # type: ignore[arg-type]
    # energy and memory come from the given power and HBM
    assert cli["gpu_energy_mwh"] == pytest.approx(float(cli["expected_gpu_hours"]) * 1.2 / 1000)  # type: ignore[arg-type]
    assert cli["model_states_gb_per_gpu"] == pytest.approx(14 * 70e9 / 1024 / 1e9)
    # the same accelerator written in the catalog's format gives the same plan
    f = tmp_path / "chip.yaml"
    f.write_text(yaml.safe_dump([spec]), encoding="utf-8")
    again = _json(*RUN, "--accelerator-file", str(f), "--price", "2", capsys=capsys)
    for key in ("precision", "mfu", "compute_s", "expected_wall_s", "expected_cost_usd", "gpu_energy_mwh"):
        assert again[key] == cli[key], key
    # a catalog accelerator in a file reproduces the catalog's own figures
    h100 = load_builtin_catalog().accelerators["h100"].model_dump(mode="json")
    f.write_text(yaml.safe_dump(h100), encoding="utf-8")
    from_file = _json(*RUN, "--accelerator-file", str(f), capsys=capsys)
    builtin = _json(*RUN, "--accelerator", "h100", capsys=capsys)
    assert from_file["expected_wall_s"] == builtin["expected_wall_s"]


def test_custom_precision_sets_that_peak(capsys: pytest.CaptureFixture[str]) -> None:
    d = _json(*RUN, "--peak-tflops", "4000", "--memory-gb", "200", "--power-kw", "1",
              "--precision", "fp8", capsys=capsys)  # fmt: skip
    spec = d["accelerator_spec"]
    assert isinstance(spec, dict) and spec["id"] == "custom"
    assert spec["tflops"] == {"bf16": 2000.0, "fp8": 4000.0, "fp4": None}
    assert d["peak_flops_per_gpu"] == pytest.approx(4000e12)


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (("--peak-tflops", "nan", "--memory-gb", "80", "--power-kw", "1"), "--peak-tflops"),
        (("--peak-tflops", "inf", "--memory-gb", "80", "--power-kw", "1"), "--peak-tflops"),
        (("--peak-tflops", "1000", "--memory-gb", "0", "--power-kw", "1"), "--memory-gb"),
        (("--peak-tflops", "1000", "--memory-gb", "80", "--power-kw", "-1"), "--power-kw"),
        (("--peak-tflops", "1000", "--memory-gb", "80"), "--power-kw"),
        (("--accelerator", "h100", "--price", "nan"), "--price"),
        (("--accelerator", "h100", "--failure-rate", "inf"), "--failure-rate"),
        (("--accelerator", "h100", "--checkpoint-cost", "inf"), "--checkpoint-cost"),
        (("--accelerator", "h100", "--mfu", "nan"), "--mfu"),
        ((), "--accelerator"),
    ],
)
def test_bad_values_exit_2_naming_the_option(
    args: tuple[str, ...], where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_cli("estimate", "training", *RUN, *args, capsys=capsys)
    assert res.code == 2 and where in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_a_bad_accelerator_file_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = load_builtin_catalog().accelerators["h100"].model_dump(mode="json")
    spec["hbm_gb"] = -5
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump([spec], sort_keys=False), encoding="utf-8")
    line = next(i for i, t in enumerate(f.read_text().splitlines(), 1) if "hbm_gb" in t)
    res = run_cli("estimate", "training", *RUN, "--accelerator-file", str(f), capsys=capsys)
    assert res.code == 2 and f"{f}:{line}" in res.stderr and "hbm_gb" in res.stderr, res.stderr
    res = run_cli(
        "estimate", "training", *RUN, "--accelerator-file", str(tmp_path / "none.yaml"), capsys=capsys
    )
    assert res.code == 2 and "no such file" in res.stderr
    res = run_cli("estimate", "training", *RUN, "--accelerator", "other", "--accelerator-file", str(f),
                  capsys=capsys)  # fmt: skip
    assert res.code == 2 and "no accelerator 'other'" in res.stderr


def test_a_run_too_large_to_finish_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--params", "1e12", "--tokens", "1e13", "--accelerator", "h100", "--gpus", "10000000")
    res = run_cli("estimate", "training", *args, capsys=capsys)
    assert res.code == 0 and "never finishes" in res.stdout, res.stderr
    d = _json(*args, "--price", "2", capsys=capsys)
    assert d["expected_wall_days"] is None and d["expected_cost_usd"] is None and d["expected_goodput"] == 0
