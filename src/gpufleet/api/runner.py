"""The bounded pool of worker processes that execute accepted jobs (runs, sweeps), and their progress.

A job is accepted only while fewer than `workers + queue` jobs are in flight (else the route answers
429); it is recorded `queued` in the store before it is handed to the pool. When the service stops,
the jobs still in flight are stopped and returned, and the service records them failed (a run) or
interrupted (a sweep), so none is left `running`. A request's heavy computation (a stressed what-if)
takes a place the same way (`call`), but its answer goes back to the request, not to the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import multiprocessing
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpufleet.api.worker import init_worker

Lost = Callable[[str, str], None]
Task = Callable[..., str]  # a module-level function of api/worker.py: (store path, job id, *args) -> status
Call = Callable[..., Any]  # the same for a request's computation: -> its answer


@dataclass(frozen=True, slots=True)
class Progress:
    fraction: float
    label: str


class Full(Exception):
    """The pool holds as many runs as it may; try again later."""


class Runner:
    """Hands jobs to worker processes; knows each in-flight job's progress."""

    def __init__(self, store: Path, workers: int, capacity: int, on_lost: Lost) -> None:
        self.store = store
        self._on_lost = on_lost  # told of a job whose worker died (it could not record its failure)
        self.capacity = capacity
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded server
        self._queue: Any = ctx.Queue()
        self._pool = ProcessPoolExecutor(workers, ctx, initializer=init_worker, initargs=(self._queue,))
        self._lock = threading.RLock()  # a done callback may run at once, inside _dispatch
        self.workers = workers
        self._places: dict[str, Future[str] | None] = {}  # every run in flight: reserved, waiting or started
        self._waiting: deque[tuple[str, Task | Call, tuple[Any, ...]]] = deque()
        self._active = 0  # runs the pool holds
        self._progress: dict[str, Progress] = {}
        self._calls: dict[
            str, Future[Any]
        ] = {}  # a request's computation: its answer goes back, not to the store
        self._stopping = threading.Event()
        self._listener = threading.Thread(target=self._listen, name="gpufleet-progress", daemon=True)
        self._listener.start()

    def reserve(self, run_id: str) -> None:
        """Take a place for a run, or raise Full."""
        with self._lock:
            if len(self._places) >= self.capacity:
                raise Full
            self._places[run_id] = None  # reserved; a Future once a worker has it
            self._progress[run_id] = Progress(0.0, "queued")

    def release(self, run_id: str) -> None:
        """Give back a place taken by `reserve` for a run that was not submitted after all."""
        with self._lock:
            self._places.pop(run_id, None)
            self._progress.pop(run_id, None)

    def submit(self, job_id: str, task: Task, *args: Any) -> None:
        """Start `task(store, job_id, *args)` on a free worker, or keep it waiting here (cancellable)
        until one is free. The job's place was taken by `reserve`.

        The pool itself is never given more jobs than it has workers: what it holds it may have
        started, and could not cancel.
        """
        with self._lock:
            self._waiting.append((job_id, task, args))
            self._dispatch()

    def call(self, call_id: str, task: Call, *args: Any) -> Future[Any]:
        """Run a request's computation (`task(store, call_id, *args)`, a what-if's stresses) on a worker,
        in a place taken as a job's (Full when none is free): the future returned gets its result or
        exception. Nothing is recorded in the store; the request cancels it (`cancel`) if it gives up
        while it waits."""
        answer: Future[Any] = Future()
        with self._lock:
            if len(self._places) >= self.capacity:
                raise Full
            self._places[call_id] = None
            self._progress[call_id] = Progress(0.0, "queued")
            self._calls[call_id] = answer
            self._waiting.append((call_id, task, args))
            self._dispatch()
        return answer

    def _dispatch(self) -> None:
        """Hand waiting runs to free workers (called with the lock held)."""
        while self._waiting and self._active < self.workers and not self._stopping.is_set():
            run_id, task, args = self._waiting.popleft()
            future = self._pool.submit(task, str(self.store), run_id, *args)
            self._active += 1
            self._places[run_id] = future
            future.add_done_callback(functools.partial(self._done, run_id))

    def _done(self, run_id: str, future: Future[str]) -> None:
        with self._lock:
            self._active -= 1
            self._places.pop(run_id, None)
            self._progress.pop(run_id, None)
            answer = self._calls.pop(run_id, None)
            self._dispatch()
        if answer is not None:
            _pass_on(future, answer)
            return
        if future.cancelled() or self._stopping.is_set():
            return
        exc = future.exception()
        if exc is not None:
            self._on_lost(run_id, f"the worker process was lost ({type(exc).__name__}: {exc})"[:500])

    def cancel(self, run_id: str) -> bool:
        """Cancel a run that no worker has taken yet; False when it is running or unknown."""
        with self._lock:
            for item in self._waiting:
                if item[0] == run_id:
                    self._waiting.remove(item)
                    self._places.pop(run_id, None)
                    self._progress.pop(run_id, None)
                    answer = self._calls.pop(run_id, None)
                    if answer is not None:
                        answer.cancel()
                    return True
            return False

    def in_flight(self) -> int:
        with self._lock:
            return len(self._places)

    def progress(self, run_id: str) -> Progress | None:
        with self._lock:
            return self._progress.get(run_id)

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                run_id, fraction, label = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError, ValueError):
                return
            with self._lock:
                if run_id in self._places:
                    self._progress[run_id] = Progress(fraction, label)

    def shutdown(self) -> list[str]:
        """Stop every worker now; returns the jobs that were still in flight (the caller fails them); the
        requests' computations are cancelled."""
        with self._lock:
            pending = [
                r for r, f in self._places.items() if (f is None or not f.done()) and r not in self._calls
            ]
            self._waiting.clear()
            for answer in self._calls.values():
                answer.cancel()
            self._calls.clear()
        self._stopping.set()
        processes = list(getattr(self._pool, "_processes", {}).values())  # to stop runs mid-way
        self._pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            with contextlib.suppress(Exception):
                p.terminate()
        for p in processes:
            with contextlib.suppress(Exception):
                p.join(5)
        self._listener.join(2)
        with contextlib.suppress(Exception):
            self._queue.close()
        return pending


def _pass_on(done: Future[Any], answer: Future[Any]) -> None:
    """A worker's finished future's outcome, given to the request's own future (unless it gave up)."""
    if answer.cancelled():
        return
    if done.cancelled():
        answer.cancel()
    elif (exc := done.exception()) is not None:
        answer.set_exception(exc)
    else:
        answer.set_result(done.result())


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
