"""A bad uncertainty section is bad input: exit 2, file:line of the input or matrix at fault, no store."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SCENARIOS, run_cli

BASE = (SCENARIOS / "uncertain.yaml").read_text(encoding="utf-8")


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _sweep_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str) -> tuple[str, str]:
    assert old in BASE
    text = BASE.replace(old, new)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    store = tmp_path / "s.duckdb"
    result = run_cli("sweep", str(path), "-n", "2", "--store", str(store), "--no-report", capsys=capsys)
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert not store.exists()  # nothing written
    return text, result.stderr


@pytest.mark.parametrize(
    ("old", "new", "needle", "says"),
    [
        ("path: workloads.chat.demand.growth_per_month", "path: workloads.chatty.demand.growth_per_month",
         "workloads.chatty", "no 'chatty' at workloads"),
        ("path: contracts.azure-main.price_per_gpu_hour_usd", "path: contracts.azure-main.prices",
         "azure-main.prices", "needs a value to change"),
        ("matrix: [[1, 0.5], [0.5, 1]]", "matrix: [[1, 0.5], [0.4, 1]]", "correlation:", "symmetric"),
        ("inputs: [demand-growth, azure-price]\n    matrix: [[1, 0.5], [0.5, 1]]",
         "inputs: [demand-growth, azure-price, aws-price]\n"
         "    matrix: [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]",
         "correlation:", "positive semidefinite"),
        ("mode: 0.05, high: 0.3}", "mode: 0.5, high: 0.3}", "kind: triangular", "low <= mode <= high"),
        ("{kind: triangular, low: 0.0, mode: 0.05, high: 0.3}", "{kind: triangular, low: 0.0, sd: 0.3}",
         "kind: triangular", "needs mode, high"),
        ("{kind: lognormal, median: 1.0", "{kind: gamma, median: 1.0", "kind: gamma", "kind"),
    ],
)  # fmt: skip
def test_bad_specifications_exit_2_at_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, needle: str, says: str
) -> None:
    text, err = _sweep_bad(tmp_path, capsys, old, new)
    assert f"bad.yaml:{_line(text, needle)}:" in err
    assert says in err


def test_an_input_that_breaks_the_scenario_everywhere_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = "distribution: {kind: triangular, low: 0.0, mode: 0.05, high: 0.3}"
    text, err = _sweep_bad(tmp_path, capsys, old, "distribution: {kind: uniform, low: 2.0, high: 3.0}")
    line = _line(text, "path: workloads.chat.demand.growth_per_month")
    assert f"bad.yaml:{line}:" in err and "demand-growth" in err


def test_a_scenario_without_uncertainty_cannot_be_swept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        "sweep", str(SCENARIOS / "small.yaml"), "--store", str(tmp_path / "s.duckdb"), capsys=capsys
    )
    assert result.code == 2 and "no uncertainty section" in result.stderr


def test_bad_counts_and_backends_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file, store = str(SCENARIOS / "uncertain.yaml"), str(tmp_path / "s.duckdb")
    for args, says in (
        (["-n", "0"], "--samples"),
        (["--workers", "0"], "--workers"),
        (["--backend", "dask"], "unknown backend"),
        (["--address", "ray://x:10001"], "--backend ray"),
        (["--fidelity", "exact"], "unknown fidelity"),
        (["--resume", "sw-nope"], "no results store"),
    ):
        result = run_cli("sweep", file, "--store", store, *args, capsys=capsys)
        assert result.code == 2, (args, result.stderr)
        assert says in result.stderr, (args, result.stderr)


EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "uncertain.yaml"


def test_the_docs_example_names_inputs_of_the_default() -> None:
    from gpufleet.risk.sweep import attach_uncertainty, check_inputs
    from gpufleet.scenario import load_scenario

    loaded = attach_uncertainty(load_scenario(None), EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))
    check_inputs(loaded)  # raises InputError when a path names nothing or breaks the scenario
    assert loaded.scenario.uncertainty is not None and len(loaded.scenario.uncertainty.inputs) == 5


def test_an_uncertainty_file_reports_problems_at_its_own_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("contracts.coreweave.", "contracts.corewave.")
    block = tmp_path / "block.yaml"
    block.write_text(text, encoding="utf-8")
    store = tmp_path / "s.duckdb"
    result = run_cli("sweep", "-u", str(block), "-n", "2", "--store", str(store), capsys=capsys)
    assert result.code == 2 and not store.exists()
    assert f"block.yaml:{_line(text, 'contracts.corewave.')}:" in result.stderr
    assert "no 'corewave' at contracts" in result.stderr
    # a scenario that has its own section and a file besides is refused
    both = run_cli("sweep", str(SCENARIOS / "uncertain.yaml"), "-u", str(EXAMPLE), "--store", str(store),
                   capsys=capsys)  # fmt: skip
    assert both.code == 2 and "has its own" in both.stderr


def test_the_bench_inputs_name_inputs_of_the_frozen_default() -> None:
    from gpufleet.risk.sweep import attach_uncertainty, check_inputs
    from gpufleet.scenario import load_scenario

    bench = Path(__file__).resolve().parents[2] / "bench"
    block = bench / "uncertain-2026-11-30.yaml"
    loaded = attach_uncertainty(
        load_scenario(bench / "default-2026-11-30.yaml"), block.read_text(encoding="utf-8"), str(block)
    )
    check_inputs(loaded)
