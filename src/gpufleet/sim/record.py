"""Flat change logs recorded during a run, and their exact integration over reporting intervals.

The engine appends (time, group, delta) whenever a level changes (GPUs allocated to a class in a
cluster, GPUs failed, capacity, jobs queued). At the end numpy turns each log into integrals of
the piecewise-constant level over any grid of intervals, exactly: no sampling.
"""

from __future__ import annotations

import struct
from array import array
from typing import Final

import numpy as np
import numpy.typing as npt

BLOCK: Final = 8192  # records kept in lists before they move to the arrays


class ChangeLog:
    """Append-only (time, group, delta) records in compact arrays.

    Records are appended to small lists (mypyc appends to a typed list natively; an array's append
    is a generic method call that parses its argument) and moved to the arrays in blocks of
    BLOCK; readers flush first, so the order of the records is the order they were added.
    """

    __slots__ = ("_d", "_g", "_t", "delta", "group", "t")

    def __init__(self) -> None:
        self.t = array("d")
        self.group = array("i")
        self.delta = array("d")
        self._t: list[float] = []
        self._g: list[int] = []
        self._d: list[int] = []  # deltas are whole GPUs and jobs: ints box without allocating (mostly)

    def add(self, t: float, group: int, delta: int) -> None:
        self._t.append(t)
        self._g.append(group)
        self._d.append(delta)
        if len(self._t) >= BLOCK:
            self.flush()

    def add2(self, t: float, group1: int, delta1: int, group2: int, delta2: int) -> None:
        """Two changes at one time (fewer calls in the hot loop)."""
        self._t.append(t)
        self._g.append(group1)
        self._d.append(delta1)
        self._t.append(t)
        self._g.append(group2)
        self._d.append(delta2)
        if len(self._t) >= BLOCK:
            self.flush()

    def flush(self) -> None:
        """Move the pending records into the arrays."""
        n = len(self._t)
        if n:
            # struct packs a list faster than numpy converts one or an array's fromlist takes it
            self.t.frombytes(struct.pack(f"{n}d", *self._t))
            self.group.frombytes(struct.pack(f"{n}i", *self._g))
            self.delta.frombytes(struct.pack(f"{n}d", *self._d))  # whole numbers, stored as doubles
            self._t = []
            self._g = []
            self._d = []

    def __len__(self) -> int:
        return len(self.t) + len(self._t)

    def since(
        self, pos: int
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32], npt.NDArray[np.float64]]:
        """Copies of the records from index pos on (the log's buffers are never held)."""
        self.flush()
        return (
            np.frombuffer(self.t[pos:], dtype=np.float64),
            np.frombuffer(self.group[pos:], dtype=np.int32),
            np.frombuffer(self.delta[pos:], dtype=np.float64),
        )

    def arrays(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        self.flush()
        return (
            np.frombuffer(self.t, dtype=np.float64) if len(self.t) else np.zeros(0),
            np.frombuffer(self.group, dtype=np.int32).astype(np.int64)
            if len(self.group)
            else np.zeros(0, np.int64),
            np.frombuffer(self.delta, dtype=np.float64) if len(self.delta) else np.zeros(0),
        )


def integrate(log: ChangeLog, groups: int, bounds: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Integral (level x seconds) of each group's level over each interval [bounds[i], bounds[i+1]).

    The level starts at 0 and changes by `delta` at `t`. Changes before bounds[0] count from
    bounds[0]; changes at or after bounds[-1] are ignored. Shape (groups, len(bounds) - 1).
    """
    t, g, d = log.arrays()
    m = len(bounds) - 1
    out = np.zeros((groups, m))
    if m <= 0 or len(t) == 0:
        return out
    if len(t) < 2 or bool((t[1:] >= t[:-1]).all()):
        # the engine's logs are in time order: the records kept are a prefix (views, no copies),
        # and each interval's records a run of them
        n = int(np.searchsorted(t, bounds[-1], side="left"))
        t, g, d = t[:n], g[:n], d[:n]
        if n and t[0] < bounds[0]:
            t = np.maximum(t, bounds[0])
        idx = np.repeat(np.arange(m), np.diff(np.searchsorted(t, bounds, side="left")))
    else:
        keep = t < bounds[-1]
        t, g, d = np.maximum(t[keep], bounds[0]), g[keep], d[keep]
        idx = np.searchsorted(bounds, t, side="right") - 1
    flat = g * m + idx
    step = np.bincount(flat, weights=d, minlength=groups * m).reshape(groups, m)
    part = np.bincount(flat, weights=d * (bounds[idx + 1] - t), minlength=groups * m).reshape(groups, m)
    level_before = np.cumsum(step, axis=1) - step  # level at each interval's start
    return level_before * np.diff(bounds)[None, :] + part
