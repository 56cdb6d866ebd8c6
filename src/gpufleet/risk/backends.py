"""Where a sweep's chunks run: this process, a local process pool, or a Ray cluster (`gpufleet[ray]`).

Every backend takes the same job and chunks and yields each chunk's results as it finishes, in any
order; results never depend on the backend (a sample depends only on its spec).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import suppress
from typing import Any

from gpufleet.errors import InputError
from gpufleet.risk.sweep import SampleResult, SampleSpec, SweepJob, evaluate_chunk

BACKENDS = ("local", "ray")
RAY_MISSING = "Ray is not installed: pip install 'gpufleet[ray]' (or use --backend local)"
RAY_OBJECT_STORE_BYTES = 256 * 1024**2  # a local Ray's object store: chunks and results are small


def run_chunks(
    job: SweepJob,
    chunks: list[list[SampleSpec]],
    backend: str = "local",
    workers: int = 1,
    address: str | None = None,
) -> Iterator[list[SampleResult]]:
    """Each chunk's results as soon as it is done."""
    if backend == "ray":
        yield from _ray(job, chunks, workers, address)
    elif workers <= 1:
        for chunk in chunks:  # in this process: no pool to start for one worker
            yield evaluate_chunk(job, chunk)
    else:
        yield from _pool(job, chunks, workers)


def check_backend(backend: str, address: str | None) -> None:
    """Bad input before any work: an unknown backend, Ray missing, or --address without Ray."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}'; expected {' or '.join(BACKENDS)}", "--backend")
    if address is not None and backend != "ray":
        raise InputError("--address names a Ray cluster: use it with --backend ray", "--address")
    if backend == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise InputError(RAY_MISSING, "--backend")


def _ignore_interrupts() -> None:
    """In each worker: Ctrl-C is the parent's to handle (it stops the workers), never a worker's traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool(job: SweepJob, chunks: list[list[SampleSpec]], workers: int) -> Iterator[list[SampleResult]]:
    # spawn, not fork: the parent may hold threads (the progress bar) that a fork would copy mid-lock
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)) or 1, mp_context=context, initializer=_ignore_interrupts
    )
    try:
        pending: set[Future[list[SampleResult]]] = {pool.submit(evaluate_chunk, job, c) for c in chunks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    except BaseException:  # Ctrl-C, or the caller stopped: stop the chunks still running
        processes = list(getattr(pool, "_processes", None) or {})  # pids; 3.11 has no terminate_workers
        pool.shutdown(wait=False, cancel_futures=True)
        for pid in processes:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        raise
    pool.shutdown(wait=True)


def _ray(
    job: SweepJob, chunks: list[list[SampleSpec]], workers: int, address: str | None
) -> Iterator[list[SampleResult]]:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        if address is not None:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(
                num_cpus=max(workers, 1),
                include_dashboard=False,
                log_to_driver=False,
                object_store_memory=RAY_OBJECT_STORE_BYTES,
            )
    try:
        remote: Any = ray.remote(evaluate_chunk)
        job_ref = ray.put(job)
        pending = [remote.remote(job_ref, c) for c in chunks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)
    finally:
        if started_here:
            ray.shutdown()
