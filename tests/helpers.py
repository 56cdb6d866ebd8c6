"""Shared test helpers: paths to test scenarios and the shared data folder, running the CLI, and run
tables built by hand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from gpufleet.cli import main
from gpufleet.scenario import LoadedScenario
from gpufleet.scenario.load import builtin_scenario_text, load_scenario_text
from gpufleet.tables import SCHEMAS, TIME, check_table

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


def default_until(end: str) -> LoadedScenario:
    """The built-in default scenario with its horizon cut at `end` (YYYY-MM-DD): a short real run."""
    text = builtin_scenario_text()
    line = "  end: 2032-12-31 "
    assert line in text, "the default's horizon end moved: update tests/helpers.default_until"
    return load_scenario_text(text.replace(line, f"  end: {end} ", 1), f"default (to {end})")


def run_table(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A run table from rows that name only the columns a test cares about (others 0, "" or NaT)."""
    df = pd.DataFrame(rows)
    for col, dtype in SCHEMAS[name].items():
        if col not in df.columns:
            df[col] = pd.NaT if dtype == TIME else ("" if dtype == "string" else 0)
    return check_table(name, df)


__all__ = [
    "SCENARIOS",
    "SHARED_DATA",
    "SMALL",
    "CliResult",
    "CliRunner",
    "default_until",
    "run_cli",
    "run_table",
    "shared_data",
]
