"""`gpufleet whatif`: bad changes exit 2 naming them; a full what-if is the simulation of the changed
scenario; --stress answers with every stress and writes its tornado chart."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import SMALL, run_cli

from gpufleet.pipeline import run_scenario
from gpufleet.scenario import load_scenario
from gpufleet.scenario.overrides import Editable, parse_override
from gpufleet.store import open_store
from gpufleet.tables import RunTables

CHANGE = "contracts.azure-main.slip_months=1"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulated run of the small scenario in a store."""
    import contextlib
    import io

    from gpufleet.cli import main

    path = tmp_path_factory.mktemp("whatif") / "runs.duckdb"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["simulate", str(SMALL), "--store", str(path), "--no-report", "-q"]) == 0
    return path


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("contracts.nope.slip_months=1", "--set contracts.nope.slip_months=1: no 'nope' at contracts"),
        ("contracts.azure-main.slip_months=-3", "--set contracts.azure-main.slip_months=-3: contracts[2]"),
        ("contracts.azure-main.slip_months", "is not PATH=VALUE"),
    ],
)
def test_a_bad_change_exits_2_naming_it(
    stored: Path, change: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_cli("whatif", "latest", "--store", str(stored), "--set", change, capsys=capsys)
    assert res.code == 2
    assert said in res.stderr
    assert "Traceback" not in res.stderr


def test_a_fluid_whatif_moves_the_runs_figures_by_the_fluid_change(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_cli("whatif", "--store", str(stored), "--set", CHANGE, "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    out = json.loads(res.stdout)
    for k, v in out["fluid_change"].items():
        assert v == pytest.approx(out["fluid_changed"][k] - out["fluid_run_scenario"][k])
        assert out["estimate"][k] == pytest.approx(max(0.0, out["run"][k] + v))
    assert "worst_gap" in out["fluid_error"]


def _tables(path: Path, run_id: str) -> RunTables:
    with open_store(path, read_only=True) as st:
        return st.load_run(run_id)


def test_a_full_whatif_equals_a_simulation_of_the_changed_scenario(
    stored: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    store = tmp_path / "copy.duckdb"
    shutil.copy(stored, store)
    res = run_cli("whatif", "--store", str(store), "--set", CHANGE, "--fidelity", "full", "--json", "-q",
                  capsys=capsys)  # fmt: skip
    assert res.code == 0, res.stderr
    new_id = json.loads(res.stdout)["new_run_id"]
    mine = _tables(store, new_id)
    changed = Editable.of(load_scenario(SMALL)).apply([parse_override(CHANGE)])
    theirs = run_scenario(changed).tables
    for name in ("jobs", "series", "usage", "inference", "ledger", "spend", "portfolio"):
        a = getattr(mine, name).reset_index(drop=True)
        b = getattr(theirs, name).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_categorical=False, obj=name)
    with open_store(store, read_only=True) as st:
        text = st.load_scenario_text(new_id)
    assert text is not None and f"# --set {CHANGE}" in text  # the stored run records what changed


def test_stress_answers_every_stress_and_writes_the_tornado(
    stored: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "tornado.html"
    res = run_cli("whatif", "--store", str(stored), "--stress", "--json", "-o", str(out_file), capsys=capsys)
    assert res.code == 0, res.stderr
    out = json.loads(res.stdout)
    names = [r["stress"] for r in out["stress"]["rows"]]
    assert {"revenue -30%", "prices -20%", "failures x2", "default: aws", "default: azure"} <= set(names)
    assert "slip +6 mo: azure-main" in names
    page = out_file.read_text(encoding="utf-8")
    assert "cash_peak_usd" in page and "slip +6 mo: azure-main" in page
