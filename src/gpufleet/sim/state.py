"""One run's mutable state: per-job arrays, the clusters, the event heap and the allocation bookkeeping.

Every mechanism (lifecycle, cycle, failures, capacity, autoscale) reads and changes this one object;
the bookkeeping that must stay consistent (a cluster's GPUs, the change log, team and class totals)
changes only through apply() and release().
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left, insort
from collections.abc import Callable
from typing import Final

import numpy as np

from gpufleet.fleet.state import ClusterState, Placement
from gpufleet.sched.policies import resolve
from gpufleet.sched.providers import ChoiceParams, ClusterOffer
from gpufleet.sim.record import ChangeLog
from gpufleet.sim.spec import SimInput
from gpufleet.sim.usage import UsageBook
from gpufleet.units import NCLASS, SECONDS_PER_HOUR
from gpufleet.workload.reliability import job_mtbf_s, restart_overhead_s, young_daly_interval_s

# event kinds (the kernel's dispatch table is indexed by them) and their order at equal times: job
# ends and failures first, so that a job finishing as its capacity leaves finishes rather than being
# evicted; then capacity changes, DAY (a day's start: commitment-first re-ranks the contracts after
# that day's capacity), autoscale ticks, repairs
# (Final: the compiled modules read them as constants, not from the module's dictionary)
END: Final = 0
FAIL: Final = 1
CAPACITY: Final = 2
TICK: Final = 3
REPAIR: Final = 4
DAY: Final = 5
PRIORITY: Final = (0, 0, 1, 3, 4, 2)
# job states
QUEUED: Final = 1
RUNNING: Final = 2
FINISHED: Final = 3
FAILED: Final = 4
# change-log groups per cluster: classes 0..3, failed, capacity
NGROUP: Final = NCLASS + 2
G_FAILED: Final = NCLASS
G_CAPACITY: Final = NCLASS + 1

Event = tuple[int, int, int, tuple[int, ...]]  # (priority, counter, kind, payload), at a time


def _floats(a: np.ndarray) -> list[float]:
    out: list[float] = a.astype(np.float64).tolist()
    return out


def _ints(a: np.ndarray) -> list[int]:
    out: list[int] = a.astype(np.int64).tolist()
    return out


class SimState:
    """The arrays and bookkeeping of one run (see the module docstring)."""

    def __init__(self, inp: SimInput, rng: np.random.Generator) -> None:
        self.inp = inp
        self.pol = inp.policy
        self.rng = rng
        fleet = inp.fleet
        pol = inp.policy
        # the policies, resolved from their names once
        self.policies = p = resolve(
            pol.queue,
            pol.class_order,
            pol.backfill,
            pol.placement,
            pol.provider_choice,
            plan=pol.plan,
        )
        self.queue = p.queue
        self.backfill = p.backfill
        self.place = p.placement
        self.victims = p.victims
        self.providers = p.providers
        self.strict = p.queue.pooled
        self.use_failures = pol.failures and not self.strict
        self.use_easy = p.backfill.tracks_ends
        self.use_preemption = pol.preemption and not self.strict
        self.clusters = [
            ClusterState(
                i,
                c.name,
                c.provider,
                c.accelerator,
                c.gpus_per_domain,
                c.gpus_per_node,
                c.blocks,
                c.domains_per_block,
                pooled=self.strict,
            )
            for i, c in enumerate(fleet.clusters)
        ]
        nc = len(self.clusters)
        self.rate_s = [c.failure_rate_per_gpu_hour / SECONDS_PER_HOUR for c in fleet.clusters]
        jobs = inp.jobs
        n = len(jobs)
        self.n = n
        # Per-job arrays. Integers, the read-only inputs and the floats read most (done, the
        # pending restart, the loss: mostly never written, or once) are plain lists, which mypyc
        # indexes natively (small ints and an untouched 0.0 are shared objects, so such a list costs
        # what an 8-byte array does); the floats written at every start stay compact arrays (a list
        # would hold a boxed float per value).
        self.submit = _floats(jobs.submit_s)
        self.work = _floats(jobs.work_s)
        self.gpus = _ints(jobs.gpus)
        self.team = _ints(jobs.team)
        self.cls = _ints(jobs.cls)
        self.wl = _ints(jobs.workload)
        self.workloads = jobs.workloads
        # the workloads' fields the cycle reads per job, as lists (a spec's attributes are generic
        # lookups from compiled code)
        self.allowed: list[tuple[int, ...]] = [w.allowed_clusters for w in jobs.workloads]
        self.require: list[str | None] = [w.require for w in jobs.workloads]
        self.prefer: list[str | None] = [w.prefer for w in jobs.workloads]
        self.horizon = inp.horizon_s
        self.depth = pol.backfill_depth
        self.repair_s = pol.repair_s
        self.state = [0] * n
        self.done = [0.0] * n  # work position at the last checkpoint
        self.seg_start = array("d", bytes(8 * n))
        self.seg_restart = array("d", bytes(8 * n))  # restart overhead of the current segment
        self.seg_tau = array("d", bytes(8 * n))  # checkpoint interval of the current segment
        self.pending_restart = [0.0] * n
        self.first_start = array("d", [math.nan]) * n
        self.end = array("d", [math.nan]) * n
        self.where = [-1] * n
        self.epoch = [0] * n
        self.restarts = [0] * n
        self.preempts = [0] * n
        self.lost = [0.0] * n  # GPU-seconds lost
        self.wait = array("d", bytes(8 * n))
        self.queued_since = array("d", bytes(8 * n))
        self.borrowed = [0] * n
        self.borrowed_gpus = 0
        self.reason: dict[int, str] = {}
        self.alloc: dict[int, Placement] = {}  # running job or replica -> placement
        self.running: list[dict[int, None]] = [{} for _ in range(nc)]  # per cluster, by start order
        # EASY: each cluster's running jobs as (expected end, job, GPUs), sorted; None while no
        # reservation has read it lately (see ends_of): most runs reserve rarely, and keeping the
        # list sorted costs a search and a shift at every start and end
        self.ends: list[list[tuple[float, int, int]] | None] = [None] * nc
        self.ends_idle = [0] * nc  # sorted-list updates since a reservation last read it
        self.exp_end = array("d", bytes(8 * n))
        # queues per class: fresh arrivals (submit order, from fresh_head on) and requeued jobs (sorted
        # by submit)
        self.fresh: list[list[int]] = [[] for _ in range(NCLASS)]
        self.fresh_head = [0] * NCLASS
        self.requeued: list[list[tuple[float, int, int]]] = [[] for _ in range(NCLASS)]
        self.arrived: list[int] = []  # jobs that arrived at this instant (their queue records wait)
        self.stale = [0] * NCLASS  # started jobs still listed in `fresh`, per class
        self.class_rank = [0] * NCLASS
        for r, k in enumerate(self.queue.classes):
            self.class_rank[k] = r
        nt = max(1, len(inp.teams))
        self.team_alloc = [0] * nt
        # GPUs per team and provider, kept only for a provider choice that reads them (per_team)
        self.team_prov: list[dict[str, float]] = [{} for _ in range(nt)]
        self.track_team_prov = self.providers.per_team
        self.cl_alloc = [[0] * NCLASS for _ in range(nc)]
        # inference: the replicas of service-region `key` are one occupant, id n + key, holding a
        # stack of replicas of replica_gpus GPUs each, newest last: their clusters (rep_c) and
        # domains (rep_d, -1 in a pooled cluster); they are never preempted (the top class)
        self.rep_c: list[list[int]] = [[] for _ in inp.services]
        self.rep_d: list[list[int]] = [[] for _ in inp.services]
        self.rep_thr: list[list[float]] = [[float(x) for x in s.tokens_s_per_replica] for s in inp.services]
        self.key_cap = [0.0] * len(inp.services)
        # the event queue: a heap of the times that have events, and each time's events as a small
        # heap of their own (mostly one). Floats compare several times faster than tuples, which the
        # heap of a run with millions of events spends most of its time comparing.
        self.times: list[float] = []
        self.at: dict[float, list[Event]] = {}
        self.counter = 0
        self.alloc_log = ChangeLog()
        self.queue_log = ChangeLog()
        self.exp_buf: list[float] = []  # a list: compiled code reads its items natively
        self.exp_pos = 0
        self.failures = 0
        self.cycles = 0
        self.dirty = False
        self.force = False  # an arrival that may preempt: run the cycle even if nothing seems to fit
        self.quota_blocked = False
        self.gate = 1 << 62  # smallest GPU need among queued jobs seen in the last cycle
        self.version = [0] * nc  # bumped when a cluster's allocation changes
        self.preempt_memo: dict[tuple[int, int], int] = {}
        self.offers_cache: dict[tuple[int, ...], list[int]] = {}
        self.job_order: list[list[int] | None] = [None] * len(jobs.workloads)  # the same, per workload
        self.per_team = self.providers.per_team  # read per job: a plain attribute, not the protocol's
        # the cycle's bound on the largest job a workload's clusters can place now (see cycle.cycle):
        # valid while room_stamp[w] equals room_now
        self.room_of = [0] * len(jobs.workloads)
        self.room_stamp = [0] * len(jobs.workloads)
        self.room_now = 0
        self.offers: list[ClusterOffer | None] = [None] * nc
        # usage to date per contract, kept only for a provider ranking that reads it
        self.usage_book = UsageBook(fleet) if self.providers.needs_usage else None
        self.params = ChoiceParams(self.pol.max_share, self.pol.pinned_provider)
        self.max_domains = fleet.domains.max(axis=1) if fleet.days else np.zeros(nc, np.int32)
        self.quota_total = 0
        self.shares = self.queue.shares([t.quota_share for t in inp.teams])
        # the most GPUs one job of a workload can ever get, at the level it requires: a job that
        # needs more can never be placed, and queued it would only hold a reservation and preempt
        self.biggest = [
            max((self.level_gpus(c, w.require) for c in w.allowed_clusters), default=0)
            for w in jobs.workloads
        ]
        # keyed by one int: (GPUs, workload[, cluster]), see restart_s and checkpoint_interval
        self.restart_cache: dict[int, float] = {}
        self.tau_cache: dict[int, float] = {}
        self.freed = 0  # the most free GPUs in a cluster that gained some since the last cycle
        self.fseq: dict[int, list[tuple[float, float, float]]] = {}  # drawn failures per running job

    # ------------------------------------------------------------------ events and draws
    def push(self, t: float, kind: int, payload: tuple[int, ...]) -> None:
        self.counter += 1
        e = (PRIORITY[kind], self.counter, kind, payload)
        events = self.at.get(t)
        if events is None:
            self.at[t] = [e]
            heapq.heappush(self.times, t)
        else:
            heapq.heappush(events, e)

    def pop(self, t: float) -> Event:
        """The next event at time t (the earliest time that has any), in (priority, push) order."""
        events = self.at[t]
        e = heapq.heappop(events)
        if not events:
            del self.at[t]
            heapq.heappop(self.times)
        return e

    def exp(self) -> float:
        """A standard exponential draw from the run's generator, in batches (one call per 64k)."""
        if self.exp_pos >= len(self.exp_buf):
            self.exp_buf = self.rng.standard_exponential(65536).tolist()
            self.exp_pos = 0
        v = self.exp_buf[self.exp_pos]
        self.exp_pos += 1
        return v

    # ------------------------------------------------------------------ lookups
    def level_gpus(self, c: int, require: str | None) -> int:
        """The most GPUs cluster c ever offers one job at a required level (domain, block, cluster)."""
        cs = self.clusters[c]
        domains = int(self.max_domains[c])
        if cs.pooled:
            return domains * cs.gpus_per_domain  # strict-FIFO mode: no topology
        if require == "domain":
            domains = min(domains, 1)
        elif require == "block":
            domains = min(domains, cs.domains_per_block)
        return domains * cs.gpus_per_domain

    def held(self, j: int) -> int:
        return self.gpus[j]

    def quota(self, team: int) -> float:
        share = self.shares[team] if team < len(self.shares) else math.inf
        return share * self.quota_total if share != math.inf else math.inf

    def team_alloc_over(self, team: int) -> bool:
        return team < len(self.team_alloc) and self.team_alloc[team] > self.quota(team)

    def max_free(self) -> int:
        best = 0
        for cs in self.clusters:
            if cs.free_total > best:
                best = cs.free_total
        return best

    def job_candidates(self, w: int, team: int) -> list[int]:
        """`candidates` for a job of workload w, its cached order found by index, not by hashing."""
        if self.per_team:
            return self.candidates(self.allowed[w], team)
        order = self.job_order[w]
        if order is None:
            order = self.job_order[w] = self.candidates(self.allowed[w], team)
        return order

    def forget_orders(self) -> None:
        """The offers or the provider ranking changed: every cached cluster order is stale."""
        self.offers_cache.clear()
        self.job_order = [None] * len(self.job_order)

    def candidates(self, allowed: tuple[int, ...], team: int) -> list[int]:
        """Clusters to try, in the provider policy's order (cached unless it depends on the team's use)."""
        per_team = self.per_team
        if not per_team:
            hit = self.offers_cache.get(allowed)
            if hit is not None:
                return hit
        offers = [o for c in allowed if (o := self.offers[c]) is not None]
        team_use = self.team_prov[team] if team < len(self.team_prov) else {}
        order = self.providers.order(offers, team_use, self.params)
        if not per_team:
            self.offers_cache[allowed] = order
        return order

    def restart_s(self, j: int) -> float:
        g = self.gpus[j]
        w = self.wl[j]
        key = g << 32 | w
        r = self.restart_cache.get(key)
        if r is None:
            wl = self.workloads[w]
            r = wl.restart_s if wl.restart_s is not None else restart_overhead_s(g)
            self.restart_cache[key] = r
        return r

    def checkpoint_interval(self, j: int, c: int) -> float:
        """j's checkpoint interval on cluster c: the workload's, else Young/Daly from its cost and MTBF."""
        g = self.gpus[j]
        w = self.wl[j]
        key = (g << 32 | w) << 16 | c  # fewer than 65,536 clusters
        tau = self.tau_cache.get(key)
        if tau is None:
            wl = self.workloads[w]
            tau = wl.checkpoint_interval_s
            if tau is None:
                cost = wl.checkpoint_cost_s
                mtbf = job_mtbf_s(g, self.rate_s[c] * SECONDS_PER_HOUR)
                tau = 0.0 if cost <= 0 else young_daly_interval_s(cost, mtbf)
            self.tau_cache[key] = tau
        return tau

    # ------------------------------------------------------------------ expected ends (EASY)
    def ends_of(self, c: int) -> list[tuple[float, int, int]]:
        """Cluster c's running jobs sorted by expected end, for a reservation: built from the running
        jobs when it is not kept, then kept up to date at each start and end until it goes idle."""
        e = self.ends[c]
        if e is None:
            n, exp_end, gpus = self.n, self.exp_end, self.gpus
            e = self.ends[c] = sorted([(exp_end[j], j, gpus[j]) for j in self.running[c] if j < n])
        self.ends_idle[c] = 0
        return e

    def end_started(self, j: int, c: int, end: float) -> None:
        e = self.ends[c]
        if e is not None and self._still_read(c, e):
            insort(e, (end, j, self.gpus[j]))

    def end_stopped(self, j: int, c: int) -> None:
        e = self.ends[c]
        if e is not None and self._still_read(c, e):
            del e[bisect_left(e, (self.exp_end[j], j, self.gpus[j]))]

    def _still_read(self, c: int, e: list[tuple[float, int, int]]) -> bool:
        """Keep the sorted list while reservations read it; drop it once it has been updated more
        times than a rebuild costs (about its length) with no reservation reading it."""
        idle = self.ends_idle[c] + 1
        self.ends_idle[c] = idle
        if idle > 2 * len(e) + 64:
            self.ends[c] = None
            return False
        return True

    # ------------------------------------------------------------------ allocation bookkeeping
    def apply(self, j: int, c: int, placement: Placement, k: int, team: int, now: float) -> None:
        cs = self.clusters[c]
        g = cs.take_all(placement, j)
        self.alloc[j] = placement
        self.running[c][j] = None
        self.cl_alloc[c][k] += g
        self.version[c] += 1
        self.alloc_log.add(now, c * NGROUP + k, g)
        if team < len(self.team_alloc):
            self.team_alloc[team] += g
            if self.track_team_prov:
                tp = self.team_prov[team]
                tp[cs.provider] = tp.get(cs.provider, 0.0) + g

    def release(self, j: int, c: int, k: int, team: int, now: float) -> Placement:
        cs = self.clusters[c]
        placement = self.alloc.pop(j)
        g = cs.give_all(placement, j)
        del self.running[c][j]
        if j < self.n and self.borrowed[j]:
            self.borrowed[j] = 0
            self.borrowed_gpus -= g
        self.cl_alloc[c][k] -= g
        self.version[c] += 1
        self.alloc_log.add(now, c * NGROUP + k, -g)
        if team < len(self.team_alloc):
            self.team_alloc[team] -= g
            if self.track_team_prov:
                self.team_prov[team][cs.provider] -= g
        self.freed_on(cs)
        return placement

    def freed_on(self, cs: ClusterState) -> None:
        """GPUs came free on cs: the next cycle may start something."""
        self.dirty = True
        if cs.free_total > self.freed:
            self.freed = cs.free_total

    # ------------------------------------------------------------------ preemption eligibility
    def eligible_for(self, j_cls: int, team: int, reclaim: bool) -> Callable[[int], bool]:
        rank = self.class_rank[j_cls]
        ranks = self.class_rank

        def eligible(v: int) -> bool:
            if v >= self.n:
                return False  # inference replicas
            if ranks[self.cls[v]] > rank:
                return True
            # a borrowed job is reclaimable only while its team is still above its quota: once the
            # team's other jobs end, the GPUs it holds are its own share
            return bool(
                reclaim and self.borrowed[v] and self.team[v] != team and self.team_alloc_over(self.team[v])
            )

        return eligible

    def victim_rank(self, v: int) -> tuple[int, float]:
        return self.class_rank[self.cls[v]], self.seg_start[v]
