"""Trace readers on the real shared traces (statistics recomputed independently) and on bad files."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from gpufleet.errors import InputError
from gpufleet.workload.readers import read_requests, read_trace
from gpufleet.workload.requests import within_hour
from gpufleet.workload.stats import trace_stats

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces"
PHILLY = DATA / "philly" / "philly.csv"
OPENB = DATA / "alibaba-openb-2023" / "openb_pod_list_default.csv"
AZURE = DATA / "azure-llm-inference-2023"

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared traces not found at {DATA}")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@needs_data
def test_philly_counts_and_statistics() -> None:
    rows = _rows(PHILLY)
    assert len(rows) == 82247
    batch = read_trace(PHILLY, "philly", team_map={"6214e9": "vision"}, default_team="other")
    stats = trace_stats(batch)
    assert stats.rows_read == 82247 and stats.jobs == 82247 and stats.skipped == {}
    dur = np.array([float(r["duration"]) for r in rows])
    gpus = np.array([int(r["num_gpus"]) for r in rows])
    assert stats.gpu_hours == pytest.approx(float((dur * gpus).sum()) / 3600)
    assert stats.gpu_hours == pytest.approx(978078, rel=1e-5)  # data README
    assert stats.duration_s["p50"] == pytest.approx(float(np.median(dur)))
    assert stats.duration_s["p50"] == 1144.0 and round(stats.duration_s["mean"]) == 13136  # data README
    assert stats.jobs_by_gpus == {
        int(k): int(v) for k, v in zip(*np.unique(gpus, return_counts=True), strict=True)
    }
    hours = np.bincount([int(r["timestamp"][11:13]) for r in rows], minlength=24)
    assert stats.arrivals_by_hour == hours.tolist()
    # sorted, origin at the first submit, teams mapped by virtual cluster
    assert np.all(np.diff(batch.submit_s) >= 0) and batch.submit_s[0] == 0
    first = min(r["timestamp"] for r in rows)
    assert batch.origin == dt.datetime.fromisoformat(first).replace(tzinfo=dt.UTC)
    assert int((batch.team == "vision").sum()) == sum(r["cluster"] == "6214e9" for r in rows)
    assert set(batch.team.tolist()) == {"vision", "other"}


@needs_data
def test_openb_accepted_and_skipped_split() -> None:
    rows = _rows(OPENB)
    assert len(rows) == 8152
    zero = sum(int(r["num_gpu"]) == 0 for r in rows)
    never = sum(int(r["num_gpu"]) > 0 and r["scheduled_time"] == "" for r in rows)
    frac = sum(
        int(r["num_gpu"]) == 1 and int(r["gpu_milli"]) < 1000 and r["scheduled_time"] != "" for r in rows
    )
    batch = read_trace(OPENB, "openb", class_map={"LS": "inference", "BE": "best-effort"})
    assert batch.skipped == {"zero_gpu": zero, "never_scheduled": never}
    assert len(batch) == 8152 - zero - never
    assert (zero, never, len(batch)) == (1088, 861, 6203)
    assert batch.adjusted == {"fractional_gpu_rounded_up": frac}
    assert int(batch.gpus.min()) == 1
    kept = [r for r in rows if int(r["num_gpu"]) > 0 and r["scheduled_time"] != ""]
    run = sorted(float(r["deletion_time"]) - float(r["scheduled_time"]) for r in kept)
    assert sorted(batch.duration_s.tolist()) == run
    ls = sum(r["qos"] == "LS" for r in kept)
    assert int((batch.priority_class == "inference").sum()) == ls
    assert int((batch.priority_class == "research").sum()) == sum(r["qos"] not in ("LS", "BE") for r in kept)


@needs_data
def test_azure_request_counts_and_mix() -> None:
    code = read_requests(AZURE / "splitwise_code.csv")
    conv = read_requests(AZURE / "splitwise_conv.csv")
    assert (len(code), len(conv)) == (8819, 19366)
    rows = _rows(AZURE / "splitwise_conv.csv")
    prompt = sum(int(r["num_prefill_tokens"]) for r in rows)
    out = sum(int(r["num_decode_tokens"]) for r in rows)
    w = within_hour(conv)
    assert w.prompt_tokens_per_output_token == pytest.approx(prompt / out)
    minute = np.array([float(r["arrived_at"]) // 60 for r in rows], dtype=int)
    full = int(max(float(r["arrived_at"]) for r in rows) // 60)
    per_min = np.bincount(minute, weights=[int(r["num_decode_tokens"]) for r in rows])[:full]
    assert w.minute_peak_to_mean == pytest.approx(per_min.max() / per_min.mean())
    with pytest.raises(InputError, match="request trace"):
        read_trace(AZURE / "splitwise_conv.csv", "azure-llm")


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.csv"
    p.write_text(text)
    return p


def test_bad_values_name_file_and_line(tmp_path: Path) -> None:
    head = "submit_s,duration_s,gpus\n"
    p = _write(tmp_path, head + "0,10,1\n5,abc,2\n")
    with pytest.raises(InputError) as exc:
        read_trace(p, "generic")
    assert f"{p}:3" in str(exc.value) and "duration_s" in str(exc.value)
    p = _write(tmp_path, head + "0,10,1\n5,10,-2\n")
    with pytest.raises(InputError, match=r":3.*gpus"):
        read_trace(p, "generic")
    p = _write(tmp_path, head + "0,,1\n")
    with pytest.raises(InputError, match="missing value"):
        read_trace(p, "generic")
    p = _write(tmp_path, "submit_s,duration_s,gpus,colour\n0,1,1,red\n")
    with pytest.raises(InputError, match=r"unknown column.*colour"):
        read_trace(p, "generic")
    p = _write(tmp_path, "submit_s,gpus\n0,1\n")
    with pytest.raises(InputError, match=r"missing column.*duration_s"):
        read_trace(p, "generic")
    p = _write(tmp_path, "timestamp,duration,num_gpus,cluster\n2017-10-01 00:00:00,5,1,a\nyesterday,5,1,a\n")
    with pytest.raises(InputError, match=":3: timestamp"):
        read_trace(p, "philly")
    with pytest.raises(InputError, match="no such"):
        read_trace(tmp_path / "nope.csv", "philly")
    with pytest.raises(InputError, match="unknown trace format"):
        read_trace(p, "slurm")


def test_generic_sorts_skips_and_maps(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "submit_s,duration_s,gpus,team,class\n100,5,2,a,training\n40,5,0,a,\n50,7,1,,\n60,0,1,b,research\n",
    )
    b = read_trace(p, "generic", team_map={"a": "alpha"}, default_team="dflt", default_class="best-effort")
    assert b.skipped == {"zero_gpus": 1, "zero_duration": 1}
    assert b.submit_s.tolist() == [0.0, 50.0]  # origin at the first accepted submit (50)
    assert b.team.tolist() == ["dflt", "alpha"]
    assert b.priority_class.tolist() == ["best-effort", "training"]
    p = _write(tmp_path, "submit_s,duration_s,gpus,class\n0,5,1,vip\n")
    with pytest.raises(InputError, match=r":2.*class"):
        read_trace(p, "generic")


def test_malformed_rows_are_errors_at_their_own_line(tmp_path: Path) -> None:
    head = "submit_s,duration_s,gpus\n"
    # blank lines are not jobs, but the lines after them keep their numbers
    p = _write(tmp_path, head + "0,10,1\n\n\n5,abc,2\n")
    with pytest.raises(InputError, match=r"t\.csv:5: duration_s"):
        read_trace(p, "generic")
    p = _write(tmp_path, head + "\n0,10,1\n\n7,3,2\n\n")
    b = read_trace(p, "generic")
    assert b.submit_s.tolist() == [0.0, 7.0] and b.gpus.tolist() == [1, 2]
    # a first row longer than the header must not shift the columns into an index
    p = _write(tmp_path, head + "1,2,3,9,9\n")
    with pytest.raises(InputError, match=r"t\.csv:2: more fields"):
        read_trace(p, "generic")
    p = _write(tmp_path, head + "1,2,3\n1,2,3,9\n")
    with pytest.raises(InputError, match="line 3"):
        read_trace(p, "generic")
    # a GPU count beyond int64 is refused, not wrapped round to a negative number
    p = _write(tmp_path, head + "1,2,1e30\n")
    with pytest.raises(InputError, match=r":2.*gpus.*whole number"):
        read_trace(p, "generic")


def test_a_request_trace_without_a_shape_is_bad_input(tmp_path: Path) -> None:
    head = "arrived_at,num_prefill_tokens,num_decode_tokens\n"
    for body in ("", "0.5,10,0\n70,10,0\n130,5,0\n", "1,10,5\n30,10,5\n"):  # empty; no output; < 1 minute
        p = _write(tmp_path, head + body)
        with pytest.raises(InputError, match="no within-hour shape"):
            within_hour(read_requests(p))
    p = _write(tmp_path, head + "0,10,5\n30,20,15\n61,30,30\n125,1,1\n")  # minutes 0 and 1 complete
    w = within_hour(read_requests(p))
    assert w.minute_peak_to_mean == pytest.approx(30 / ((20 + 30) / 2))
    assert w.prompt_tokens_per_output_token == pytest.approx(61 / 51)
