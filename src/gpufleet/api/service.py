"""What the routes share, held by the app (no globals): settings, the worker pool and store access.

The store is opened per request and closed at once (other processes write it meanwhile); inside this
process one lock serializes the opens, since DuckDB refuses a read-only and a writable connection to
one file in one process at the same time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gpufleet.api.runner import Runner
from gpufleet.api.settings import Settings
from gpufleet.api.worker import resume_hint
from gpufleet.store.meta import RunStatus
from gpufleet.store.service_jobs import owners, record_owner, set_note, this_process

if TYPE_CHECKING:
    from gpufleet.store.store import Store

_SUMMARY_CACHE = 32  # finished runs never change: their findings and headline are computed once
STATUS_TTL_S = 0.5  # a burst of reads shares one read of the runs' statuses (a poll sees a change this late)


def is_sweep(job_id: str) -> bool:
    """Jobs of the pool are runs or sweeps; a sweep's id says so (store/sweeps.py new_sweep_id)."""
    from gpufleet.store.sweeps import SWEEP_PREFIX

    return job_id.startswith(SWEEP_PREFIX)


LIVE = ("queued", "running")


def reclaim(store: Store) -> list[str]:
    """Close the jobs left queued or running whose process (the server that queued it, or the worker
    running it) is no longer alive: killed outright, it could not record their end. A run is failed, a
    sweep interrupted (resumable), each saying so; returns their ids. Jobs of a live process, here or on
    another host, are left alone (a worker left running by a killed server finishes its job)."""
    from gpufleet.store.sweeps import list_sweeps, set_status

    runs = {s.run_id: s.status for s in store.statuses()}
    listed = list_sweeps(store)
    sweeps = dict(zip(listed["sweep_id"].astype(str), listed["status"].astype(str), strict=True))
    closed = []
    for job_id, owner in owners(store).items():
        if owner.alive() or (runs.get(job_id) not in LIVE and sweeps.get(job_id) not in LIVE):
            continue
        gone = f"interrupted: the server process that held it ({owner.pid} on {owner.host}) is gone"
        if job_id in sweeps:
            set_status(store, job_id, "interrupted")
            set_note(store, job_id, f"{gone}; {resume_hint(job_id)}")
        else:
            store.fail_run(job_id, f"{gone}; nothing of the run was stored: submit it again")
        closed.append(job_id)
    return closed


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store_lock = threading.Lock()
        self._summaries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._summaries_lock = threading.Lock()
        self.runner: Runner | None = None
        self._statuses: tuple[float, list[RunStatus]] | None = None
        self._statuses_lock = threading.Lock()
        self.owner = this_process()  # recorded with every job this server accepts

    def start(self) -> None:
        """Create or migrate the store (stale queued/running runs are failed there), close the jobs of
        servers that are gone (`reclaim`), then start the pool."""
        with self.store(write=True) as store:
            reclaim(store)
        s = self.settings
        self.runner = Runner(s.store, s.workers, s.capacity, self._lost)

    def own(self, store: Store, job_id: str) -> None:
        """Record that this server accepted the job (with its queued status, in the same store visit)."""
        record_owner(store, job_id, self.owner)

    def _lost(self, job_id: str, why: str) -> None:
        from gpufleet.store.sweeps import set_status

        with contextlib.suppress(Exception), self.store(write=True) as store:
            if is_sweep(job_id):
                set_status(store, job_id, "failed")
                set_note(store, job_id, why)
            else:
                store.fail_run(job_id, why)

    def stop(self) -> None:
        """Stop the workers; the runs they still held are recorded failed, never left running, and the
        sweeps interrupted (what they stored is kept; `gpufleet sweep --resume ID` finishes one)."""
        from gpufleet.store.sweeps import set_status

        if self.runner is None:
            return
        pending = self.runner.shutdown()
        self.runner = None
        if pending:
            with self.store(write=True) as store:
                for job_id in pending:
                    if is_sweep(job_id):
                        set_status(store, job_id, "interrupted")
                        set_note(store, job_id, f"interrupted: the server stopped; {resume_hint(job_id)}")
                    else:
                        store.fail_run(job_id, "the service stopped before the run was stored")

    def pool(self) -> Runner:
        if self.runner is None:
            raise RuntimeError("the service is not started")
        return self.runner

    @contextmanager
    def store(self, write: bool = False) -> Iterator[Store]:
        """The store, open for this block only; a write drops the statuses read before it."""
        from gpufleet.store import open_store

        with self._store_lock, open_store(self.settings.store, read_only=not write, create=write) as store:
            if write:
                self._statuses = None
            yield store
            if write:
                self._statuses = None

    def statuses(self) -> list[RunStatus]:
        """Every run's status, read at most once per STATUS_TTL_S however many requests ask."""
        with self._statuses_lock:
            held = self._statuses
            if held is None or time.monotonic() - held[0] > STATUS_TTL_S:
                with self.store() as store:  # kept under the store's lock: a write after it drops it
                    held = (time.monotonic(), store.statuses())
                    self._statuses = held
            return list(held[1])

    def cached_summary(self, run_id: str) -> dict[str, Any] | None:
        with self._summaries_lock:
            return self._summaries.get(run_id)

    def keep_summary(self, run_id: str, summary: dict[str, Any]) -> None:
        with self._summaries_lock:
            self._summaries[run_id] = summary
            while len(self._summaries) > _SUMMARY_CACHE:
                self._summaries.popitem(last=False)

    def forget_summary(self, run_id: str) -> None:
        with self._summaries_lock:
            self._summaries.pop(run_id, None)
