"""CLI over stored runs: runs list|show|delete|export, report, compare; bad input exits 2 with a message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import run_cli
from rich.console import Console
from store.test_builder import make_tables
from store.test_roundtrip import make_meta

from gpufleet.report import terminal_summary
from gpufleet.store import RunMeta, open_store
from gpufleet.tables import SCHEMAS, RunTables


@pytest.fixture()
def store(tmp_path: Path) -> tuple[Path, list[RunMeta], list[RunTables]]:
    path = tmp_path / "runs.duckdb"
    metas = [
        make_meta(run_id="20261129-080000-aaaaaa", minutes=0),
        make_meta(run_id="20261129-090000-bbbbbb"),
    ]
    tables = [make_tables(seed=1), make_tables(seed=2, days=60)]
    with open_store(path) as st:
        for m, t in zip(metas, tables, strict=True):
            st.save_run(m, t)
    return path, metas, tables


def test_list_and_show(
    store: tuple[Path, list[RunMeta], list[RunTables]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, metas, tables = store
    res = run_cli("runs", "list", "--store", str(path), "--json", capsys=capsys)
    assert res.code == 0
    assert [r["run_id"] for r in json.loads(res.stdout)] == [m.run_id for m in metas]
    res = run_cli("runs", "list", "--store", str(path), capsys=capsys)
    assert res.code == 0 and all(m.run_id in res.stdout for m in metas)

    res = run_cli("runs", "show", "20261129-09", "--store", str(path), "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["run"]["run_id"] == metas[1].run_id
    assert data["rows"] == {name: len(df) for name, df in tables[1].items()}
    assert data["headline"]["jobs_submitted"] == len(tables[1].jobs)
    assert data["headline"]["spend_usd"] == pytest.approx(tables[1].spend["spend_usd"].sum())
    res = run_cli("runs", "show", "latest", "--store", str(path), capsys=capsys)
    assert res.code == 0 and metas[1].run_id in res.stdout and "spend" in res.stdout


def test_list_without_a_store_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("runs", "list", "--store", str(tmp_path / "none.duckdb"), "--json", capsys=capsys)
    assert res.code == 0 and json.loads(res.stdout) == []
    assert not (tmp_path / "none.duckdb").exists()


def test_unknown_run_exits_2_with_close_ids(
    store: tuple[Path, list[RunMeta], list[RunTables]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, metas, _ = store
    for args in (["runs", "show", "20261129-080000-aaaaab"], ["report", "20261129-080000-aaaaab"]):
        res = run_cli(*args, "--store", str(path), capsys=capsys)
        assert res.code == 2
        assert "no run '20261129-080000-aaaaab'" in res.stderr and metas[0].run_id in res.stderr
        assert "Traceback" not in res.stderr
    res = run_cli("runs", "show", "2026", "--store", str(path), capsys=capsys)  # ambiguous prefix
    assert res.code == 2 and "ambiguous" in res.stderr


def test_delete_checks_every_id_first(
    store: tuple[Path, list[RunMeta], list[RunTables]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, metas, _ = store
    res = run_cli("runs", "delete", metas[0].run_id, "nope", "--store", str(path), capsys=capsys)
    assert res.code == 2
    with open_store(path, read_only=True) as st:
        assert st.run_ids() == [m.run_id for m in metas]  # nothing deleted
    res = run_cli("runs", "delete", metas[0].run_id, "--store", str(path), capsys=capsys)
    assert res.code == 0 and metas[0].run_id in res.stdout
    with open_store(path, read_only=True) as st:
        assert st.run_ids() == [metas[1].run_id]


def test_export(
    store: tuple[Path, list[RunMeta], list[RunTables]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, metas, tables = store
    out = tmp_path / "out"
    res = run_cli(
        "runs",
        "export",
        metas[0].run_id,
        "--format",
        "csv",
        "-o",
        str(out),
        "--store",
        str(path),
        capsys=capsys,
    )
    assert res.code == 0, res.stderr
    assert {p.name for p in out.iterdir()} == {f"{n}.csv" for n in SCHEMAS} | {"run.json"}
    assert len(pd.read_csv(out / "jobs.csv")) == len(tables[0].jobs)
    res = run_cli(
        "runs",
        "export",
        metas[0].run_id,
        "--format",
        "xlsx",
        "-o",
        str(out),
        "--store",
        str(path),
        capsys=capsys,
    )
    assert res.code == 2 and "--format" in res.stderr


def test_report_and_compare(
    store: tuple[Path, list[RunMeta], list[RunTables]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, metas, tables = store
    out = tmp_path / "r.html"
    res = run_cli("report", "--run", "latest", "-o", str(out), "--store", str(path), capsys=capsys)
    assert res.code == 0 and out.stat().st_size > 1_000_000 and metas[1].run_id in out.read_text()
    assert not list(tmp_path.glob(".r.html*"))  # no temp file left
    res = run_cli("report", metas[0].run_id, "--seed", "3", "--store", str(path), capsys=capsys)
    assert res.code == 2 and "--seed" in res.stderr

    res = run_cli("compare", metas[0].run_id, metas[1].run_id, "--json", "--store", str(path), capsys=capsys)
    assert res.code == 0, res.stderr
    data = json.loads(res.stdout)
    spend = [t.spend["spend_usd"].sum() for t in tables]
    fig = data["figures"]["spend_usd"]
    assert fig["a"] == pytest.approx(spend[0]) and fig["b"] == pytest.approx(spend[1])
    assert fig["delta"] == pytest.approx(spend[1] - spend[0])
    res = run_cli("compare", metas[0].run_id, metas[1].run_id, "--store", str(path), capsys=capsys)
    assert res.code == 0 and "B − A" in res.stdout and "jobs finished" in res.stdout


def test_a_file_that_is_not_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "notes.duckdb"
    bad.write_text("not a database\n" * 50)
    res = run_cli("runs", "list", "--store", str(bad), capsys=capsys)
    assert res.code == 2 and "not a gpufleet results store" in res.stderr and str(bad) in res.stderr


def test_terminal_summary_shows_headline_run_id_and_report_path() -> None:
    meta, tables = make_meta(), make_tables(seed=3)
    console = Console(record=True, width=120)
    h = terminal_summary(meta, tables, console, report_path="out/report.html")
    text = console.export_text()
    assert meta.run_id in text and "report: out/report.html" in text
    assert f"{(tables.jobs['state'] == 'finished').sum():,}" in text
    for label in (
        "GPUs online, peak",
        "utilization",
        "wait p95, censored waits included (research)",
        "Findings",
        "goodput",
        "spend",
        "unused commitment",
    ):
        assert label in text
    assert h["jobs_submitted"] == len(tables.jobs)


def test_importing_the_cli_and_report_stays_light() -> None:
    """--help is fast: plotly is imported when a report is drawn, duckdb when a store is opened."""
    code = (
        "import sys, gpufleet.cli.runs_cmd, gpufleet.report, gpufleet.store.meta; "
        "print('plotly' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    code = "import sys, gpufleet.store.meta; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_report_default_path(
    store: tuple[Path, list[RunMeta], list[RunTables]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, metas, _ = store
    monkeypatch.chdir(tmp_path)
    res = run_cli("report", metas[0].run_id, "--store", str(path), capsys=capsys)
    assert res.code == 0, res.stderr
    report = tmp_path / "reports" / f"{metas[0].run_id}.html"
    (shared,) = (tmp_path / "reports").glob("plotly-*.min.js")  # Plotly's JS, once beside the reports
    assert shared.stat().st_size > 1_000_000 and report.stat().st_size < 1_000_000
    assert f'src="{shared.name}"' in report.read_text()


def test_an_output_path_that_cannot_be_written_exits_2(
    store: tuple[Path, list[RunMeta], list[RunTables]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, metas, _ = store
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    for out in (tmp_path, a_file / "r.html"):  # a folder; a "folder" that is a file
        res = run_cli("report", metas[0].run_id, "-o", str(out), "--store", str(path), capsys=capsys)
        assert res.code == 2 and str(out) in res.stderr and "internal error" not in res.stderr
        res = run_cli(
            "compare", metas[0].run_id, metas[1].run_id, "--html", "-o", str(out), "--store", str(path),
            capsys=capsys,
        )  # fmt: skip
        assert res.code == 2 and str(out) in res.stderr and "internal error" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt", "runs.duckdb"]
