"""Run metadata: who ran what, when, with which seed; kept apart from the run tables and light to import."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import asdict, dataclass
from typing import Any

RUN_STATUSES: tuple[str, ...] = ("finished", "failed")  # of a stored run (the `runs` table)
# of any run the store knows (the `run_status` table): a front end queues, a process runs, then
# finishes (its tables stored) or fails; a run whose process died is reported as failed
LIFECYCLE: tuple[str, ...] = ("queued", "running", "finished", "failed")


def new_run_id(now: dt.datetime | None = None) -> str:
    """A run id unique per run that sorts by start time: `20261129-080706-3fa9c2` (UTC, 24 random bits)."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now.astimezone(dt.UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class RunMeta:
    """One run's identity and bookkeeping. Headline figures are not here: they come from the tables."""

    run_id: str
    scenario_name: str
    content_hash: str  # the scenario's content hash (with the seed and version: reproducible)
    seed: int
    gpufleet_version: str
    started: dt.datetime  # UTC
    finished: dt.datetime  # UTC
    status: str  # finished | failed
    wall_s: float

    def __post_init__(self) -> None:
        if not self.run_id or any(c.isspace() for c in self.run_id):
            raise ValueError(f"run_id must be a non-empty word, got {self.run_id!r}")
        if self.status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}, got {self.status!r}")
        for name in ("started", "finished"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() != dt.timedelta(0):
                raise ValueError(f"{name} must be a UTC datetime, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 strings."""
        out = asdict(self)
        out["started"] = self.started.isoformat()
        out["finished"] = self.finished.isoformat()
        return out


@dataclass(frozen=True, slots=True)
class RunStatus:
    """Where a run stands, as the store's `run_status` table holds it."""

    run_id: str
    status: str  # queued | running | finished | failed
    scenario_name: str | None
    seed: int | None
    host: str | None
    pid: int | None
    started: dt.datetime | None  # UTC
    updated: dt.datetime  # UTC
    message: str  # why it failed, or ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["started"] = self.started.isoformat() if self.started else None
        out["updated"] = self.updated.isoformat()
        return out
