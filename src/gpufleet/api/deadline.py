"""A job's time limit inside a worker process: past it, the job is stopped by an exception at the next
line of Python, so the job's own error handling records it and rolls back what it was writing.

A one-shot real-time timer (SIGALRM) of the worker's main thread, where the pool runs each job; the
limit is checked by the kernel, not by polling. Code that holds the GIL in C (a solver call) is stopped
when it returns.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType


class Stopped(BaseException):
    """The job took longer than its limit (a BaseException: no `except Exception` of the job swallows it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def limit_message(kind: str, limit_s: float) -> str:
    """What a job stopped by its limit is recorded with."""
    return f"stopped: took longer than the server's {kind} time limit of {limit_s:g} s"


@contextlib.contextmanager
def time_limit(kind: str, limit_s: float | None) -> Iterator[None]:
    """Raise Stopped (with `limit_message`) in this (main) thread once `limit_s` seconds have passed inside
    the block; no limit with None. The timer is disarmed when the block ends, however it ends."""
    if limit_s is None:
        yield
        return
    message = limit_message(kind, limit_s)
    fired = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if not fired:  # once: the job's handlers then record the stop undisturbed
            fired = True
            raise Stopped(message)

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
