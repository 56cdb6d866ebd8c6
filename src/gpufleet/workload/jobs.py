"""The job-stream format every reader and generator produces: equal-length arrays sorted by submit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gpufleet.tables import PRIORITY_CLASSES

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class JobBatch:
    """Jobs of one workload as columns; row i is one job. Sorted by `submit_s` (stable).

    `submit_s` counts seconds from the stream's time origin; `duration_s` is the run time at full
    speed with no failures; `skipped` counts input rows left out, by reason; `adjusted` counts rows
    kept but changed (a fractional GPU rounded up to one, say); `origin` is the wall-clock UTC time
    of submit_s = 0 when the source has one (a dated trace), else None.
    """

    submit_s: F64
    duration_s: F64
    gpus: I64
    team: Obj
    priority_class: Obj
    workload: str = ""
    skipped: dict[str, int] = field(default_factory=dict)
    adjusted: dict[str, int] = field(default_factory=dict)
    origin: dt.datetime | None = None

    def __post_init__(self) -> None:
        n = len(self.submit_s)
        for name in ("duration_s", "gpus", "team", "priority_class"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"JobBatch.{name} has {len(getattr(self, name))} rows, submit_s has {n}")
        if n > 1 and bool(np.any(np.diff(self.submit_s) < 0)):
            raise ValueError("JobBatch rows must be sorted by submit_s")

    def __len__(self) -> int:
        return len(self.submit_s)

    @classmethod
    def build(
        cls,
        submit_s: npt.ArrayLike,
        duration_s: npt.ArrayLike,
        gpus: npt.ArrayLike,
        team: npt.ArrayLike | str,
        priority_class: npt.ArrayLike | str,
        workload: str = "",
        skipped: Mapping[str, int] | None = None,
        adjusted: Mapping[str, int] | None = None,
        origin: dt.datetime | None = None,
    ) -> JobBatch:
        """A batch from unsorted columns (a scalar team or class fills every row); sorts stably by submit."""
        sub = np.asarray(submit_s, dtype=np.float64)
        order = np.argsort(sub, kind="stable")
        n = len(sub)

        def col(v: npt.ArrayLike | str) -> Obj:
            if isinstance(v, str):
                return np.full(n, v, dtype=object)
            return np.asarray(v, dtype=object)[order]

        return cls(
            submit_s=sub[order],
            duration_s=np.asarray(duration_s, dtype=np.float64)[order],
            gpus=np.asarray(gpus, dtype=np.int64)[order],
            team=col(team),
            priority_class=col(priority_class),
            workload=workload,
            skipped=dict(skipped or {}),
            adjusted=dict(adjusted or {}),
            origin=origin,
        )

    @classmethod
    def empty(cls, workload: str = "") -> JobBatch:
        return cls(
            np.zeros(0, np.float64),
            np.zeros(0, np.float64),
            np.zeros(0, np.int64),
            np.zeros(0, object),
            np.zeros(0, object),
            workload,
        )

    def shifted(self, seconds: float) -> JobBatch:
        """The same jobs with submit times moved by `seconds` (the origin moves back by as much)."""
        origin = None if self.origin is None else self.origin - dt.timedelta(seconds=float(seconds))
        return JobBatch(
            self.submit_s + float(seconds),
            self.duration_s,
            self.gpus,
            self.team,
            self.priority_class,
            self.workload,
            dict(self.skipped),
            dict(self.adjusted),
            origin,
        )

    def take(self, index: npt.ArrayLike) -> JobBatch:
        """Rows at `index` (a boolean mask or sorted positions); counts and origin kept."""
        idx = np.asarray(index)
        return JobBatch(
            self.submit_s[idx],
            self.duration_s[idx],
            self.gpus[idx],
            self.team[idx],
            self.priority_class[idx],
            self.workload,
            dict(self.skipped),
            dict(self.adjusted),
            self.origin,
        )

    def with_workload(self, workload: str) -> JobBatch:
        return JobBatch(
            self.submit_s,
            self.duration_s,
            self.gpus,
            self.team,
            self.priority_class,
            workload,
            dict(self.skipped),
            dict(self.adjusted),
            self.origin,
        )

    @property
    def gpu_seconds(self) -> F64:
        return self.duration_s * self.gpus

    def gpu_hours(self) -> float:
        return float(np.sum(self.gpu_seconds) / 3600.0)

    def check_classes(self) -> None:
        """Raise ValueError if a priority class is not one of the four known classes."""
        bad = set(np.unique(self.priority_class).tolist()) - set(PRIORITY_CLASSES)
        if bad:
            raise ValueError(
                f"unknown priority classes {sorted(bad)}; expected {', '.join(PRIORITY_CLASSES)}"
            )


def _merge_counts(counts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            out[k] = out.get(k, 0) + int(v)
    return out


def concat(batches: Iterable[JobBatch], workload: str | None = None) -> JobBatch:
    """One batch of all jobs, re-sorted by submit (stable: earlier batches first on ties).

    Skip and adjust counts add up; the workload is the given name, else the first batch's; the
    origin is kept only when every batch has the same one.
    """
    items = list(batches)
    if not items:
        return JobBatch.empty(workload or "")
    origins = {b.origin for b in items}
    return JobBatch.build(
        np.concatenate([b.submit_s for b in items]),
        np.concatenate([b.duration_s for b in items]),
        np.concatenate([b.gpus for b in items]),
        np.concatenate([b.team for b in items]),
        np.concatenate([b.priority_class for b in items]),
        workload=items[0].workload if workload is None else workload,
        skipped=_merge_counts(b.skipped for b in items),
        adjusted=_merge_counts(b.adjusted for b in items),
        origin=origins.pop() if len(origins) == 1 else None,
    )
