"""A new user's first hour: which run a command on results reads, tables on narrow terminals, help text,
and `runs delete` taking the run's report with it."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer
from helpers import run_cli
from store.test_builder import make_tables
from store.test_roundtrip import make_meta

from gpufleet.cli import app
from gpufleet.cli.common import fold_columns
from gpufleet.scenario import LoadedScenario
from gpufleet.store import open_store

IDS = ["20261129-080000-aaaaaa", "20261129-090000-bbbbbb"]


@pytest.fixture()
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two runs in a store; the working folder is tmp_path (reports/ goes there); simulating is an error."""
    path = tmp_path / "runs.duckdb"
    with open_store(path) as st:
        for i, run_id in enumerate(IDS):
            st.save_run(make_meta(run_id=run_id, minutes=60 * i), make_tables(seed=i + 1))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("gpufleet.cli.running.simulate_and_store", _no_simulation)
    return path


def _no_simulation(*args: object, **kwargs: object) -> None:
    raise AssertionError("a store with runs must not be simulated into")


# ------------------------------------------------------------------ which run: DESIGN.md's CLI rule


def test_report_without_a_run_uses_the_latest_and_says_which(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_cli("report", "--store", str(stored), capsys=capsys)
    assert res.code == 0, res.stderr
    assert f"using the latest run in {stored}: {IDS[1]}" in res.stderr
    assert (Path("reports") / f"{IDS[1]}.html").is_file()
    assert IDS[1] in res.stdout and IDS[0] not in res.stdout


def test_finance_without_a_run_uses_the_latest_and_says_which(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_cli("finance", "--store", str(stored), "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    assert json.loads(res.stdout)["run_id"] == IDS[1]
    assert IDS[1] in res.stderr
    # --seed belongs to a scenario FILE: with a stored run it is bad input, not silently ignored
    res = run_cli("finance", "--store", str(stored), "--seed", "3", capsys=capsys)
    assert res.code == 2 and "--seed" in res.stderr


def test_an_empty_store_simulates_the_default_scenario_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "new.duckdb"
    ran: list[str] = []

    def simulate(loaded: LoadedScenario, store_path: Path, seed: int | None, quiet: bool) -> SimpleNamespace:
        ran.append(loaded.scenario.name)
        meta = make_meta(run_id="20261130-100000-cccccc")
        with open_store(store_path) as st:
            st.save_run(meta, make_tables(seed=5))
        return SimpleNamespace(meta=meta)

    monkeypatch.setattr("gpufleet.cli.running.simulate_and_store", simulate)
    res = run_cli("report", "--store", str(store), capsys=capsys)
    assert res.code == 0, res.stderr
    assert ran == ["frontier-lab-2025"]  # the built-in default, once
    assert "holds no run yet: simulating the default scenario" in res.stderr
    assert "20261130-100000-cccccc" in res.stdout
    # the store now has a run: the next command reads it and simulates nothing
    res = run_cli("report", "--store", str(store), capsys=capsys)
    assert res.code == 0 and ran == ["frontier-lab-2025"]
    assert "using the latest run" in res.stderr


# ------------------------------------------------------------------ narrow terminals


def test_fold_columns_by_hand() -> None:
    # each column takes its width + 3 (padding and border), the table + 1
    assert fold_columns([10, 20, 30], 80) == [[0, 1, 2]]  # 13 + 23 + 33 + 1 = 70 fits
    assert fold_columns([10, 20, 30], 40) == [[0, 1], [0, 2]]  # the key column leads each part
    assert fold_columns([10, 20, 30, 5], 60, keys=2) == [[0, 1, 2], [0, 1, 3]]
    assert fold_columns([100], 40) == [[0]]  # wider than the room: still whole, on its own


@pytest.mark.parametrize("columns", [80, 120])
def test_narrow_terminal_never_splits_a_run_id(
    stored: Path, columns: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    for args in (
        ["runs", "list"],
        ["runs", "status"],
        ["finance", "--run", "latest"],
        ["compare", IDS[0], IDS[1]],
    ):
        res = run_cli(*args, "--store", str(stored), capsys=capsys)
        assert res.code == 0, (args, res.stderr)
        lines = res.stdout.splitlines()
        for run_id in IDS if args[0] != "finance" else []:
            assert any(run_id in line for line in lines), (args, run_id)
        for run_id in IDS:  # every piece of an id sits inside the whole id, never on a line of its own
            whole = res.stdout.count(run_id)
            assert res.stdout.count(run_id[:11]) == whole and res.stdout.count(run_id[-6:]) == whole, args
        assert max(len(line) for line in lines) <= columns, args  # fits: folded, not cut or overflowing


def test_the_ledger_keeps_contract_names_whole_at_80_columns(
    stored: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    res = run_cli("finance", "--run", "latest", "--store", str(stored), "--json", capsys=capsys)
    contracts = {r["contract"] for r in json.loads(res.stdout)["contracts_by_year"]}
    res = run_cli("finance", "--run", "latest", "--store", str(stored), capsys=capsys)
    ledger = res.stdout.split("Ledger by contract and contract year")[1].split("unused = structural")[0]
    rows = [line for line in ledger.splitlines() if line.startswith("│")]
    first_cells = {line.split("│")[1].strip() for line in rows}
    assert contracts <= first_cells  # every row of every part starts with the whole contract name
    assert "(part 2)" in res.stdout  # 14 columns do not fit 80: folded, not squeezed


# ------------------------------------------------------------------ help and usage lines


def test_finance_help_shows_run_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("finance", "--help", capsys=capsys)
    assert res.code == 0
    assert "--run" in res.stdout and "--json" in res.stdout and "export" in res.stdout


def _commands(group: Any, prefix: list[str]) -> list[list[str]]:
    out = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):  # a group
            out += _commands(cmd, [*prefix, name])
        else:
            out.append([*prefix, name])
    return out


def test_usage_lines_name_arguments_in_capitals_and_no_python_types(
    capsys: pytest.CaptureFixture[str],
) -> None:
    commands = _commands(typer.main.get_command(app), [])
    assert ["runs", "show"] in commands and ["finance", "export"] in commands
    for cmd in commands:
        res = run_cli(*cmd, "--help", capsys=capsys)
        usage = res.stdout.splitlines()[0]
        assert usage.startswith("Usage: ") and " ".join(cmd) in usage, cmd  # the program name: argv[0]
        assert "list[" not in usage and not any(c.islower() for c in usage.split("[OPTIONS]")[-1]), (
            cmd,
            usage,
        )
        assert "<list[" not in res.stdout.split("Options:")[-1], cmd  # repeatable options: element type


# ------------------------------------------------------------------ runs delete and reports


def test_runs_delete_removes_the_runs_report(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for run_id in IDS:
        assert run_cli("report", run_id, "--store", str(stored), capsys=capsys).code == 0
    reports = [Path("reports") / f"{run_id}.html" for run_id in IDS]
    assert all(p.is_file() for p in reports)
    # reports/ grows by the report alone: Plotly's JS is one file there, loaded by each (offline)
    (js,) = Path("reports").glob("plotly-*.min.js")
    assert js.stat().st_size > 1_000_000
    for p in reports:
        assert p.stat().st_size < js.stat().st_size / 2
        assert f'<script type="text/javascript" src="{js.name}"></script>' in p.read_text()
    res = run_cli("runs", "delete", IDS[0], "--store", str(stored), capsys=capsys)
    assert res.code == 0, res.stderr
    assert not reports[0].exists() and reports[1].is_file()  # only the deleted run's report goes
    assert js.is_file()  # the shared script stays for the others
    assert str(reports[0]) in res.stdout
    with open_store(stored, read_only=True) as st:
        assert st.run_ids() == [IDS[1]]


def test_runs_delete_says_where_a_missing_report_would_be(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_cli("runs", "delete", IDS[1], "--store", str(stored), capsys=capsys)
    assert res.code == 0 and f"no report at {Path('reports') / IDS[1]}.html" in res.stdout
