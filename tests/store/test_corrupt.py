"""A broken store is named as such (exit 2) by every command, and never written to."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import SMALL, run_cli

from gpufleet.store import open_store
from store.test_builder import make_tables
from store.test_roundtrip import make_meta

BLOCK = 262_144  # DuckDB's block size; the file starts with three 4 kB headers


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _garble_headers(data: bytes) -> bytes:
    """The database headers after the magic bytes (their checksums no longer match)."""
    return data[:4096] + bytes(b ^ 0x5A for b in data[4096:12288]) + data[12288:]


def _garble_middle(data: bytes) -> bytes:
    """Every block after the headers: table data and metadata."""
    return data[:12288] + bytes(b ^ 0x5A for b in data[12288:])


def _not_duckdb(data: bytes) -> bytes:
    return b"\xff" * 64 + data[64:]


BREAKS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "truncated": (_truncate, "corrupt or truncated"),
    "corrupt-headers": (_garble_headers, "corrupt or truncated"),
    "corrupt-blocks": (_garble_middle, "corrupt or truncated"),
    "not-duckdb": (_not_duckdb, "not a gpufleet results store"),
}

COMMANDS: dict[str, list[str]] = {
    "runs-list": ["runs", "list"],
    "runs-status": ["runs", "status"],
    "runs-show": ["runs", "show", "latest"],
    "runs-delete": ["runs", "delete", "latest"],
    "runs-export": ["runs", "export", "latest", "-o", "{tmp}/export"],
    "report": ["report", "latest", "-o", "{tmp}/r.html"],
    "finance": ["finance", "--run", "latest"],
    "simulate": ["simulate", str(SMALL), "--no-report"],
}


@pytest.fixture(scope="module")
def good_store(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("good") / "s.duckdb"
    with open_store(path) as store:
        store.save_run(make_meta(), make_tables(seed=1, n_jobs=3000))
    data = path.read_bytes()
    assert len(data) > 3 * BLOCK
    return data


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("damage", list(BREAKS))
def test_a_broken_store_is_named_and_left_as_it_is(
    good_store: bytes, damage: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    breaker, message = BREAKS[damage]
    path = tmp_path / "s.duckdb"
    path.write_bytes(breaker(good_store))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    args = [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    r = run_cli(*args, "--store", str(path), capsys=capsys)
    assert r.code == 2, r.stderr
    assert message in r.stderr and str(path) in r.stderr
    assert "internal error" not in r.stderr and "in use by another process" not in r.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # never written to
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb"]  # no WAL, no report, no export


def test_a_missing_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "missing_dir" / "s.duckdb"
    r = run_cli("simulate", str(SMALL), "--no-report", "--store", str(store), capsys=capsys)
    assert r.code == 2 and f"folder {store.parent} does not exist" in r.stderr
    assert "not a gpufleet results store" not in r.stderr
    assert not store.parent.exists()


@pytest.mark.parametrize(
    "command", [["runs", "delete", "abc"], ["runs", "show", "latest"], ["report", "latest"]]
)
def test_a_mistyped_store_is_not_created(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "typo.duckdb"
    r = run_cli(*command, "--store", str(store), capsys=capsys)
    assert r.code == 2 and "no results store here" in r.stderr
    assert not store.exists()


def test_an_unwritable_report_fails_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s.duckdb"
    blocked = tmp_path / "file"
    blocked.write_text("a file, not a folder")
    r = run_cli("simulate", str(SMALL), "--store", str(store), "-o", str(blocked / "r.html"), capsys=capsys)
    assert r.code == 2 and "--report" in r.stderr and "not a folder" in r.stderr
    assert not store.exists()  # refused before the store was touched or the engine ran


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_proc_outputs_are_refused_before_the_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s.duckdb"
    r = run_cli("simulate", str(SMALL), "--store", str(store), "-o", "/proc/x.html", capsys=capsys)
    assert r.code == 2 and "/proc/x.html" in r.stderr and not store.exists()
    with open_store(store) as st:
        st.save_run(make_meta(), make_tables(seed=1))
    r = run_cli("runs", "export", "latest", "-o", "/proc/nope", "--store", str(store), capsys=capsys)
    assert r.code == 2 and "/proc/nope" in r.stderr and "internal error" not in r.stderr
