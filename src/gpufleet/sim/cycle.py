"""The scheduling cycle: scan the queues, start what fits, reserve the head job's start, preempt for it."""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterator

from gpufleet.sched.backfill import Reservation
from gpufleet.sched.policies import ClusterEnds
from gpufleet.sim import lifecycle
from gpufleet.sim.state import QUEUED, SimState
from gpufleet.units import NCLASS


def scan(st: SimState, k: int) -> Iterator[int]:
    """Queued jobs of class k in submit order: requeued ones (a heap) merged with fresh ones."""
    state, epoch = st.state, st.epoch
    rq = st.requeued[k]
    while rq and (state[rq[0][1]] != QUEUED or epoch[rq[0][1]] != rq[0][2]):
        heapq.heappop(rq)
    fr = st.fresh[k]
    if st.stale[k] > 512 and 2 * st.stale[k] > len(fr):
        # jobs started from the middle (backfill) leave stale entries: drop them all at once
        fr = st.fresh[k] = deque(j for j in fr if state[j] == QUEUED and epoch[j] == 0)
        st.stale[k] = 0
    while fr and (state[fr[0]] != QUEUED or epoch[fr[0]] != 0):
        fr.popleft()
        st.stale[k] -= 1
    if not rq:
        for j in fr:
            if state[j] == QUEUED and epoch[j] == 0:
                yield j
        return
    req = sorted(e for e in rq if state[e[1]] == QUEUED and epoch[e[1]] == e[2])
    it = iter(fr)
    nxt = next(it, None)
    for s, j, _ in req:
        while nxt is not None and st.submit[nxt] <= s:
            if state[nxt] == QUEUED and epoch[nxt] == 0:
                yield nxt
            nxt = next(it, None)
        if state[j] == QUEUED:
            yield j
    while nxt is not None:
        if state[nxt] == QUEUED and epoch[nxt] == 0:
            yield nxt
        nxt = next(it, None)


def cycle(st: SimState, now: float) -> None:
    """One scheduling cycle (Kueue-style numbered steps).

    1. Take queued jobs class by class (priority order), FIFO within a class, up to the depth.
    2. Skip a job whose team is at its quota and may not borrow.
    3. Try to place it on its clusters in the provider policy's order, respecting the head
       job's reservation (EASY): a later job starts now only if it does not delay the head.
    4. The first job that cannot start is the head: try preemption of lower classes (and of
       borrowed quota its team reclaims); else reserve its start (EASY), or, with no backfill,
       stop the cycle (strict priority FIFO).
    """
    st.cycles += 1
    st.dirty = False
    st.force = False
    st.quota_blocked = False
    res: Reservation | None = None
    gate = 1 << 62
    depth = st.pol.backfill_depth
    for k in st.queue.classes:
        if not st.fresh[k] and not st.requeued[k]:
            continue
        seen = 0
        # step 1: the class's queue, in order
        for j in list(scan(st, k)) if st.requeued[k] else scan(st, k):
            if seen >= depth:
                break
            seen += 1
            if st.state[j] != QUEUED:
                continue
            g = st.gpus[j]
            team = st.team[j]
            # step 2: quota
            quota_ok = team >= len(st.team_alloc) or st.team_alloc[team] + g <= st.quota(team)
            if not quota_ok and not st.inp.teams[team].can_borrow:
                st.quota_blocked = True  # a release anywhere may let it start
                continue
            # step 3: place
            if try_start(st, j, now, res):
                continue
            gate = min(gate, g)
            if res is not None:
                continue
            # step 4: the head job
            if st.use_preemption and quota_ok and try_preempt(st, j, now):
                continue
            res = st.backfill.reserve(now, g, _cluster_ends(st, j))
            if res is None:  # no backfill: nothing starts behind the head
                st.gate = gate
                return
    st.gate = gate


def try_start(st: SimState, j: int, now: float, res: Reservation | None) -> bool:
    """Start j on the first cluster (in provider order) where it fits without delaying the head."""
    wl = st.workloads[st.wl[j]]
    g = st.gpus[j]
    end = now + st.pending_restart[j] + st.work[j] - st.done[j]
    clusters = st.clusters
    for c in st.candidates(wl.allowed_clusters, st.team[j]):
        cs = clusters[c]
        if cs.free_total < g:
            continue
        if res is not None and not res.allows(c, g, end):
            continue
        placement = st.place(cs, g, wl.require, wl.prefer)
        if placement is None:
            continue
        if res is not None:
            res.use(c, g, end)
        lifecycle.start(st, j, c, placement, now)
        return True
    return False


def _cluster_ends(st: SimState, j: int) -> Iterator[ClusterEnds]:
    """The head job's clusters (in provider order, those big enough) as the backfill policy sees them."""
    wl = st.workloads[st.wl[j]]
    g = st.gpus[j]
    for c in st.candidates(wl.allowed_clusters, st.team[j]):
        cs = st.clusters[c]
        if cs.capacity >= g:
            yield c, cs.free_total, st.ends[c], not cs.pooled


def try_preempt(st: SimState, j: int, now: float) -> bool:
    """Free room for the head job j by preempting; True if it was started."""
    wl = st.workloads[st.wl[j]]
    k = st.cls[j]
    team = st.team[j]
    g = st.gpus[j]
    rank = st.class_rank[k]
    reclaim = team < len(st.team_alloc) and st.team_alloc[team] + g <= st.quota(team) < math.inf
    lower = [kk for kk in range(NCLASS) if st.class_rank[kk] > rank]
    eligible = st.eligible_for(k, team, reclaim)
    for c in st.candidates(wl.allowed_clusters, team):
        cs = st.clusters[c]
        if cs.capacity < g:
            continue
        if not reclaim and cs.free_total + sum(st.cl_alloc[c][kk] for kk in lower) < g:
            continue
        memo = (j, c)
        if st.preempt_memo.get(memo) == st.version[c]:
            continue
        victims = st.victims(cs, g, eligible, st.victim_rank, st.held, wl.require == "block")
        if victims is None:
            st.preempt_memo[memo] = st.version[c]
            continue
        for v in victims:
            lifecycle.preempt(st, v, now)
        placement = st.place(cs, g, wl.require, wl.prefer)
        if placement is None:
            st.preempt_memo[memo] = st.version[c]
            continue
        lifecycle.start(st, j, c, placement, now)
        return True
    return False
