"""Failures and repairs: the failures drawn when a segment began (sim/failure_process.py) applied as
FAIL events, and the failed GPUs returned by REPAIR events."""

from __future__ import annotations

from gpufleet.sched.placement import spare_domain
from gpufleet.sim import lifecycle
from gpufleet.sim.state import FAIL, G_FAILED, NGROUP, REPAIR, RUNNING, SimState


def on_fail(st: SimState, payload: tuple[int, ...], now: float) -> None:
    """The k-th drawn failure of j's segment: one node goes to repair; j restarts from its checkpoint
    on a healthy spare node of the same cluster (in place), else it requeues."""
    j, epoch, k = payload[0], payload[1], payload[2]
    if st.epoch[j] != epoch or st.state[j] != RUNNING:
        return
    seq = st.fseq[j]
    _, kept, lost = seq[k]
    st.failures += 1
    st.restarts[j] += 1
    st.done[j] = kept
    st.lost[j] += lost
    st.seg_start[j] = now
    st.seg_restart[j] = r = st.restart_s(j)
    c = st.where[j]
    cs = st.clusters[c]
    placement = st.alloc[j]
    node = cs.gpus_per_node
    spare = spare_domain(cs, st.require[st.wl[j]], placement, min(node, st.gpus[j]))
    if spare < 0:
        d = placement.whole[0] if placement.whole else placement.parts[0][0]
        lifecycle.stop(st, j, now, graceful=False)  # nothing more lost: it just rolled back
        bad = min(node, int(cs.free[d]) if d >= 0 else node, st.gpus[j])
        if bad > 0:
            cs.fail(d, bad)
        lifecycle.requeue(st, j, now, r)
    else:
        # which of its nodes fails: round robin over its domains, cheap and spread out
        d, bad = cs.fail_held(placement, j, st.failures, node)
        cs.take(spare, bad)
        occ = cs.occupants[spare]
        occ[j] = occ.get(j, 0) + bad
        placement.parts.append((spare, bad))
        st.version[c] += 1
        if k + 1 < len(seq):
            st.push(seq[k + 1][0], FAIL, (j, epoch, k + 1))
    if bad > 0:
        st.alloc_log.add(now, c * NGROUP + G_FAILED, bad)
        st.push(now + st.repair_s, REPAIR, (c, d, cs.gen[d] if d >= 0 else 0, bad))


def on_repair(st: SimState, payload: tuple[int, ...], now: float) -> None:
    """Failed GPUs of a domain are back (unless the domain left the fleet meanwhile)."""
    c, d, gen, gpus = payload
    cs = st.clusters[c]
    if d >= 0 and (cs.gen[d] != gen or d >= cs.online):
        return  # the domain left the fleet meanwhile; its failed GPUs left with it
    cs.repair(d, gpus)
    st.alloc_log.add(now, c * NGROUP + G_FAILED, -gpus)
    st.version[c] += 1
    st.freed_on(cs)
