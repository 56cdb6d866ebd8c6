"""`python -m bench [a] [b] [c] [d] [e] [f] [g]`: run the benchmarks, each in its process, print a table.

Prints the machine (cores, CPU, memory, load) beside the results: the 2-core machine these targets
are set for is shared, so the load average says how much of it the benchmark had.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

TARGETS = {
    "a": "under 1 s",
    "b": "under 60 s and 3 GiB",
    "c": "growth no worse than n log n",
    "d": "under 25 s",
    "e": "LP relaxation under 5 s, MILP to a 1% gap under 60 s",
    "f": "fluid model vs full simulation, per metric (bench/fluid_error.py; seven full runs, ~30 min shared)",
    "g": "1,000 fluid samples of the default under 2 minutes; 20 full samples; 1 vs 2 workers; Ray per task",
}


def machine() -> str:
    load = os.getloadavg()
    cpu = platform.processor() or platform.machine()
    return (
        f"{cpu}, {os.cpu_count()} cores, python {platform.python_version()}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def run_case(*args: str) -> dict[str, object]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "bench.cases", *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return {
            "case": " ".join(args),
            "error": out.stderr.strip().splitlines()[-1:],
            "wall_s": time.perf_counter() - t0,
        }
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str]) -> None:
    which = argv or ["a", "d", "e", "c", "b", "f"]
    print(f"machine: {machine()}", flush=True)
    if "a" in which:
        r = run_case("a")
        print(f"(a) target {TARGETS['a']}: {json.dumps(r)}", flush=True)
    if "d" in which:
        r = run_case("d")
        print(f"(d) default scenario of 2026-11-30, target {TARGETS['d']}: {json.dumps(r)}", flush=True)
    if "c" in which:
        for n in (50_000, 500_000):
            r = run_case("fleet", str(n))
            print(f"(c) {n:>9,} jobs: {json.dumps(r)}", flush=True)
    if "b" in which or "c" in which:
        r = run_case("fleet", "5000000")
        print(f"(b)/(c) 5,000,000 jobs, target {TARGETS['b']}: {json.dumps(r)}", flush=True)
    if "e" in which:
        out = subprocess.run(
            [sys.executable, "-m", "bench.plan_case"], capture_output=True, text=True, check=False
        )
        r = (
            json.loads(out.stdout.strip().splitlines()[-1])
            if out.returncode == 0
            else {"error": out.stderr[-300:]}
        )
        print(f"(e) default scenario plan, target {TARGETS['e']}: {json.dumps(r)}", flush=True)
    if "f" in which:
        print(f"(f) {TARGETS['f']}:", flush=True)
        subprocess.run([sys.executable, "-m", "bench.fluid_error"], check=False)
    if "g" in which:  # sweeps: bench/sweep_case.py, one JSON line per case
        out = subprocess.run(
            [sys.executable, "-m", "bench.sweep_case"], capture_output=True, text=True, check=False
        )
        lines = out.stdout.strip().splitlines() if out.returncode == 0 else [out.stderr[-300:]]
        for line in lines:
            print(f"(g) sweeps, target {TARGETS['g']}: {line}", flush=True)
    print(f"machine after: {machine()}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
