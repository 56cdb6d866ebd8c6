"""The scheduling cycle: scan the queues, start what fits, reserve the head job's start, preempt for it."""

from __future__ import annotations

import math
from collections.abc import Iterator

from gpufleet.sched.backfill import Reservation
from gpufleet.sched.policies import ClusterEnds
from gpufleet.sim import lifecycle
from gpufleet.sim.state import QUEUED, SimState
from gpufleet.units import NCLASS


def scan(st: SimState, k: int) -> Iterator[int]:
    """Queued jobs of class k in submit order: requeued ones (a sorted list) merged with fresh ones.

    At most `backfill_depth` requeued jobs are taken, as a snapshot when the scan begins: no caller
    looks deeper, and a long requeued list (capacity leaving evicts thousands of jobs) is never
    walked whole per cycle. Jobs requeued during the scan wait for the next one.
    """
    state, epoch = st.state, st.epoch
    fr = st.fresh[k]
    head = st.fresh_head[k]
    if st.stale[k] > 512 and 2 * st.stale[k] > len(fr) - head:
        # jobs started from the middle (backfill) leave stale entries: drop them all at once
        fr = st.fresh[k] = [j for j in fr[head:] if state[j] == QUEUED and epoch[j] == 0]
        head = 0
        st.stale[k] = 0
    n = len(fr)
    while head < n and (state[fr[head]] != QUEUED or epoch[fr[head]] != 0):
        head += 1
        st.stale[k] -= 1
    if head > 4096 and 2 * head > n:  # let go of the prefix already consumed
        del fr[:head]
        n -= head
        head = 0
    st.fresh_head[k] = head
    req = requeued_head(st, k, st.depth) if st.requeued[k] else []
    i = head
    for s, j, _ in req:
        while i < n and st.submit[fr[i]] <= s:
            x = fr[i]
            i += 1
            if state[x] == QUEUED and epoch[x] == 0:
                yield x
        if state[j] == QUEUED:
            yield j
    while i < n:
        x = fr[i]
        i += 1
        if state[x] == QUEUED and epoch[x] == 0:
            yield x


def requeued_head(st: SimState, k: int, limit: int) -> list[tuple[float, int, int]]:
    """The first `limit` live entries of class k's requeued list (sorted by submit time).

    An entry is (submit, job, epoch at requeue); it goes stale for good when the job starts again
    (its epoch moves on). Stale entries at the front are cut; when more than `limit` were stepped
    over, the list is compacted once, so the walk stays about `limit` long.
    """
    rq = st.requeued[k]
    state, epoch = st.state, st.epoch
    out: list[tuple[float, int, int]] = []
    lead = -1  # stale entries before the first live one
    skipped = 0
    for i in range(len(rq)):
        if len(out) >= limit:
            break
        e = rq[i]
        j = e[1]
        if state[j] == QUEUED and epoch[j] == e[2]:
            if lead < 0:
                lead = i
            out.append(e)
        else:
            skipped += 1
    if lead < 0:
        lead = len(rq) if len(out) == 0 else 0
    if skipped - lead > limit:
        st.requeued[k] = [e for e in rq if state[e[1]] == QUEUED and epoch[e[1]] == e[2]]
    elif lead:
        del rq[:lead]
    return out


def cycle(st: SimState, now: float) -> None:
    """One scheduling cycle (Kueue-style numbered steps).

    1. Take queued jobs class by class (priority order), FIFO within a class, up to the depth
       (plain `fifo`: all classes as one queue in submit order).
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
    depth = st.depth
    # the largest job each workload's clusters could place now (ClusterState.room, an upper bound):
    # a job needing more is refused without trying its clusters. Starts only lower it, so it holds
    # until GPUs are freed: a new stamp (this cycle, or a preemption) forgets it.
    st.room_now += 1
    room_of, room_stamp = st.room_of, st.room_stamp
    # the classes with jobs waiting now (a class empty now stays so for this cycle), in class order
    queues = [scan(st, k) for k in st.queue.classes if len(st.fresh[k]) > st.fresh_head[k] or st.requeued[k]]
    for lane in st.queue.lanes(queues, st.submit):
        seen = 0
        # step 1: the queue order's lane (a class, or all classes by submit time), in order
        for j in lane:
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
            w = st.wl[j]
            if room_stamp[w] == st.room_now:
                r = room_of[w]
            else:
                r = 0
                for c in st.allowed[w]:
                    cr = st.clusters[c].room()
                    if cr > r:
                        r = cr
                room_of[w] = r
                room_stamp[w] = st.room_now
            if g <= r and try_start(st, j, now, res):
                continue
            gate = min(gate, g)
            if res is not None:
                continue
            # step 4: the head job
            if st.use_preemption and quota_ok:
                st.room_now += 1  # victims free GPUs, whether or not the head then starts
                if try_preempt(st, j, now):
                    continue
            res = st.backfill.reserve(now, g, _cluster_ends(st, j))
            if res is None:  # no backfill: nothing starts behind the head
                st.gate = gate
                return
    st.gate = gate


def try_start(st: SimState, j: int, now: float, res: Reservation | None) -> bool:
    """Start j on the first cluster (in provider order) where it fits without delaying the head."""
    w = st.wl[j]
    require, prefer = st.require[w], st.prefer[w]
    g = st.gpus[j]
    end = now + st.pending_restart[j] + st.work[j] - st.done[j]
    clusters = st.clusters
    for c in st.job_candidates(w, st.team[j]):
        cs = clusters[c]
        if cs.free_total < g or cs.room() < g:  # room: no placement can fit, skip trying one
            continue
        if res is not None and not res.allows(c, g, end):
            continue
        placement = st.place(cs, g, require, prefer)
        if placement is None:
            continue
        if res is not None:
            res.use(c, g, end)
        lifecycle.start(st, j, c, placement, now)
        return True
    return False


def _cluster_ends(st: SimState, j: int) -> Iterator[ClusterEnds]:
    """The head job's clusters (in provider order, those big enough) as the backfill policy sees them."""
    g = st.gpus[j]
    for c in st.job_candidates(st.wl[j], st.team[j]):
        cs = st.clusters[c]
        if cs.capacity >= g:
            yield c, cs.free_total, st.ends_of(c), not cs.pooled


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
