"""Which process holds each job of `gpufleet serve` (the server that queued it, then the worker that runs
it: host, pid and the pid's start), and a note on how a sweep ended: what a server started later needs to
find the jobs that no live process holds any more (a server killed outright, its workers with it).

A pid alone is not enough: a server restarted in a container often gets its old pid again, so the
process's start time (Linux: /proc/PID/stat) is kept with it. Registered in store/schema.py SIDE_TABLES.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gpufleet.store.schema import q
from gpufleet.store.store import Store

SERVICE_JOBS = "service_jobs"


@dataclass(frozen=True, slots=True)
class Owner:
    """A server process: where it runs, its pid, and when that process started (None where unknown)."""

    host: str
    pid: int
    pid_started: int | None

    def alive(self) -> bool:
        """Whether this very process still runs (only knowable on this host: elsewhere, assumed alive)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except OSError:
            pass  # another user's process: it exists
        started = process_started(self.pid)
        return self.pid_started is None or started is None or started == self.pid_started


def process_started(pid: int) -> int | None:
    """When process `pid` started, in clock ticks after boot (field 22 of /proc/PID/stat); None off Linux."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the command name may hold spaces and parentheses
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def this_process() -> Owner:
    return Owner(socket.gethostname(), os.getpid(), process_started(os.getpid()))


def record_owner(store: Store, job_id: str, owner: Owner) -> None:
    """Record that `owner` accepted the job (its note starts empty)."""
    with store.side_write() as con:
        con.execute(
            f"INSERT OR REPLACE INTO {q(SERVICE_JOBS)} VALUES (?, ?, ?, ?, '')",
            [job_id, owner.host, owner.pid, owner.pid_started],
        )


def set_note(store: Store, job_id: str, message: str) -> None:
    """Say how the job ended (a sweep's stop or interruption); a job with no owner row gains one."""
    with store.side_write() as con:
        con.execute(
            f"INSERT INTO {q(SERVICE_JOBS)} VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (job_id) DO UPDATE SET message = ?",
            [job_id, socket.gethostname(), os.getpid(), process_started(os.getpid()), message, message],
        )


def owners(store: Store) -> dict[str, Owner]:
    """Every recorded job's owner, by job id."""
    df = store.query(f"SELECT job_id, host, pid, pid_started FROM {q(SERVICE_JOBS)}")
    out = {}
    for r in df.to_dict("records"):
        started: Any = r["pid_started"]
        pid_started = None if pd.isna(started) else int(started)
        out[str(r["job_id"])] = Owner(str(r["host"]), int(r["pid"]), pid_started)
    return out


def notes(store: Store) -> dict[str, str]:
    """The non-empty notes, by job id."""
    df = store.query(f"SELECT job_id, message FROM {q(SERVICE_JOBS)} WHERE message <> ''")
    return dict(zip(df["job_id"].astype(str), df["message"].astype(str), strict=True))
