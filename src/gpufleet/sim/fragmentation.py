"""Fragmentation sampling: at each step's start, the free GPUs that the smallest waiting job could not use."""

from __future__ import annotations

from itertools import islice

import numpy as np

from gpufleet.sched.placement import stranded_gpus
from gpufleet.sim.cycle import scan
from gpufleet.sim.state import SimState
from gpufleet.units import NCLASS


def sample(st: SimState, stranded: np.ndarray, i: int) -> None:
    """Fill column i of `stranded` (clusters, steps) from the queues' heads and the clusters now."""
    smallest = 1 << 62
    for k in range(NCLASS):
        for j in islice(scan(st, k), st.pol.backfill_depth):
            g = st.gpus[j]
            if g < smallest:
                smallest = g
    for c, cs in enumerate(st.clusters):
        stranded[c, i] = stranded_gpus(cs, smallest)
