"""What a worker process does with one accepted job: a run (record it running, simulate, store it or its
failure) or a sweep (run its samples into the store, as `gpufleet sweep` does); and a stressed what-if,
whose answer goes back to the request that waits for it.

Runs in a child process (the engine holds the GIL): it opens the store only to record and to save,
never while it simulates, like `gpufleet simulate`; progress goes back to the server on a queue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from gpufleet.api.deadline import Stopped, time_limit

_PROGRESS: Any = None  # this worker's progress queue (set once per process by `init_worker`)


def init_worker(progress: Any) -> None:
    """Pool initializer: keep the queue on which this process reports progress."""
    global _PROGRESS
    _PROGRESS = progress


def _tell(run_id: str, fraction: float, label: str) -> None:
    if _PROGRESS is not None:
        with contextlib.suppress(Exception):
            _PROGRESS.put_nowait((run_id, float(fraction), str(label)))


def execute_run(
    store_path: str,
    run_id: str,
    text: str,
    seed: int | None,
    plan_id: str | None = None,
    limit_s: float | None = None,
) -> str:
    """Simulate an accepted run and store it under `run_id`; returns its final status. With `plan_id`
    the run follows that stored plan, as `gpufleet simulate --plan` (its options signed as contracts,
    jobs routed by its monthly allocation) and is linked to it in the store. A simulation that takes
    longer than `limit_s` is stopped and the run recorded failed, saying so (nothing of it stored)."""
    from gpufleet.pipeline import run_scenario
    from gpufleet.scenario import load_scenario_text
    from gpufleet.sched.planned import PlanMonth
    from gpufleet.store import open_store
    from gpufleet.store.service_jobs import record_owner, this_process
    from gpufleet.store.store import record_failure

    path = Path(store_path)
    try:
        with time_limit("run", limit_s):
            loaded = load_scenario_text(text, f"<scenario of run {run_id}>")
            run_seed = loaded.scenario.seed if seed is None else seed
            months: list[PlanMonth] = []
            with open_store(path) as store:
                store.begin_run(run_id, loaded.scenario.name, run_seed, dt.datetime.now(dt.UTC))
                record_owner(store, run_id, this_process())  # the job's process is now this worker
                stored = None if plan_id is None else store.load_plan(plan_id)
            if stored is not None:
                from gpufleet.plan.follow import follow_plan

                loaded, months = follow_plan(loaded, loaded, stored)
            _tell(run_id, 0.0, "starting")
            result = run_scenario(loaded, seed, lambda f, label: _tell(run_id, f, label), months)
        meta = dataclasses.replace(result.meta, run_id=run_id)
        with open_store(path) as store:
            store.save_run(meta, result.tables, scenario_text=loaded.text, plan_id=plan_id)
        _tell(run_id, 1.0, "finished")
        return "finished"
    except Stopped as exc:
        with contextlib.suppress(Exception), open_store(path, wait_s=30.0) as store:
            store.fail_run(run_id, exc.message)
        return "failed"
    except BaseException as exc:
        record_failure(path, run_id, exc, wait_s=30.0)
        return "failed"


def execute_sweep(store_path: str, sweep_id: str, limit_s: float | None = None) -> str:
    """Run a recorded (queued) sweep's samples in this process, as `gpufleet sweep --resume` would;
    returns its final status (a sweep that fails is recorded `failed`, its finished samples kept). One
    that takes longer than `limit_s` is stopped and recorded `interrupted` (its finished samples kept,
    each chunk whole), with a note saying why and how to finish it."""
    from gpufleet.risk.driver import Execution, execute, resumed_sweep
    from gpufleet.store import open_store
    from gpufleet.store.service_jobs import record_owner, set_note, this_process
    from gpufleet.store.sweeps import set_status

    path = Path(store_path)
    try:
        record, loaded = resumed_sweep(path, sweep_id, None)
        with open_store(path) as store:
            set_status(store, sweep_id, "running")
            record_owner(store, sweep_id, this_process())  # the job's process is now this worker
        with time_limit("sweep", limit_s):
            execute(record, loaded, path, Execution(), lambda f, label: _tell(sweep_id, f, label))
        _tell(sweep_id, 1.0, "finished")
        return "finished"
    except Stopped as exc:
        with contextlib.suppress(Exception), open_store(path, wait_s=30.0) as store:
            set_status(store, sweep_id, "interrupted")
            set_note(store, sweep_id, f"{exc.message}; {resume_hint(sweep_id)}")
        return "interrupted"
    except BaseException:
        with contextlib.suppress(Exception), open_store(path) as store:
            set_status(store, sweep_id, "failed")
        return "failed"


def answer_whatif(
    store_path: str, call_id: str, run_id: str, texts: list[str], stress: bool, html: bool, limit_s: float
) -> tuple[str, Any]:
    """A what-if answered in this worker (the stressed ones), bounded by the request's time limit: ("ok",
    the answer), ("input", [(where, field, message)]) for a change the scenario refuses (422 there), or
    ("stopped", why)."""
    from gpufleet.api.whatif_answer import whatif_answer
    from gpufleet.errors import InputError
    from gpufleet.risk.stored import stored_run_base
    from gpufleet.store import open_store

    try:
        with time_limit("request", limit_s):
            with open_store(Path(store_path), read_only=True) as store:
                loaded, figures = stored_run_base(store, run_id, where="run_id")
            return "ok", whatif_answer(loaded, figures, run_id, texts, stress, html)
    except InputError as exc:  # sent back as plain tuples: an exception's own pickling is not relied on
        return "input", [(p.where, p.field, p.message) for p in exc.problems]
    except Stopped as exc:  # past the request's limit: the request was answered 503 already
        return "stopped", exc.message


def resume_hint(sweep_id: str) -> str:
    return f"`gpufleet sweep --resume {sweep_id}` finishes it"
