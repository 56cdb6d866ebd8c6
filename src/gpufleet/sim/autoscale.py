"""Inference autoscaling: at each tick, scale every service-region's replicas to its demand target.

Scale down first (it frees room), then up, cluster by cluster in the provider order; when the fleet
is full, lower classes are preempted for the replicas. A service-region's replicas are one occupant
(id n + key) holding (cluster, domain, GPUs) entries.
"""

from __future__ import annotations

import math

from gpufleet.fleet.state import Placement
from gpufleet.sched.placement import replica_slots
from gpufleet.sim import lifecycle
from gpufleet.sim.state import NGROUP, TICK, SimState
from gpufleet.units import NCLASS


def replica_change(st: SimState, key: int, c: int, entries: Placement, add: bool, now: float) -> None:
    """Apply one tick's replica change of one service-region in one cluster, in bulk."""
    n_reps = len(entries.whole) + len(entries.parts)
    if not n_reps:
        return
    svc = st.inp.services[key]
    cs = st.clusters[c]
    gid = st.n + key
    g = cs.take_all(entries, gid) if add else cs.give_all(entries, gid)
    delta = g if add else -g
    st.cl_alloc[c][svc.cls] += delta
    st.version[c] += 1
    st.alloc_log.add(now, c * NGROUP + svc.cls, delta)
    if svc.team < len(st.team_alloc):
        st.team_alloc[svc.team] += delta
        if st.track_team_prov:
            tp = st.team_prov[svc.team]
            tp[cs.provider] = tp.get(cs.provider, 0.0) + delta
    st.key_cap[key] += (1 if add else -1) * n_reps * st.rep_thr[key][c]
    if not add:
        st.freed_on(cs)


def _placement(st: SimState, c: int, domains: list[int], g: int) -> Placement:
    """Replicas of g GPUs on these domains of cluster c, as a placement (whole domains where they are)."""
    cs = st.clusters[c]
    if cs.pooled or g != cs.gpus_per_domain:
        return Placement(parts=[(d, g) for d in domains])  # pooled: d = -1, never "whole" domains
    return Placement(whole=domains)


def _remove(st: SimState, key: int, keep: list[bool]) -> dict[int, list[int]]:
    """Drop the replicas of `key` whose keep flag is False; their domains per cluster, newest first."""
    rc, rd = st.rep_c[key], st.rep_d[key]
    gone: dict[int, list[int]] = {}
    for i in range(len(rc) - 1, -1, -1):
        if not keep[i]:
            gone.setdefault(rc[i], []).append(rd[i])
    st.rep_c[key] = [c for c, k in zip(rc, keep, strict=True) if k]
    st.rep_d[key] = [d for d, k in zip(rd, keep, strict=True) if k]
    return gone


def drop_replicas(st: SimState, key: int, c: int, min_domain: int, now: float) -> None:
    """Remove the replicas of `key` on cluster c's domains from min_domain up (capacity leaving)."""
    keep = [not (cc == c and d >= min_domain) for cc, d in zip(st.rep_c[key], st.rep_d[key], strict=True)]
    gone = _remove(st, key, keep).get(c, [])
    gone.reverse()  # in the order they were added
    replica_change(st, key, c, _placement(st, c, gone, st.inp.services[key].replica_gpus), False, now)


def drop_pooled_replicas(st: SimState, key: int, c: int, gpus: int, now: float) -> None:
    """Remove the newest replicas of `key` on pooled cluster c until `gpus` GPUs are released."""
    g = st.inp.services[key].replica_gpus
    rc = st.rep_c[key]
    keep = [True] * len(rc)
    for i in range(len(rc) - 1, -1, -1):
        if rc[i] == c and gpus > 0:
            keep[i] = False
            gpus -= g
    gone = _remove(st, key, keep).get(c, [])
    replica_change(st, key, c, _placement(st, c, gone, g), False, now)


def scale_down(st: SimState, key: int, target: float, now: float) -> None:
    """Remove the newest replicas while the rest still meet the target."""
    rc, rd = st.rep_c[key], st.rep_d[key]
    thr_of = st.rep_thr[key]
    cap = st.key_cap[key]
    i = len(rc)
    while i > 0:
        thr = thr_of[rc[i - 1]]
        if cap - thr < target:
            break
        cap -= thr
        i -= 1
    if i == len(rc):
        return
    removed: dict[int, list[int]] = {}
    for k in range(len(rc) - 1, i - 1, -1):
        removed.setdefault(rc[k], []).append(rd[k])
    del rc[i:]
    del rd[i:]
    g = st.inp.services[key].replica_gpus
    for c, domains in removed.items():
        replica_change(st, key, c, _placement(st, c, domains, g), False, now)


def scale_up(st: SimState, key: int, target: float, now: float) -> None:
    """Add replicas until the target is met: placed cluster by cluster in the provider order,
    whole domains taken in bulk; when the fleet is full, lower classes are preempted."""
    svc = st.inp.services[key]
    g = svc.replica_gpus
    team = svc.team
    for attempt in range(2):
        for c in st.candidates(svc.allowed_clusters, team):
            thr = st.rep_thr[key][c]
            short = target - st.key_cap[key]
            if short <= 0:
                return
            if thr <= 0:
                continue
            want = math.ceil(short / thr - 1e-9)
            room = st.quota(team) - st.team_alloc[team] if team < len(st.team_alloc) else math.inf
            if room < g * want and not st.inp.teams[team].can_borrow:
                want = int(max(room, 0) // g)
            if want <= 0:
                return
            placed = replica_slots(st.clusters[c], g, want)
            st.rep_c[key].extend([c] * (len(placed.whole) + len(placed.parts)))
            st.rep_d[key].extend(placed.whole)
            st.rep_d[key].extend([d for d, _ in placed.parts])
            replica_change(st, key, c, placed, True, now)
        if attempt == 0 and st.key_cap[key] < target:
            if not st.use_preemption:
                return
            _preempt_for_replicas(st, key, target, now)


def _preempt_for_replicas(st: SimState, key: int, target: float, now: float) -> None:
    svc = st.inp.services[key]
    g = svc.replica_gpus
    eligible = st.eligible_for(svc.cls, svc.team, reclaim=False)
    for c in st.candidates(svc.allowed_clusters, svc.team):
        thr = st.rep_thr[key][c]
        if thr <= 0:
            continue
        cs = st.clusters[c]
        want = math.ceil((target - st.key_cap[key]) / thr - 1e-9)
        if want <= 0:
            return
        rank = st.class_rank[svc.cls]
        lower = sum(st.cl_alloc[c][k] for k in range(NCLASS) if st.class_rank[k] > rank)
        if lower <= 0:
            continue
        memo = (-1 - key, c)
        if st.preempt_memo.get(memo) == st.version[c]:
            continue
        need = min(want * g, lower + cs.free_total)
        victims = st.victims(cs, max(need, g), eligible, st.victim_rank, st.held)
        if not victims:
            st.preempt_memo[memo] = st.version[c]
            continue
        for v in victims:
            lifecycle.preempt(st, v, now)
        return


class Autoscaler:
    """The TICK handler and the per-tick record of replicas, GPUs and capacity per service-region."""

    def __init__(self, st: SimState, n_ticks: int, tick_s: float) -> None:
        import numpy as np

        self.st = st
        self.n_ticks = n_ticks
        self.tick = tick_s
        ns = len(st.inp.services)
        self.tick_s = np.arange(n_ticks) * tick_s
        self.replicas = np.zeros((ns, n_ticks))
        self.gpus = np.zeros((ns, n_ticks))
        self.capacity = np.zeros((ns, n_ticks))

    def on_tick(self, payload: tuple[int, ...], now: float) -> None:
        st = self.st
        i = payload[0]
        services = st.inp.services
        targets = [float(s.demand_tokens_s[i]) * s.headroom for s in services]
        for key in range(len(services)):  # scale down first: it frees room for the others
            scale_down(st, key, targets[key], now)
        for key in range(len(services)):
            if st.key_cap[key] < targets[key]:
                scale_up(st, key, targets[key], now)
        for key, svc in enumerate(services):
            self.replicas[key, i] = len(st.rep_c[key])
            self.gpus[key, i] = len(st.rep_c[key]) * svc.replica_gpus
            self.capacity[key, i] = st.key_cap[key]
        if i + 1 < self.n_ticks:
            st.push((i + 1) * self.tick, TICK, (i + 1,))
