"""CLI: `estimate training|inference`, `trace stats|synth|fit`, against hand calculation and the data."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from helpers import SHARED_DATA, run_cli

DATA = SHARED_DATA / "traces"
PHILLY = DATA / "philly" / "philly.csv"
OPENB = DATA / "alibaba-openb-2023" / "openb_pod_list_default.csv"
CONV = DATA / "azure-llm-inference-2023" / "splitwise_conv.csv"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared traces not found at {DATA}")

LLAMA3 = ("--params", "405e9", "--tokens", "15.6e12", "--accelerator", "h100", "--gpus", "16384",
          "--precision", "bf16")  # fmt: skip


def test_estimate_training_reproduces_llama3(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("estimate", "training", *LLAMA3, "--price", "2", "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["flops"] == pytest.approx(3.8e25, rel=0.05)
    assert 380 <= d["achieved_tflops_per_gpu"] <= 430
    assert d["expected_goodput"] > 0.9
    assert 70 <= d["expected_wall_days"] <= 75
    assert d["expected_cost_usd"] == pytest.approx(d["expected_gpu_hours"] * 2)
    assert d["expected_gpu_hours"] == pytest.approx(16384 * d["expected_wall_days"] * 24)
    text = run_cli("estimate", "training", *LLAMA3, capsys=capsys)
    assert text.code == 0 and "expected goodput" in text.stdout and "days" in text.stdout


def test_estimate_training_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("estimate", "training", "--params", "-1", "--tokens", "1e12", "--accelerator", "h100",
                  "--gpus", "8", capsys=capsys)  # fmt: skip
    assert res.code == 2 and "--params" in res.stderr
    res = run_cli("estimate", "training", "--params", "1e9", "--tokens", "1e12", "--accelerator", "tpu9",
                  "--gpus", "8", capsys=capsys)  # fmt: skip
    assert res.code == 2 and "unknown accelerator" in res.stderr
    res = run_cli("estimate", "training", *LLAMA3, "--precision", "fp2", capsys=capsys)
    assert res.code == 2 and "--precision" in res.stderr


def test_estimate_inference_by_hand(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("estimate", "inference", "--weekly-users", "800e6", "--accelerator", "gb200",
                  "--tokens-per-user-per-day", "5000", "--peak-to-mean", "1.6", "--date", "2025-11-05",
                  "--json", capsys=capsys)  # fmt: skip
    assert res.code == 0, res.stderr
    d = json.loads(res.stdout)
    weekday = 7 / (5 + 2 * 0.85)  # a Wednesday, weekend factor 0.85, mean-preserving
    assert d["mean_tokens_s"] == pytest.approx(800e6 * 5000 / 86400 * weekday, rel=1e-3)
    per_replica = 167578.1 / 72 * 72  # MLPerf v5.1 DeepSeek-R1 Server, GB200-NVL72
    for row in d["by_hour_utc"]:
        assert row["replicas"] == math.ceil(row["tokens_s"] * 1.2 / per_replica - 1e-6)
        assert row["gpus"] == row["replicas"] * 72
    # us only (default region, UTC-6): peak at 14:00 local = 20:00 UTC
    assert d["peak_hour_utc"] == 20
    assert d["peak_gpus"] == max(r["gpus"] for r in d["by_hour_utc"])


@needs_data
def test_estimate_inference_with_trace(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("estimate", "inference", "--weekly-users", "1e6", "--accelerator", "gb300",
                  "--trace", str(CONV), "--json", capsys=capsys)  # fmt: skip
    assert res.code == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["within_hour"]["requests"] == 19366
    assert d["peak_minute_tokens_s"] == pytest.approx(
        d["peak_tokens_s"] * d["within_hour"]["minute_peak_to_mean"]
    )


@needs_data
def test_trace_stats_openb_and_azure(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("trace", "stats", str(OPENB), "--format", "openb", "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["rows_read"] == 8152 and d["jobs"] == 6203
    assert d["skipped"] == {"zero_gpu": 1088, "never_scheduled": 861}
    assert sum(d["arrivals_by_hour"]) == 6203
    res = run_cli("trace", "stats", str(CONV), "--format", "azure-llm", "--json", capsys=capsys)
    assert res.code == 0 and json.loads(res.stdout)["requests"] == 19366
    text = run_cli("trace", "stats", str(PHILLY), "--format", "philly", capsys=capsys)
    assert text.code == 0 and "82,247 rows read" in text.stdout


def test_trace_bad_format_and_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("trace", "stats", str(tmp_path / "x.csv"), "--format", "slurm", capsys=capsys)
    assert res.code == 2 and "--format" in res.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("submit_s,duration_s,gpus\n0,1,1\n1,2,x\n")
    res = run_cli("trace", "stats", str(bad), "--format", "generic", capsys=capsys)
    assert res.code == 2 and f"{bad}:3" in res.stderr and "Traceback" not in res.stderr


@needs_data
def test_trace_synth_and_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synth.csv"
    res = run_cli("trace", "synth", "--from", str(PHILLY), "--format", "philly", "--jobs", "50000",
                  "--gpus", "20000", "-o", str(out), "--seed", "3", "--json", capsys=capsys)  # fmt: skip
    assert res.code == 0, res.stderr
    d = json.loads(res.stdout)
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 50000 == d["jobs"]
    gpu_s = sum(float(r["duration_s"]) * int(r["gpus"]) for r in rows)
    span = max(float(r["submit_s"]) for r in rows)
    assert d["synth_load_per_gpu"] == pytest.approx(gpu_s / span / 20000, rel=1e-3)
    assert d["synth_load_per_gpu"] == pytest.approx(d["source_load_per_gpu"], rel=0.15)
    assert d["ks_d"]["gpus"] < 0.02 and d["ks_d"]["duration_s"] < 0.02
    assert np.abs(np.array(d["hour_shares_synth"]) - np.array(d["hour_shares_source"])).max() < 0.03
    # the output reads back as a generic trace
    back = run_cli("trace", "stats", str(out), "--format", "generic", "--json", capsys=capsys)
    assert back.code == 0 and json.loads(back.stdout)["jobs"] == 50000
    params = tmp_path / "p.yaml"
    res = run_cli("trace", "fit", str(PHILLY), "--format", "philly", "--source-gpus", "2490",
                  "-o", str(params), "--json", capsys=capsys)  # fmt: skip
    assert res.code == 0 and json.loads(res.stdout)["jobs"] == 82247
    res = run_cli("trace", "synth", "--params", str(params), "--jobs", "100", "--gpus", "1000",
                  "-o", str(tmp_path / "b.csv"), capsys=capsys)  # fmt: skip
    assert res.code == 0, res.stderr
    res = run_cli("trace", "synth", "--from", str(OPENB), "--format", "openb", "--jobs", "10",
                  "--gpus", "100", "-o", str(tmp_path / "c.csv"), capsys=capsys)  # fmt: skip
    assert res.code == 2 and "--source-gpus" in res.stderr


def test_trace_synth_to_a_folder_or_missing_folder_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for out in (tmp_path, tmp_path / "missing" / "jobs.csv"):
        r = run_cli("trace", "synth", "--params", "philly", "--jobs", "100", "--gpus", "1000", "-o", str(out),
                    capsys=capsys)  # fmt: skip
        assert r.code == 2 and str(out) in r.stderr and "internal error" not in r.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "us:0.5:1"], "error: --region: region shares add up to 0.5, not 1"),
        (["--tokens-per-s-per-gpu", "0"], "error: --tokens-per-s-per-gpu: expected a positive number, got 0"),
        (["--weekly-users", "inf"], "error: --weekly-users: expected a finite number, got inf"),
    ],
)
def test_estimate_inference_bad_options_name_the_option(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["estimate", "inference", "--accelerator", "gb200"]
    if "--weekly-users" not in args:
        base += ["--weekly-users", "1e6"]
    r = run_cli(*base, *args, capsys=capsys)
    assert r.code == 2 and message in r.stderr, r.stderr
