"""A bounded loopback load on a real `gpufleet serve` (bench/api_load.py): 200 concurrent reads while
20 runs are submitted at once; 0 errors, and every accepted run finished in the store. Latencies are
measured by `python -m bench.api_load` and recorded in docs/benchmarks.md, never asserted here."""

from __future__ import annotations

from pathlib import Path

from bench.api_load import run_load


def test_load_has_no_errors_and_loses_no_run(tmp_path: Path) -> None:
    out = run_load(tmp_path, reads=200, submissions=20, wait_limit_s=900.0)
    assert out["errors"] == []
    assert out["accepted"] == 20
    assert out["lost"] == []
