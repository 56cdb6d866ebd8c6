"""A job's life: arrive, start, run a segment, stop (roll back to its checkpoint), requeue, preempt, finish.

Calls only down: the state's bookkeeping, and the failure process a segment draws when it begins
(sim/failure_process.py); never up into a mechanism.
"""

from __future__ import annotations

import math
from bisect import insort

from gpufleet.fleet.state import Placement
from gpufleet.sim import failure_process
from gpufleet.sim.state import END, FAILED, FINISHED, QUEUED, RUNNING, SimState
from gpufleet.units import NCLASS


def arrive(st: SimState, j: int, now: float) -> None:
    """j is submitted: it queues, or fails at once when no cluster it may use could ever hold it."""
    g = st.gpus[j]
    biggest = st.biggest[st.wl[j]]
    if g > biggest:
        st.state[j] = FAILED
        st.end[j] = now
        level = st.workloads[st.wl[j]].require or "cluster"
        st.reason[j] = f"needs {g} GPUs; the largest {level} it may use never has more than {biggest}"
        return
    k = st.cls[j]
    st.state[j] = QUEUED
    st.queued_since[j] = now
    st.fresh[k].append(j)
    st.arrived.append(j)  # its queue record waits for the instant's end (see log_waiting)
    if g < st.gate:
        st.gate = g
    st.dirty = True
    if not st.force and st.max_free() >= g:
        st.force = True  # it may fit somewhere now
    if st.use_preemption and not st.force:
        rank = st.class_rank[k]
        lower = [kk for kk in range(NCLASS) if st.class_rank[kk] > rank]
        st.force = st.borrowed_gpus > 0 or any(a[kk] for a in st.cl_alloc for kk in lower)


def log_waiting(st: SimState, now: float) -> None:
    """The queue records of the jobs that arrived at this instant and are still waiting after its
    cycle. A job that arrived and started at the same instant leaves no record: it never waited
    (most jobs of a fleet with room to spare: four records fewer each)."""
    state, epoch, cls, gpus = st.state, st.epoch, st.cls, st.gpus
    for j in st.arrived:
        if state[j] == QUEUED and epoch[j] == 0:
            k = cls[j]
            st.queue_log.add2(now, k, 1, NCLASS + k, gpus[j])
    st.arrived.clear()


def start(st: SimState, j: int, c: int, placement: Placement, now: float) -> None:
    """j starts on cluster c at `placement` (the cycle decided it)."""
    k = st.cls[j]
    g = st.gpus[j]
    team = st.team[j]
    st.apply(j, c, placement, k, team, now)
    if st.epoch[j] != 0 or st.queued_since[j] != now:  # else it arrived this instant, unrecorded
        st.queue_log.add2(now, k, -1, NCLASS + k, -g)
    if st.team_alloc_over(team):
        st.borrowed[j] = 1
        st.borrowed_gpus += g
    else:
        st.borrowed[j] = 0
    st.state[j] = RUNNING
    st.wait[j] += now - st.queued_since[j]
    if math.isnan(st.first_start[j]):
        st.first_start[j] = now
        st.stale[k] += 1
    st.where[j] = c
    begin(st, j, c, now, st.pending_restart[j])


def begin(st: SimState, j: int, c: int, now: float, r: float) -> None:
    """A running segment of j on cluster c from now: restart overhead r, then the remaining work."""
    g = st.gpus[j]
    st.epoch[j] += 1
    st.seg_start[j] = now
    st.seg_restart[j] = r
    finish = now + r + (st.work[j] - st.done[j])
    st.exp_end[j] = finish
    if st.use_easy:
        st.end_started(j, c, finish)
    rate = st.rate_s[c] * g
    tau = st.checkpoint_interval(j, c)
    st.seg_tau[j] = tau
    if st.use_failures and rate > 0:
        finish = failure_process.draw(st, j, now, r, tau, rate)
    st.push(finish, END, (j, st.epoch[j]))


def finish(st: SimState, payload: tuple[int, ...], now: float) -> None:
    """The END event: j's segment ran to the end of its work (unless it was stopped meanwhile)."""
    j, epoch = payload[0], payload[1]
    if st.epoch[j] != epoch or st.state[j] != RUNNING:
        return
    c = st.where[j]
    st.release(j, c, st.cls[j], st.team[j], now)
    if st.use_easy:
        st.end_stopped(j, c)
    st.done[j] = st.work[j]
    r = st.seg_restart[j]
    if r > 0.0:  # the restart that led here (no write otherwise: the list keeps its shared 0.0)
        st.lost[j] += st.gpus[j] * r
    st.state[j] = FINISHED
    st.end[j] = now
    if j in st.fseq:
        del st.fseq[j]


def stop(st: SimState, j: int, now: float, graceful: bool) -> None:
    """End j's running segment: release its GPUs and roll back to its last checkpoint."""
    c = st.where[j]
    st.release(j, c, st.cls[j], st.team[j], now)
    if st.use_easy:
        st.end_stopped(j, c)
    rollback(st, j, now, graceful)
    st.state[j] = QUEUED


def rollback(st: SimState, j: int, now: float, graceful: bool) -> None:
    """Back to the last checkpoint: the work since it, and any restart time spent, are lost."""
    g = st.gpus[j]
    elapsed = now - st.seg_start[j]
    r = st.seg_restart[j]
    progress = max(0.0, elapsed - r)
    tau = st.seg_tau[j]
    if graceful or tau == 0:
        kept = progress  # capacity leaving: a checkpoint is taken before the GPUs go
    elif math.isinf(tau):
        kept = 0.0  # never checkpoints: all the segment's work is lost
    else:
        kept = math.floor(progress / tau) * tau
    st.done[j] += kept
    st.lost[j] += g * (min(elapsed, r) + progress - kept)


def requeue(st: SimState, j: int, now: float, restart_s: float) -> None:
    """j waits again, ahead of later submissions (ordered by its submit time), to restart in restart_s."""
    k = st.cls[j]
    st.pending_restart[j] = restart_s
    st.queued_since[j] = now
    insort(st.requeued[k], (st.submit[j], j, st.epoch[j]))
    st.queue_log.add2(now, k, 1, NCLASS + k, st.gpus[j])
    st.gate = min(st.gate, st.gpus[j])
    st.dirty = True
    st.force = st.force or st.use_preemption


def preempt(st: SimState, j: int, now: float, graceful: bool = False) -> None:
    """Stop j for another job (or for capacity leaving, gracefully) and requeue it."""
    st.preempts[j] += 1
    stop(st, j, now, graceful)
    requeue(st, j, now, st.restart_s(j))
