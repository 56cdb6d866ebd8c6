"""The benchmark cases, each run in its own process so that its peak memory is its own.

(a) the whole Philly trace on a 2,500-GPU cluster; (b) a year of a 500k-GPU fleet with 5M research
jobs (bench/fleet-500k.yaml); (c) the same fleet and offered load at 50k, 500k and 5M jobs (the
jobs' sizes scaled inversely to their number); (d) the default scenario as of 2026-11-30
(bench/default-2026-11-30.yaml) through `gpufleet simulate --no-report`. Each prints the engine's
events per second and whether the engine ran compiled (mypyc) or as pure Python.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED_DATA = Path(os.environ.get("GPUFLEET_SHARED_DATA", HERE.parents[1] / "shared" / "data"))
PHILLY = SHARED_DATA / "traces" / "philly" / "philly.csv"
DEFAULT = HERE / "default-2026-11-30.yaml"


def _compiled() -> bool:
    import gpufleet.sim.engine
    from gpufleet.native import is_compiled

    return is_compiled(gpufleet.sim.engine)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def philly(path: Path = PHILLY) -> dict[str, object]:
    """(a): Philly's 82k jobs on one 2,500-GPU cluster: 625 domains of 4 GPUs, best fit, EASY, failures."""
    from gpufleet.sim.engine import Engine
    from gpufleet.sim.spec import (
        ClusterSpec,
        ContractSpec,
        FleetSpec,
        JobSpec,
        PolicySpec,
        SimInput,
        TeamSpec,
        WorkloadSpec,
    )
    from gpufleet.sim.tables import build_tables
    from gpufleet.workload.readers import read_trace
    from gpufleet.workload.reliability import failure_rate_per_gpu_hour

    t0 = time.perf_counter()
    batch = read_trace(path, "philly", workload="philly")
    t_read = time.perf_counter() - t0
    n = len(batch)
    days = int((batch.submit_s.max() + batch.duration_s.max()) // 86400) + 2
    cluster = ClusterSpec(
        "philly", "on-prem", "h100", "us", 4, 4, 25, 25, 5.0, 1.2, failure_rate_per_gpu_hour("h100")
    )
    fleet = FleetSpec(
        start_epoch_s=1.5e9 - 1.5e9 % 86400,
        days=days,
        clusters=(cluster,),
        contracts=(ContractSpec("own", "on-prem", "committed", True, 2.0, 0, days - 1),),
        domains=np.full((1, days), 625, dtype=np.int32),
        contract=np.zeros((1, days), dtype=np.int16),
    )
    jobs = JobSpec.replay(batch, WorkloadSpec("philly", None, (0,), 30.0, None, None))
    inp = SimInput(
        fleet, jobs, (TeamSpec("philly", None, True),), (), PolicySpec(queue="priority"), days * 86400.0
    )
    t1 = time.perf_counter()
    res = Engine(inp, np.random.default_rng(1)).run()
    t2 = time.perf_counter()
    tables = build_tables(inp, res, ["philly"], ["philly"])
    t3 = time.perf_counter()
    j = tables.jobs
    return {
        "case": "a: Philly trace, 2,500 GPUs",
        "jobs": n,
        "gpus": 2500,
        "simulated_days": days,
        "read_s": round(t_read, 2),
        "engine_s": round(t2 - t1, 2),
        "events_per_s": round(res.events / (t2 - t1)),
        "compiled": _compiled(),
        "tables_s": round(t3 - t2, 2),
        "total_s": round(t3 - t0, 2),
        "peak_mib": round(_peak_mib()),
        "finished": int((j.state == "finished").sum()),
        "failures": res.failures,
        "wait_p50_s": float(j.wait_s.median()),
        "wait_p95_s": float(j.wait_s.quantile(0.95)),
    }


def fleet(jobs: int) -> dict[str, object]:
    """(b)/(c): the 500k-GPU year with `jobs` research jobs at the same offered load."""
    from gpufleet.assemble import prepare
    from gpufleet.scenario import load_scenario
    from gpufleet.sim.engine import run_engine
    from gpufleet.sim.tables import build_tables

    t0 = time.perf_counter()
    loaded = load_scenario(HERE / "fleet-500k.yaml")
    sc = loaded.scenario
    for w in sc.workloads:
        if w.stream is not None and w.stream.synthetic is not None:
            w.stream.synthetic.jobs_per_day = jobs / 365.0
            w.stream.synthetic.size_scale = max(1, round(8 * 5_000_000 / jobs))
    inp, teams, wls, rng = prepare(sc, loaded.catalog, sc.seed, {})
    t1 = time.perf_counter()
    res = run_engine(inp, rng)
    t2 = time.perf_counter()
    tables = build_tables(inp, res, teams, wls)
    t3 = time.perf_counter()
    j = tables.jobs
    s = tables.series
    alloc = s[[c for c in s.columns if c.startswith("allocated_")]].sum(axis=1).sum()
    return {
        "case": f"fleet 500k GPUs, {jobs:,} research jobs",
        "jobs": len(j),
        "size_scale": round(8 * 5_000_000 / jobs),
        "prepare_s": round(t1 - t0, 2),
        "engine_s": round(t2 - t1, 2),
        "events_per_s": round(res.events / (t2 - t1)),
        "compiled": _compiled(),
        "tables_s": round(t3 - t2, 2),
        "total_s": round(t3 - t0, 2),
        "peak_mib": round(_peak_mib()),
        "finished": int((j.state == "finished").sum()),
        "failures": res.failures,
        "cycles": res.cycles,
        "utilization_pct": round(100 * alloc / s.capacity_gpus.sum(), 1),
        "unserved_pct": round(
            100
            * (
                1 - tables.inference.served_tokens_s.sum() / max(tables.inference.demand_tokens_s.sum(), 1e-9)
            ),
            2,
        ),
    }


def default(path: Path = DEFAULT) -> dict[str, object]:
    """(d): `gpufleet simulate FILE --no-report` end to end (a fresh process, a scratch store), then
    the engine alone in this process for its events per second."""
    from gpufleet.assemble import prepare
    from gpufleet.scenario import load_scenario
    from gpufleet.sim.engine import run_engine

    with tempfile.TemporaryDirectory() as tmp:
        exe = str(Path(sys.executable).parent / "gpufleet")
        cmd = [exe, "simulate", str(path), "--no-report", "--quiet"]
        t0 = time.perf_counter()
        out = subprocess.run(
            [*cmd, "--store", f"{tmp}/s.duckdb"], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1:])
    loaded = load_scenario(path)
    sc = loaded.scenario
    inp, _teams, _wls, rng = prepare(sc, loaded.catalog, sc.seed, {})
    t1 = time.perf_counter()
    res = run_engine(inp, rng)
    t2 = time.perf_counter()
    return {
        "case": f"d: gpufleet simulate {path.name} --no-report",
        "jobs": len(inp.jobs),
        "simulate_s": round(wall, 2),
        "engine_s": round(t2 - t1, 2),
        "events": res.events,
        "events_per_s": round(res.events / (t2 - t1)),
        "compiled": _compiled(),
    }


def main(argv: list[str]) -> None:
    name = argv[0]
    out = philly() if name == "a" else default() if name == "d" else fleet(int(argv[1]))
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
