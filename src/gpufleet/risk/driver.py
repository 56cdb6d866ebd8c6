"""Runs a sweep into the store: checks it, records it, runs its missing samples on a backend, finishes it.

A new sweep and a resumed one take the same path: the samples' specs are drawn again from the stored
seed and count (they depend on nothing else), those already stored are skipped. Results are written
as they come, a few seconds' worth per transaction, so an interrupt loses at most those seconds.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gpufleet import __version__
from gpufleet.errors import InputError, Problem
from gpufleet.risk.backends import check_backend, run_chunks
from gpufleet.risk.sweep import (
    SampleResult,
    SweepJob,
    check_fidelity,
    check_inputs,
    chunked,
    input_paths,
    plan_samples,
    uncertainty_of,
)
from gpufleet.scenario.load import LoadedScenario, load_scenario_text
from gpufleet.store import open_store
from gpufleet.store.sweeps import (
    SweepRecord,
    create_sweep,
    done_samples,
    load_sweep,
    new_sweep_id,
    save_samples,
    set_status,
)

Progress = Callable[[float, str], None]
FLUSH_EVERY_S = 2.0


@dataclass(frozen=True)
class Execution:
    """How to run the samples; never changes what they give."""

    backend: str = "local"
    workers: int = 1
    address: str | None = None
    chunk_size: int | None = None


def new_sweep(
    loaded: LoadedScenario, store_path: Path, samples: int, seed: int, fidelity: str
) -> SweepRecord:
    """Check the sweep's inputs (bad input: exit 2, nothing written), then record it as running."""
    record = sweep_record(loaded, samples, seed, fidelity)
    with open_store(store_path) as store:
        create_sweep(store, record)
    return record


def sweep_record(
    loaded: LoadedScenario, samples: int, seed: int, fidelity: str, status: str = "running"
) -> SweepRecord:
    """A new sweep's record, after its inputs are checked (bad input: InputError); not yet stored."""
    section = uncertainty_of(loaded)
    check_fidelity(fidelity)
    check_inputs(loaded)
    now = dt.datetime.now(dt.UTC)
    return SweepRecord(
        sweep_id=new_sweep_id(now),
        scenario_name=loaded.scenario.name,
        content_hash=loaded.content_hash,
        file=loaded.file,
        scenario_text=loaded.text,
        fidelity=fidelity,
        samples=samples,
        seed=seed,
        sampling=section.sampling,
        gpufleet_version=__version__,
        created=now,
        updated=now,
        status=status,
    )


def resumed_sweep(
    store_path: Path, ref: str, loaded: LoadedScenario | None
) -> tuple[SweepRecord, LoadedScenario]:
    """A stored sweep and its scenario (the stored text, or FILE when given: it must be the same)."""
    with open_store(store_path, read_only=True) as store:
        record = load_sweep(store, ref)
    if loaded is None:
        base = Path(record.file).parent if not record.file.startswith("<") else Path.cwd()
        loaded = load_scenario_text(record.scenario_text, record.file, base)
    elif loaded.content_hash != record.content_hash:
        raise InputError(
            [
                Problem(
                    loaded.file, "", f"is not the scenario sweep {record.sweep_id} ran (its content differs)"
                )
            ]
        )
    check_fidelity(record.fidelity)
    return record, loaded


def execute(
    record: SweepRecord,
    loaded: LoadedScenario,
    store_path: Path,
    how: Execution,
    progress: Progress | None = None,
) -> SweepRecord:
    """Run every sample the store lacks; mark the sweep finished (or interrupted, then re-raise)."""
    check_backend(how.backend, how.address)
    section = uncertainty_of(loaded)
    with open_store(store_path, read_only=True) as store:
        done = done_samples(store, record.sweep_id)
    specs = [s for s in plan_samples(section, record.samples, record.seed) if s.sample not in done]
    job = SweepJob(loaded.text, loaded.file, str(loaded.base_dir), record.fidelity, input_paths(loaded))
    buffer: list[SampleResult] = []
    finished = len(done)
    last = time.monotonic()

    def flush() -> None:
        nonlocal last
        if buffer:
            with open_store(store_path) as store:
                save_samples(store, record.sweep_id, buffer)
            buffer.clear()
        last = time.monotonic()

    def tell() -> None:
        if progress is not None:
            progress(finished / max(record.samples, 1), f"sweep {finished}/{record.samples}")

    tell()
    try:
        for results in run_chunks(
            job, chunked(specs, how.workers, how.chunk_size), how.backend, how.workers, how.address
        ):
            buffer.extend(results)
            finished += len(results)
            tell()
            if time.monotonic() - last >= FLUSH_EVERY_S:
                flush()
        flush()
    except BaseException:
        flush()
        with open_store(store_path) as store:
            set_status(store, record.sweep_id, "interrupted")
        raise
    with open_store(store_path) as store:
        set_status(store, record.sweep_id, "finished")
        return load_sweep(store, record.sweep_id)
