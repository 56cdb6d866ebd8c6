"""machine.py: a run fits when its estimated memory is at most what is available, else the reason
names both figures; simulate refuses it (exit 2) unless --force."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SMALL, run_cli

from gpufleet import machine
from gpufleet.scenario import load_scenario_file
from gpufleet.scenario.limits import estimate, fmt_bytes


def test_fits_up_to_the_available_memory_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_scenario_file(SMALL)
    need = estimate(loaded.scenario, loaded.catalog).memory_bytes
    monkeypatch.setattr(machine, "available_memory_bytes", lambda: need)
    assert machine.memory_shortfall(loaded) is None
    monkeypatch.setattr(machine, "available_memory_bytes", lambda: None)  # unknown: not refused
    assert machine.memory_shortfall(loaded) is None
    monkeypatch.setattr(machine, "available_memory_bytes", lambda: need / 3)
    why = machine.memory_shortfall(loaded)
    assert why is not None
    assert fmt_bytes(need) in why and fmt_bytes(need / 3) in why and "available" in why


def test_available_memory_is_a_positive_figure_on_linux() -> None:
    have = machine.available_memory_bytes()
    if not Path("/proc/meminfo").exists():
        pytest.skip("no /proc/meminfo on this system")
    assert have is not None and have > 0


def test_simulate_refuses_a_run_that_does_not_fit_unless_forced(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(machine, "available_memory_bytes", lambda: 1e6)
    store = tmp_path / "r.duckdb"
    out = run_cli("simulate", str(SMALL), "--store", str(store), "--no-report", "--quiet", capsys=capsys)
    assert out.code == 2, out
    assert "would need" in out.stderr and "--force" in out.stderr and "Traceback" not in out.stderr
    assert not store.exists()  # refused before anything was written
