"""Shared test helpers: paths to test scenarios and the shared data folder, and running the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpufleet.cli import main

TESTS = Path(__file__).resolve().parent
SCENARIOS = TESTS / "scenarios"
SMALL = SCENARIOS / "small.yaml"
SHARED_DATA = TESTS.parents[1] / "shared" / "data"


def shared_data(relative: str) -> Path:
    """A file under ../shared/data, or skip the test with a reason when it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent (tests read real traces from ../shared/data)")
    return path


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> CliResult:
    """Run `gpufleet ARGS` in-process through main(), as the console script does."""
    code = main(list(args))
    out = capsys.readouterr()
    return CliResult(code, out.out, out.err)


__all__ = ["SCENARIOS", "SHARED_DATA", "SMALL", "CliResult", "CliRunner", "run_cli", "shared_data"]
