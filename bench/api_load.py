"""`python -m bench.api_load`: a bounded load on a real `gpufleet serve` on loopback, and its latencies.

200 concurrent reads (runs list, one run, catalog, health) while 20 runs are submitted at once; then
every run is awaited. Counts errors (any status but the expected one) and runs lost (submitted but
not finished in the store), and gives p50/p95 latency per kind. tests/api/test_load.py runs it and
asserts 0 errors and nothing lost; docs/benchmarks.md records the latencies.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TOKEN = "bench-token-0123456789abcdef"
SMALL = Path(__file__).resolve().parents[1] / "tests" / "scenarios" / "small.yaml"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(store: Path, log: Path, *args: str, start_limit_s: float = 60.0) -> Iterator[str]:
    """`gpufleet serve` in its own process on a free 127.0.0.1 port with a token; yields its base URL."""
    port = free_port()
    cmd = [sys.executable, "-c", "from gpufleet.cli import main; raise SystemExit(main())", "serve",
           "--host", "127.0.0.1", "--port", str(port), "--store", str(store), *args]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=os.environ | {"GPUFLEET_TOKEN": TOKEN}, stdout=out, stderr=out)
        base = f"http://127.0.0.1:{port}"
        try:
            end = time.monotonic() + start_limit_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"gpufleet serve exited: {log.read_text()}")
                try:
                    with urllib.request.urlopen(base + "/health", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > end:
                        raise RuntimeError("gpufleet serve did not answer /health in time") from None
                    time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def call(base: str, method: str, path: str, body: bytes | None = None) -> tuple[int, float, Any]:
    """One request with the token: status, seconds, parsed JSON (or None)."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/yaml"}
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read()
    elapsed = time.perf_counter() - t0
    try:
        return status, elapsed, json.loads(text)
    except ValueError:
        return status, elapsed, None


def _at_once(
    jobs: list[tuple[str, str, bytes | None, int]], base: str
) -> list[tuple[str, int, int, float, Any]]:
    """Fire every request in its own thread, released together; (kind, expected, status, s, body)."""
    results: list[tuple[str, int, int, float, Any]] = []
    lock = threading.Lock()
    gate = threading.Barrier(len(jobs))

    def one(method: str, path: str, body: bytes | None, expected: int) -> None:
        gate.wait()
        status, s, parsed = call(base, method, path, body)
        with lock:
            results.append((f"{method} {path}", expected, status, s, parsed))

    threads = [threading.Thread(target=one, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def run_load(
    folder: Path, reads: int = 200, submissions: int = 20, wait_limit_s: float = 900.0
) -> dict[str, Any]:
    """The load against a fresh store in `folder`; the counts and latencies as a dict."""
    from gpufleet.store import open_store

    text = SMALL.read_text(encoding="utf-8").replace("end: 2026-03-31", "end: 2026-01-21").encode()
    store = folder / "load.duckdb"
    with serving(store, folder / "serve.log", "--workers", "2", "--queue", str(submissions)) as base:
        paths = ["/v1/runs", "/v1/catalog/products", "/health", "/v1/runs/none"]
        expect = {"/v1/runs/none": 404}
        jobs: list[tuple[str, str, bytes | None, int]] = [
            ("GET", paths[i % len(paths)], None, expect.get(paths[i % len(paths)], 200)) for i in range(reads)
        ]
        jobs += [("POST", "/v1/runs", text, 202)] * submissions
        results = _at_once(jobs, base)
        run_ids = [
            body["run_id"]
            for kind, _, status, _, body in results
            if kind == "POST /v1/runs" and status == 202
        ]
        end = time.monotonic() + wait_limit_s
        pending = set(run_ids)
        while pending and time.monotonic() < end:
            for run_id in list(pending):
                status, _, body = call(base, "GET", f"/v1/runs/{run_id}")
                if status == 200 and body["status"] in ("finished", "failed"):
                    pending.discard(run_id)
            time.sleep(0.5)
    with open_store(store, read_only=True) as s:
        statuses = {st.run_id: st.status for st in s.statuses()}
        stored = set(s.run_ids())
    errors = [(kind, expected, status) for kind, expected, status, _, _ in results if status != expected]
    lost = [r for r in run_ids if r not in stored or statuses.get(r) != "finished"]
    read_s = [s for kind, _, _, s, _ in results if kind.startswith("GET")]
    submit_s = [s for kind, _, _, s, _ in results if kind.startswith("POST")]
    return {
        "reads": reads,
        "submissions": submissions,
        "errors": errors,
        "accepted": len(run_ids),
        "lost": lost,
        "read_p50_ms": 1000 * percentile(read_s, 50),
        "read_p95_ms": 1000 * percentile(read_s, 95),
        "submit_p50_ms": 1000 * percentile(submit_s, 50),
        "submit_p95_ms": 1000 * percentile(submit_s, 95),
    }


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = run_load(Path(tmp))
        out["wall_s"] = time.perf_counter() - t0
    print(json.dumps(out, indent=2))
