"""A running segment's failure process, drawn when it begins (lifecycle.begin calls it; the FAIL
events it pushes are handled in sim/failures.py)."""

from __future__ import annotations

import math

from gpufleet.sim.state import FAIL, SimState


def draw(st: SimState, j: int, now: float, r: float, tau: float, rate: float) -> float:
    """The job's failure process from now, drawn ahead: one exponential time to failure per
    running stretch, each failure rolling back to the last checkpoint and restarting in place.

    Returns the finish time; the failures become events one at a time (`fseq`), so a preemption
    in between sees exactly the failures before it. Stops at the horizon.
    """
    g = st.gpus[j]
    work = st.work[j]
    done = st.done[j]
    restart = st.restart_s(j)
    horizon = st.horizon
    t0 = now
    seq: list[tuple[float, float, float]] = []  # (failure time, work kept, GPU-seconds lost)
    while True:
        ttf = st.exp() / rate
        fin = t0 + r + (work - done)
        if t0 + ttf >= fin or t0 >= horizon:
            break
        progress = ttf - r if ttf > r else 0.0
        if tau == 0.0:
            kept = progress
        elif tau == math.inf:
            kept = 0.0
        else:
            kept = (progress // tau) * tau
        done += kept
        seq.append((t0 + ttf, done, g * ((ttf if ttf < r else r) + progress - kept)))
        t0 += ttf
        r = restart
    if seq:
        st.fseq[j] = seq
        st.push(seq[0][0], FAIL, (j, st.epoch[j], 0))
    else:
        if j in st.fseq:
            del st.fseq[j]
    return fin
