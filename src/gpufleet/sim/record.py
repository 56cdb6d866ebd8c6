"""Flat change logs recorded during a run, and their exact integration over reporting intervals.

The engine appends (time, group, delta) whenever a level changes (GPUs allocated to a class in a
cluster, GPUs failed, capacity, jobs queued). At the end numpy turns each log into integrals of
the piecewise-constant level over any grid of intervals, exactly: no sampling.
"""

from __future__ import annotations

from array import array

import numpy as np
import numpy.typing as npt


class ChangeLog:
    """Append-only (time, group, delta) records in compact arrays."""

    __slots__ = ("delta", "group", "t")

    def __init__(self) -> None:
        self.t = array("d")
        self.group = array("i")
        self.delta = array("d")

    def add(self, t: float, group: int, delta: float) -> None:
        self.t.append(t)
        self.group.append(group)
        self.delta.append(delta)

    def add2(self, t: float, group1: int, delta1: float, group2: int, delta2: float) -> None:
        """Two changes at one time (fewer calls in the hot loop)."""
        self.t.extend((t, t))
        self.group.extend((group1, group2))
        self.delta.extend((delta1, delta2))

    def __len__(self) -> int:
        return len(self.t)

    def arrays(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
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
    keep = t < bounds[-1]
    t, g, d = np.maximum(t[keep], bounds[0]), g[keep], d[keep]
    idx = np.searchsorted(bounds, t, side="right") - 1
    flat = g * m + idx
    step = np.bincount(flat, weights=d, minlength=groups * m).reshape(groups, m)
    part = np.bincount(flat, weights=d * (bounds[idx + 1] - t), minlength=groups * m).reshape(groups, m)
    level_before = np.cumsum(step, axis=1) - step  # level at each interval's start
    return level_before * np.diff(bounds)[None, :] + part
