"""(g) sweeps: `python -m bench.sweep_case full20|scaling|ray|fluid|fluid-today`, one JSON line each.

full20: 20 full-fidelity samples of the default scenario with docs/examples/uncertain.yaml, 2 workers.
scaling: the same 32 full samples of tests/scenarios/uncertain.yaml on 1 and then 2 local workers.
ray: Ray's cost per task (empty chunks, so only the round trip counts) and its start, beside the pool's.
fluid: 1,000 fluid samples of bench (d)'s frozen default with bench/uncertain-2026-11-30.yaml, 2 workers
(target under 2 minutes), once risk/fluid.py is in.
fluid-today: the same on today's built-in default (revenue-driven demand) with docs/examples/uncertain.yaml
(target under 2 minutes too): a sample that scales revenue rebuilds the inference demand that follows it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "uncertain.yaml"
SMALL = ROOT / "tests" / "scenarios" / "uncertain.yaml"
FROZEN = ROOT / "bench" / "default-2026-11-30.yaml"
FROZEN_INPUTS = ROOT / "bench" / "uncertain-2026-11-30.yaml"


def _default_uncertain() -> object:
    from gpufleet.risk.sweep import attach_uncertainty
    from gpufleet.scenario import load_scenario

    return attach_uncertainty(load_scenario(None), EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))


def _sweep(
    loaded: object, samples: int, fidelity: str, workers: int, backend: str = "local"
) -> dict[str, object]:
    from gpufleet.risk.driver import Execution, execute, new_sweep
    from gpufleet.store import open_store
    from gpufleet.store.sweeps import load_samples

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "s.duckdb"
        t0 = time.perf_counter()
        record = new_sweep(loaded, store, samples, 1, fidelity)  # type: ignore[arg-type]
        execute(record, loaded, store, Execution(backend, workers))  # type: ignore[arg-type]
        wall = time.perf_counter() - t0
        with open_store(store, read_only=True) as s:
            frame = load_samples(s, record.sweep_id)
    return {"samples": samples, "workers": workers, "backend": backend, "fidelity": fidelity,
            "wall_s": round(wall, 2), "s_per_sample": round(wall / samples, 3),
            "failed": int(frame["error"].notna().sum()), "load": os.getloadavg()[0]}  # fmt: skip


def full20() -> dict[str, object]:
    return _sweep(_default_uncertain(), 20, "full", 2)


def scaling() -> dict[str, object]:
    from gpufleet.scenario import load_scenario

    loaded = load_scenario(SMALL)
    one = _sweep(loaded, 32, "full", 1)
    two = _sweep(loaded, 32, "full", 2)
    return {"one_worker": one, "two_workers": two,
            "speedup": round(float(one["wall_s"]) / float(two["wall_s"]), 2)}  # type: ignore[arg-type]  # fmt: skip


def ray_overhead(tasks: int = 200) -> dict[str, object]:
    """Empty chunks through Ray and through the pool: what a task costs beyond its samples."""
    import ray

    from gpufleet.risk.backends import run_chunks
    from gpufleet.risk.sweep import SweepJob

    job = SweepJob("", "<none>", ".", "full", ())
    empty: list[list[object]] = [[] for _ in range(tasks)]
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=256 * 1024**2)
    start_s = time.perf_counter() - t0
    for _ in run_chunks(job, empty[:20], "ray", 2):  # type: ignore[arg-type]  # warm the workers
        pass
    t1 = time.perf_counter()
    for _ in run_chunks(job, empty, "ray", 2):  # type: ignore[arg-type]
        pass
    ray_s = time.perf_counter() - t1
    ray.shutdown()
    t2 = time.perf_counter()
    for _ in run_chunks(job, empty, "local", 2):  # type: ignore[arg-type]  # includes the pool's start
        pass
    pool_s = time.perf_counter() - t2
    return {
        "tasks": tasks,
        "ray_init_s": round(start_s, 2),
        "ray_ms_per_task": round(1000 * ray_s / tasks, 2),
        "pool_total_s_with_start": round(pool_s, 2),
        "pool_ms_per_task_with_start": round(1000 * pool_s / tasks, 2),
        "load": os.getloadavg()[0],
    }


def fluid1000() -> dict[str, object]:
    """On bench (d)'s frozen default, so the figure stays comparable while the shipped default changes."""
    from gpufleet.risk.sweep import attach_uncertainty
    from gpufleet.scenario import load_scenario

    loaded = attach_uncertainty(
        load_scenario(FROZEN), FROZEN_INPUTS.read_text(encoding="utf-8"), str(FROZEN_INPUTS)
    )
    return _sweep(loaded, 1000, "fluid", 2)


def fluid_today() -> dict[str, object]:
    """On the built-in default as it ships today, with the example inputs (revenue scaled per sample)."""
    return _sweep(_default_uncertain(), 1000, "fluid", 2)


CASES = {
    "full20": full20,
    "scaling": scaling,
    "ray": ray_overhead,
    "fluid": fluid1000,
    "fluid-today": fluid_today,
}


def _missing(name: str) -> str | None:
    """Why a case cannot run here (Ray not installed, the fluid model not in yet), or None."""
    import importlib.util

    need = {"ray": "ray", "fluid": "gpufleet.risk.fluid", "fluid-today": "gpufleet.risk.fluid"}.get(name)
    if need is not None and importlib.util.find_spec(need) is None:
        return f"{need} is not installed"
    return None


if __name__ == "__main__":
    for name in sys.argv[1:] or list(CASES):
        why = _missing(name)
        result = {"skipped": why} if why else CASES[name]()
        print(json.dumps({"case": name, **result}), flush=True)
