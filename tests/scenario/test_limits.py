"""Bounded loading and plausibility limits: hostile scenarios and traces refused early, shipped ones pass."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from helpers import SCENARIOS, SMALL, run_cli
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.scenario import load_builtin_scenario, load_scenario_file, load_scenario_text
from gpufleet.scenario.limits import (
    MAX_GPUS,
    MAX_JOBS,
    MAX_SERIES_ROWS,
    MAX_STEPS,
    MAX_TICKS,
    MAX_TRACE_SECONDS,
    estimate,
)
from gpufleet.scenario.source import ALIAS_NODE_BUDGET, MAX_DEPTH, MAX_TEXT_CHARS, parse_yaml
from gpufleet.store import open_store
from gpufleet.workload.readers import read_trace

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [
    ROOT / "bench" / "fleet-500k.yaml",
    ROOT / "bench" / "default-2026-11-30.yaml",  # the frozen default of bench (d): must keep validating
    *sorted(SCENARIOS.glob("*.yaml")),
]


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_scenario_is_within_the_limits(path: Path) -> None:
    loaded = load_scenario_file(path)  # raises if a limit refused it
    size = estimate(loaded.scenario, loaded.catalog)
    assert size.steps <= MAX_STEPS and size.series_rows <= MAX_SERIES_ROWS and size.ticks <= MAX_TICKS
    assert size.gpus <= MAX_GPUS and size.jobs <= MAX_JOBS


def test_the_default_scenario_is_within_the_limits() -> None:
    loaded = load_builtin_scenario()
    assert estimate(loaded.scenario, loaded.catalog).jobs <= MAX_JOBS


def test_the_estimate_counts_what_the_bench_file_says() -> None:
    """bench/fleet-500k.yaml states its size in its comments: 499,968 GPUs, 13,700 jobs a day for a year."""
    loaded = load_scenario_file(ROOT / "bench" / "fleet-500k.yaml")
    size = estimate(loaded.scenario, loaded.catalog)
    assert size.gpus == 4 * 28 * 62 * 72
    assert size.jobs == 13_700 * 365 + 2  # plus the two training runs
    assert size.steps == 365 and size.series_rows == 365 * 4
    assert size.ticks == 365 * 24  # one inference service, hourly


def _small_with(old: str, new: str) -> str:
    text = SMALL.read_text()
    assert old in text
    return text.replace(old, new)


def test_autoscaling_every_second_for_years_is_refused() -> None:
    text = _small_with("end: 2026-03-31", "end: 2027-12-31")
    text = text.replace("policies:\n", "policies:\n  autoscale_interval: 1s\n")
    with pytest.raises(InputError, match=r"autoscaling ticks over the horizon.*of memory and"):
        load_scenario_text(text, "s.yaml")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.yaml"
    with big.open("w") as f:
        f.write(SMALL.read_text())
        f.write("# padding\n" * (MAX_TEXT_CHARS // 10 + 1))
    tracemalloc.start()
    r = run_cli("validate", str(big), capsys=capsys)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert r.code == 2 and f"error: {big}: " in r.stderr and "more than the 1,048,576" in r.stderr
    assert peak < MAX_TEXT_CHARS  # refused by its size: the text was never read into memory


def test_an_alias_bomb_is_refused_in_bounded_memory() -> None:
    levels = ["a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    text = "\n".join(levels) + "\n"
    tracemalloc.start()
    with pytest.raises(InputError, match="alias bomb") as err:
        parse_yaml(text, "bomb.yaml")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert str(err.value).startswith("bomb.yaml:")
    assert peak < 20_000_000  # a billion laughs expanded would be gigabytes


def test_aliases_within_the_budget_still_work() -> None:
    text = "base: &term {start: 2026-01-01, end: 2026-12-31}\nitems:\n" + "".join(
        f"  - {{name: k{i}, term: *term}}\n" for i in range(ALIAS_NODE_BUDGET // 10)
    )
    data, smap = parse_yaml(text, "ok.yaml")
    assert data["items"][7]["term"]["end"] == "2026-12-31"
    assert smap.where(("items", 7, "term")) == "ok.yaml:10"  # items start on line 3


@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_deeper_than_the_limit_is_refused_with_its_line(style: str) -> None:
    depth = MAX_DEPTH + 5
    if style == "flow":
        text = "name: x\nkey: " + "[" * depth + "]" * depth + "\n"
    else:
        text = "name: x\n" + "".join(" " * i + f"k{i}:\n" for i in range(depth)) + " " * depth + "v: 1\n"
    with pytest.raises(InputError, match=f"nested deeper than {MAX_DEPTH} levels") as err:
        parse_yaml(text, "deep.yaml")
    assert str(err.value).startswith("deep.yaml:")
    parse_yaml("name: x\nkey: " + "[" * 20 + "]" * 20 + "\n", "ok.yaml")  # ordinary depths pass


def _trace(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "t.csv"
    path.write_text("submit_s,duration_s,gpus\n" + "".join(r + "\n" for r in rows))
    return path


def test_one_outlier_row_in_a_trace_is_refused_at_its_line(tmp_path: Path) -> None:
    rows = [f"{i * 60},3600,{1 + i % 8}" for i in range(300)]
    rows[150] = "1e12,3600,1"
    path = _trace(tmp_path, rows)
    tracemalloc.start()
    with pytest.raises(InputError, match=r"t\.csv:152: submit_s: more than 10 years") as err:
        read_trace(path, "generic")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "1e12" in str(err.value)
    assert peak < 50_000_000


def test_an_outlier_trace_in_a_scenario_is_refused_by_simulate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"{i * 60},3600,8" for i in range(300)]
    rows[10] = "1e12,3600,8"
    _trace(tmp_path, rows)
    text = _small_with(
        "synthetic: {source: philly, jobs_per_day: 200, size_scale: 8}",
        "trace: {path: t.csv, format: generic}",
    )
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text)
    store = tmp_path / "s.duckdb"
    r = run_cli("simulate", str(scenario), "--store", str(store), "--no-report", capsys=capsys)
    assert r.code == 2 and "t.csv:12: submit_s" in r.stderr and "internal error" not in r.stderr
    with open_store(store, read_only=True) as st_:
        assert st_.run_ids() == []  # no run stored; the attempt is recorded as failed, saying why
        [status] = st_.statuses()
        assert status.status == "failed" and "t.csv:12" in status.message


cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["", "x", "1e12", "-0", "1e-300", "nan", "0x10", " 5 "]),
)


@given(rows=st.lists(st.tuples(cell, cell, cell), min_size=1, max_size=40))
def test_fuzz_trace_rows_are_read_or_refused_never_unbounded(rows: list[tuple[str, str, str]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = _trace(Path(tmp), [",".join(r) for r in rows])
        try:
            batch = read_trace(path, "generic")
        except InputError as exc:
            assert all(p.where.startswith(str(path)) for p in exc.problems)
            return
    if len(batch):
        assert np.isfinite(batch.submit_s).all() and np.isfinite(batch.duration_s).all()
        assert float(batch.submit_s.max() - batch.submit_s.min()) <= 2 * MAX_TRACE_SECONDS
        assert float(batch.duration_s.max()) <= MAX_TRACE_SECONDS
        assert (batch.gpus >= 1).all()
