"""A store shared by processes: concurrent writers keep every run, lock waits, Ctrl-C and kill -9."""

from __future__ import annotations

import inspect
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers import SMALL, run_cli

from gpufleet.errors import GpufleetError
from gpufleet.store import open_store
from gpufleet.store.store import Store

CLI = "import sys; from gpufleet.cli import main; sys.exit(main(sys.argv[1:]))"


def gpufleet(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """`gpufleet ARGS` as its own process, as a person's shell starts it."""
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished_runs(path: Path) -> list[str]:
    with open_store(path, read_only=True) as store:
        return store.run_ids()


def test_concurrent_simulates_keep_every_run(tmp_path: Path) -> None:
    """Three processes simulate into one new store, each writing its HTML report: all three runs kept."""
    store = tmp_path / "shared.duckdb"
    procs = [
        gpufleet("simulate", str(SMALL), "--store", str(store), "-o", str(tmp_path / f"r{i}.html"), "--quiet",
                 cwd=tmp_path)
        for i in range(3)
    ]  # fmt: skip
    results = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "stored as run" in out
    ids = finished_runs(store)
    assert len(ids) == 3
    for i in range(3):
        assert (tmp_path / f"r{i}.html").stat().st_size > 0
    with open_store(store, read_only=True) as st:
        assert {s.run_id: s.status for s in st.statuses()} == dict.fromkeys(ids, "finished")
        for run_id in ids:
            assert len(st.load_run(run_id).jobs) > 0  # every run whole


_HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_a_writer_waits_for_the_lock_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with open_store(path):
        pass
    holder = _hold(path, 1.5)
    told: list[str] = []
    try:
        with open_store(path, wait_s=120, notify=told.append) as store:
            assert store.run_ids() == []
    finally:
        holder.wait(timeout=60)
    assert told and "in use by another process" in told[0] and f"pid {holder.pid}" in told[0]


def test_the_wait_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with open_store(path):
        pass
    holder = _hold(path, 120)
    try:
        with pytest.raises(GpufleetError, match="still in use by another process"):
            open_store(path, wait_s=0.3, notify=lambda _: None)
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def ctrl_c_reaches_python() -> Iterator[None]:
    """SIGINT handled as in a command typed at a terminal: Python's default handler (KeyboardInterrupt).

    A process started with SIGINT ignored (a shell's `cmd &` without job control, as a script or a CI
    step runs the suite in the background) keeps it ignored: Python then installs no handler, the
    test's Ctrl-C is dropped and the run finishes (exit 0). A terminal's Ctrl-C reaches a foreground
    process, whose SIGINT is never ignored; that is the case these tests are about.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c() -> None:
    """A real SIGINT, as Ctrl-C sends, to this thread (the main one): Python runs its handler before
    raise_signal returns, so the interrupt lands here, not some bytecodes or a held section later."""
    signal.raise_signal(signal.SIGINT)


def _sigint_in(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> None:
    """Replace target.name by a wrapper that sends this process Ctrl-C first."""
    real = getattr(target, name)

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        _ctrl_c()
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, interrupted)


@pytest.mark.usefixtures("ctrl_c_reaches_python")
def test_ctrl_c_during_the_simulation_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gpufleet.assemble

    store = tmp_path / "s.duckdb"
    assert run_cli("simulate", str(SMALL), "--store", str(store), "--no-report", capsys=capsys).code == 0
    before = finished_runs(store)
    real = gpufleet.assemble.simulate
    pressed: list[float] = []

    def simulate(*args: Any, **kwargs: Any) -> Any:
        """The real simulation, given a progress callback that presses Ctrl-C once the engine is under way
        (its first report past the start): the interrupt comes from inside the event loop."""
        bound = inspect.signature(real).bind(*args, **kwargs)
        shown = bound.arguments.get("progress")

        def progress(fraction: float, label: str) -> None:
            if shown is not None:
                shown(fraction, label)
            if 0.0 < fraction < 1.0 and label == "simulating" and not pressed:
                pressed.append(fraction)
                _ctrl_c()

        bound.arguments["progress"] = progress
        return real(*bound.args, **bound.kwargs)

    monkeypatch.setattr(gpufleet.assemble, "simulate", simulate)  # pipeline imports it at each run
    r = run_cli("simulate", str(SMALL), "--store", str(store), "--no-report", capsys=capsys)
    assert pressed, "the simulation never reported progress: Ctrl-C was not pressed during it"
    assert r.code == 130
    assert r.stderr.strip().splitlines()[-1] == "interrupted; nothing stored"
    assert "Traceback" not in r.stderr
    assert finished_runs(store) == before
    with open_store(store, read_only=True) as st:
        failed = [s for s in st.statuses() if s.status == "failed"]
    assert len(failed) == 1 and failed[0].message == "interrupted"  # never left "running"


@pytest.mark.usefixtures("ctrl_c_reaches_python")
def test_ctrl_c_during_the_save_completes_the_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s.duckdb"
    _sigint_in(monkeypatch, Store, "_insert_table")
    r = run_cli("simulate", str(SMALL), "--store", str(store), "--no-report", capsys=capsys)
    assert r.code == 130
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted; run stored as ")
    run_id = last.removeprefix("interrupted; run stored as ")
    assert finished_runs(store) == [run_id]
    with open_store(store, read_only=True) as st:
        tables = st.load_run(run_id)
        assert len(tables.jobs) > 0 and len(tables.series) > 0 and len(tables.ledger) > 0
        assert [s.status for s in st.statuses()] == ["finished"]


def test_kill_9_during_a_simulate_leaves_the_store_whole_and_the_run_failed(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    first = gpufleet("simulate", str(SMALL), "--store", str(store), "--no-report", "--quiet", cwd=tmp_path)
    assert first.wait(timeout=600) == 0
    before = finished_runs(store)
    proc = gpufleet("simulate", str(SMALL), "--store", str(store), "--no-report", "--quiet", cwd=tmp_path)
    try:
        deadline = time.monotonic() + 300
        while True:  # wait until the run is recorded as running
            assert proc.poll() is None, "the simulate ended before it could be killed"
            assert time.monotonic() < deadline
            with open_store(store, read_only=True, notify=lambda _: None) as st:
                if any(s.status == "running" for s in st.statuses()):
                    break
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert finished_runs(store) == before
    with open_store(store, read_only=True) as st:  # read: the dead process's run reads failed
        dead = [s for s in st.statuses() if s.run_id not in before]
    assert (
        len(dead) == 1 and dead[0].status == "failed" and "ended before the run was stored" in dead[0].message
    )
    with open_store(store):  # a writer records it as failed in the file
        pass
    con = duckdb.connect(str(store), read_only=True)
    row = con.execute("SELECT status FROM run_status WHERE run_id = ?", [dead[0].run_id]).fetchone()
    con.close()
    assert row == ("failed",)
