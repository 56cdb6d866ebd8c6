"""EASY backfill: the head job's reserved start (shadow time) and the GPUs spare at that time.

The head job of the queue is the first that cannot start; it gets a reservation on the cluster where
it could start soonest, counting the GPUs that running jobs free at their expected ends. A later job
may start now only if it ends before the shadow time or fits in the spare GPUs ("extra"), so it
never delays the head job (Mu'alem and Feitelson, 2001; Slurm's and Kueue's backfill follow it).
On topology-aware clusters the engine sets "extra" to 0: spare GPUs by count may sit in domains the
head cannot use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final


@dataclass(slots=True)
class Reservation:
    """The head job's reserved start on one cluster; `extra` shrinks as backfilled jobs use it."""

    cluster: int
    shadow_s: float
    extra_gpus: int

    def allows(self, cluster: int, gpus: int, end_s: float) -> bool:
        """May a job on `gpus` GPUs ending at end_s start now without delaying the head job?"""
        return cluster != self.cluster or end_s <= self.shadow_s or gpus <= self.extra_gpus

    def use(self, cluster: int, gpus: int, end_s: float) -> None:
        if cluster == self.cluster and end_s > self.shadow_s:
            self.extra_gpus -= gpus


NO_RESERVATION_CLUSTER: Final = -1


def shadow_time(
    now: float, need: int, free: int, ends: Sequence[tuple[float, int, int]]
) -> tuple[float, int]:
    """(shadow time, extra GPUs): when `need` GPUs are free, walking running jobs by expected end.

    ends: (expected end, job, GPUs it holds) sorted by time.
    Returns (inf, 0) when the cluster never frees enough.
    """
    avail = free
    if avail >= need:
        return now, avail - need
    for end, _job, gpus in ends:
        avail += gpus
        if avail >= need:
            return max(end, now), avail - need
    return math.inf, 0


def reserve(candidates: Sequence[tuple[int, float, int]]) -> Reservation:
    """The reservation on the cluster with the earliest shadow time (ties: lower index).

    candidates: (cluster, shadow time, extra GPUs). With no candidate the head can never start,
    and the reservation blocks nothing.
    """
    best = min(candidates, key=lambda c: (c[1], c[0]), default=None)
    if best is None or math.isinf(best[1]):
        return Reservation(NO_RESERVATION_CLUSTER, math.inf, 0)
    return Reservation(best[0], best[1], best[2])


def cluster_shadow(
    now: float, need: int, free: int, ends: Sequence[tuple[float, int, int]], topology: bool
) -> tuple[float, int]:
    """(shadow time, extra GPUs) of a head job needing `need` GPUs on one cluster.

    On a topology-aware cluster GPU counts do not say which domains free up: spare GPUs at the
    shadow time may sit where the head cannot use them. So only jobs that end by the shadow time
    backfill there (extra = 0), which can never delay the head (EASY's guarantee, kept under
    topology); a head with enough GPUs free now but not placeable waits for the next end.
    """
    s, extra = shadow_time(now, need, free, ends)
    if not topology:
        return s, extra
    if s <= now:
        s = next((e for e, _job, _g in ends if e > now), math.inf)
    return s, 0
