"""The discrete-event engine: a heap of (time, priority, counter, kind, payload) tuples and the run loop.

Events: job arrival (read lazily from the sorted job arrays, never all on the heap), start (applied
in the scheduling cycle), finish, failure, repair, preemption, capacity change (a day's ramp or term
end) and inference autoscale tick. Checkpoints are not events: a job restarts from its last
checkpoint, which is derived at the interruption (work since the segment's start, modulo the
interval). The engine owns the state and applies decisions; the policies in `sched/` only decide.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

import numpy as np

from gpufleet.fleet.state import ClusterState, Placement
from gpufleet.sched.backfill import Reservation, reserve, shadow_time
from gpufleet.sched.placement import best_fit_domain, place, stranded_gpus
from gpufleet.sched.preemption import choose_victims
from gpufleet.sched.providers import ChoiceParams, ClusterOffer, provider_policy
from gpufleet.sim.record import ChangeLog
from gpufleet.sim.spec import SimInput
from gpufleet.workload.reliability import job_mtbf_s, restart_overhead_s, young_daly_interval_s

# event kinds, with their priority at equal times: job ends (and failures) first, so that a job
# finishing as its capacity leaves finishes rather than being evicted; then capacity, repairs, ticks
END, CAPACITY, REPAIR, TICK = 0, 1, 2, 3
# job states
PENDING, QUEUED, RUNNING, FINISHED, FAILED = 0, 1, 2, 3, 4
# change-log groups per cluster: classes 0..3, failed, capacity
NGROUP = 6
G_FAILED, G_CAPACITY = 4, 5
Progress = Callable[[float, str], None]


@dataclass
class EngineResult:
    """The engine's raw record; sim/tables.py turns it into the run tables."""

    state: np.ndarray
    first_start: np.ndarray
    end: np.ndarray
    cluster: np.ndarray
    wait_s: np.ndarray
    restarts: np.ndarray
    preemptions: np.ndarray
    lost_gpu_hours: np.ndarray
    work_done_s: np.ndarray
    reason: list[str]
    alloc_log: ChangeLog  # group = cluster * NGROUP + (class | failed | capacity)
    queue_log: ChangeLog  # group = class (jobs) and 4 + class (GPUs)
    inf_replicas: np.ndarray  # (services, ticks) replicas after each tick
    inf_gpus: np.ndarray
    inf_capacity: np.ndarray  # tokens/s the replicas can serve
    tick_s: np.ndarray
    failures: int
    cycles: int
    stranded_gpus: np.ndarray  # (clusters, steps): free GPUs no waiting job could use, at each step's start


class Engine:
    """One run: build with a SimInput and a numpy Generator, call run()."""

    def __init__(self, inp: SimInput, rng: np.random.Generator, progress: Progress | None = None) -> None:
        self.inp = inp
        self.pol = inp.policy
        self.rng = rng
        self.progress = progress
        fleet = inp.fleet
        self.strict = inp.policy.strict
        self.use_failures = inp.policy.failures and not self.strict
        self.use_easy = inp.policy.backfill == "easy" and not self.strict
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
        self.rate_s = [c.failure_rate_per_gpu_hour / 3600.0 for c in fleet.clusters]
        jobs = inp.jobs
        n = len(jobs)
        self.n = n
        self.submit = array("d", jobs.submit_s.astype(np.float64).tobytes())
        self.work = array("d", jobs.work_s.astype(np.float64).tobytes())
        self.gpus = array("q", jobs.gpus.astype(np.int64).tobytes())
        self.team = array("q", jobs.team.astype(np.int64).tobytes())
        self.cls = array("q", jobs.cls.astype(np.int64).tobytes())
        self.wl = array("q", jobs.workload.astype(np.int64).tobytes())
        self.workloads = jobs.workloads
        self.state = array("b", bytes(n))
        self.done = array("d", bytes(8 * n))  # work position at the last checkpoint
        self.seg_start = array("d", bytes(8 * n))
        self.seg_restart = array("d", bytes(8 * n))  # restart overhead of the current segment
        self.seg_tau = array("d", bytes(8 * n))  # checkpoint interval of the current segment
        self.pending_restart = array("d", bytes(8 * n))
        self.first_start = array("d", [math.nan]) * n
        self.end = array("d", [math.nan]) * n
        self.where = array("h", [-1]) * n
        self.epoch = array("l", bytes(8 * n))
        self.restarts = array("l", bytes(8 * n))
        self.preempts = array("l", bytes(8 * n))
        self.lost = array("d", bytes(8 * n))  # GPU-seconds lost
        self.wait = array("d", bytes(8 * n))
        self.queued_since = array("d", bytes(8 * n))
        self.borrowed = array("b", bytes(n))
        self.borrowed_gpus = 0
        self.reason: dict[int, str] = {}
        self.alloc: dict[int, Placement] = {}  # running job or replica -> placement
        self.running: list[dict[int, None]] = [{} for _ in range(nc)]  # per cluster, by start order
        self.ends: list[list[tuple[float, int, int]]] = [[] for _ in range(nc)]  # EASY: (end, job, gpus)
        self.exp_end = array("d", bytes(8 * n))
        # queues per class: fresh arrivals (deque, submit order) and requeued jobs (heap by submit)
        self.fresh: list[deque[int]] = [deque() for _ in range(4)]
        self.requeued: list[list[tuple[float, int, int]]] = [[] for _ in range(4)]
        self.stale = [0] * 4  # started jobs still listed in `fresh`, per class
        self.class_rank = [0] * 4
        for r, k in enumerate(self.pol.class_order):
            self.class_rank[k] = r
        # teams
        self.team_alloc = [0] * max(1, len(inp.teams))
        self.team_prov: list[dict[str, float]] = [{} for _ in range(max(1, len(inp.teams)))]
        self.cl_alloc = [[0] * 4 for _ in range(nc)]
        # replicas (inference): ids from n upwards
        # inference: the replicas of service-region `key` are one occupant, id n + key, holding a
        # stack of (cluster, domain, GPUs) entries; they are never preempted (the top class)
        self.key_reps: list[list[tuple[int, int, int]]] = [[] for _ in inp.services]
        self.key_cap = [0.0] * len(inp.services)
        # heap, logs, misc
        self.heap: list[tuple[float, int, int, int, tuple[int, ...]]] = []
        self.counter = 0
        self.alloc_log = ChangeLog()
        self.queue_log = ChangeLog()
        self.exp_buf = np.zeros(0)
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
        self.offers: list[ClusterOffer | None] = [None] * nc
        self.choice = provider_policy(self.pol.provider_choice)
        self.params = ChoiceParams(self.pol.max_share, self.pol.pinned_provider)
        self.max_domains = fleet.domains.max(axis=1) if fleet.days else np.zeros(nc, np.int32)
        self.quota_total = 0
        self.shares = [
            t.quota_share if (self.pol.fair_share and t.quota_share is not None) else math.inf
            for t in inp.teams
        ]
        # the most GPUs one job of a workload can ever get, at the level it requires: a job that
        # needs more can never be placed, and queued it would only hold a reservation and preempt
        self.biggest = [
            max((self.level_gpus(c, w.require) for c in w.allowed_clusters), default=0)
            for w in jobs.workloads
        ]
        self.restart_cache: dict[tuple[int, int], float] = {}
        self.tau_cache: dict[tuple[int, int, int], float] = {}
        self.freed = 0  # the most free GPUs in a cluster that gained some since the last cycle
        self.fseq: dict[int, list[tuple[float, float, float]]] = {}
        self.repairs: deque[tuple[float, int, int, int, int]] = deque()  # constant repair time: FIFO

    # ================================================================== helpers
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

    def push(self, t: float, kind: int, payload: tuple[int, ...]) -> None:
        self.counter += 1
        heapq.heappush(self.heap, (t, kind, self.counter, kind, payload))

    def exp(self) -> float:
        """A standard exponential draw from the run's generator, in batches (one call per 64k)."""
        if self.exp_pos >= len(self.exp_buf):
            self.exp_buf = self.rng.standard_exponential(65536)
            self.exp_pos = 0
        v = float(self.exp_buf[self.exp_pos])
        self.exp_pos += 1
        return v

    def cls_of(self, j: int) -> int:
        if j < self.n:
            return self.cls[j]
        return self.inp.services[j - self.n].cls

    def held(self, j: int) -> int:
        return self.gpus[j]

    def quota(self, team: int) -> float:
        share = self.shares[team] if team < len(self.shares) else math.inf
        return share * self.quota_total if share != math.inf else math.inf

    def candidates(self, allowed: tuple[int, ...], team: int) -> list[int]:
        """Clusters to try, in the provider policy's order (cached unless it depends on the team's use)."""
        if self.pol.provider_choice != "diversify":
            hit = self.offers_cache.get(allowed)
            if hit is not None:
                return hit
        offers = [o for c in allowed if (o := self.offers[c]) is not None]
        team_use = self.team_prov[team] if team < len(self.team_prov) else {}
        order = self.choice(offers, team_use, self.params)
        if self.pol.provider_choice != "diversify":
            self.offers_cache[allowed] = order
        return order

    # ================================================================== allocation
    def _apply(self, j: int, c: int, placement: Placement, k: int, team: int, now: float) -> None:
        cs = self.clusters[c]
        g = cs.take_all(placement, j)
        self.alloc[j] = placement
        self.running[c][j] = None
        self.cl_alloc[c][k] += g
        self.version[c] += 1
        self.alloc_log.add(now, c * NGROUP + k, g)
        if team < len(self.team_alloc):
            self.team_alloc[team] += g
            tp = self.team_prov[team]
            tp[cs.provider] = tp.get(cs.provider, 0.0) + g

    def _release(self, j: int, c: int, k: int, team: int, now: float) -> Placement:
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
            self.team_prov[team][cs.provider] -= g
        self.dirty = True
        if cs.free_total > self.freed:
            self.freed = cs.free_total
        return placement

    # ================================================================== job lifecycle
    def start(self, j: int, c: int, placement: Placement, now: float) -> None:
        k = self.cls[j]
        g = self.gpus[j]
        team = self.team[j]
        self._apply(j, c, placement, k, team, now)
        self.queue_log.add2(now, k, -1, 4 + k, -g)
        if self.team_alloc_over(team):
            self.borrowed[j] = 1
            self.borrowed_gpus += g
        else:
            self.borrowed[j] = 0
        self.state[j] = RUNNING
        self.wait[j] += now - self.queued_since[j]
        if math.isnan(self.first_start[j]):
            self.first_start[j] = now
            self.stale[k] += 1
        self.where[j] = c
        self.begin(j, c, now, self.pending_restart[j])

    def begin(self, j: int, c: int, now: float, r: float) -> None:
        """A running segment of j on cluster c from now: restart overhead r, then the remaining work."""
        g = self.gpus[j]
        self.epoch[j] += 1
        self.seg_start[j] = now
        self.seg_restart[j] = r
        finish = now + r + (self.work[j] - self.done[j])
        self.exp_end[j] = finish
        if self.use_easy:
            insort(self.ends[c], (finish, j, g))
        rate = self.rate_s[c] * g
        key = (self.wl[j], g, c)
        tau = self.tau_cache.get(key)
        if tau is None:
            wl = self.workloads[key[0]]
            tau = wl.checkpoint_interval_s
            if tau is None:
                cost = wl.checkpoint_cost_s
                mtbf = job_mtbf_s(g, self.rate_s[c] * 3600.0)
                tau = 0.0 if cost <= 0 else young_daly_interval_s(cost, mtbf)
            self.tau_cache[key] = tau
        self.seg_tau[j] = tau
        if self.use_failures and rate > 0:
            finish = self.draw_failures(j, now, r, tau, rate)
        self.push(finish, END, (j, self.epoch[j], 0, 0))

    def draw_failures(self, j: int, now: float, r: float, tau: float, rate: float) -> float:
        """The job's failure process from now, drawn ahead: one exponential time to failure per
        running stretch, each failure rolling back to the last checkpoint and restarting in place.

        Returns the finish time; the failures become events one at a time (`fseq`), so a preemption
        in between sees exactly the failures before it. Stops at the horizon.
        """
        g = self.gpus[j]
        work = self.work[j]
        done = self.done[j]
        restart = self.restart_s(j)
        horizon = self.inp.horizon_s
        t0 = now
        seq: list[tuple[float, float, float]] = []  # (failure time, work kept, GPU-seconds lost)
        while True:
            ttf = self.exp() / rate
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
            self.fseq[j] = seq
            self.push(seq[0][0], END, (j, self.epoch[j], 1, 0))
        else:
            self.fseq.pop(j, None)
        return fin

    def team_alloc_over(self, team: int) -> bool:
        return team < len(self.team_alloc) and self.team_alloc[team] > self.quota(team)

    def stop(self, j: int, now: float, graceful: bool) -> None:
        """End j's running segment: release its GPUs and roll back to its last checkpoint."""
        c = self.where[j]
        k = self.cls[j]
        g = self.gpus[j]
        self._release(j, c, k, self.team[j], now)
        if self.use_easy:
            e = self.ends[c]
            i = bisect_left(e, (self.exp_end[j], j, g))
            del e[i]
        self.rollback(j, now, graceful)
        self.state[j] = QUEUED

    def rollback(self, j: int, now: float, graceful: bool) -> None:
        """Back to the last checkpoint: the work since it, and any restart time spent, are lost."""
        g = self.gpus[j]
        elapsed = now - self.seg_start[j]
        r = self.seg_restart[j]
        progress = max(0.0, elapsed - r)
        tau = self.seg_tau[j]
        if graceful or tau == 0:
            kept = progress  # capacity leaving: a checkpoint is taken before the GPUs go
        elif math.isinf(tau):
            kept = 0.0  # never checkpoints: all the segment's work is lost
        else:
            kept = math.floor(progress / tau) * tau
        self.done[j] += kept
        self.lost[j] += g * (min(elapsed, r) + progress - kept)

    def requeue(self, j: int, now: float, restart_s: float) -> None:
        k = self.cls[j]
        self.pending_restart[j] = restart_s
        self.queued_since[j] = now
        heapq.heappush(self.requeued[k], (self.submit[j], j, self.epoch[j]))
        self.queue_log.add2(now, k, 1, 4 + k, self.gpus[j])
        self.gate = min(self.gate, self.gpus[j])
        self.dirty = True
        self.force = self.force or (self.pol.preemption and not self.strict)

    def restart_s(self, j: int) -> float:
        key = (self.wl[j], self.gpus[j])
        r = self.restart_cache.get(key)
        if r is None:
            wl = self.workloads[key[0]]
            r = wl.restart_s if wl.restart_s is not None else restart_overhead_s(key[1])
            self.restart_cache[key] = r
        return r

    def preempt(self, j: int, now: float, graceful: bool = False) -> None:
        self.preempts[j] += 1
        self.stop(j, now, graceful)
        self.requeue(j, now, self.restart_s(j))

    def on_end(self, j: int, epoch: int, failed: int, k: int, now: float) -> None:
        if self.epoch[j] != epoch or self.state[j] != RUNNING:
            return
        if not failed:
            c = self.where[j]
            self._release(j, c, self.cls[j], self.team[j], now)
            if self.use_easy:
                e = self.ends[c]
                del e[bisect_left(e, (self.exp_end[j], j, self.gpus[j]))]
            self.done[j] = self.work[j]
            self.lost[j] += self.gpus[j] * self.seg_restart[j]  # the restart that led here
            self.state[j] = FINISHED
            self.end[j] = now
            self.fseq.pop(j, None)
            return
        # the k-th drawn failure: one node of the job goes to repair; the job restarts from its
        # checkpoint on a healthy spare node of the same cluster (in place), else it requeues
        seq = self.fseq[j]
        _, kept, lost = seq[k]
        self.failures += 1
        self.restarts[j] += 1
        self.done[j] = kept
        self.lost[j] += lost
        self.seg_start[j] = now
        self.seg_restart[j] = r = self.restart_s(j)
        c = self.where[j]
        cs = self.clusters[c]
        placement = self.alloc[j]
        node = cs.gpus_per_node
        spare = self.spare_domain(cs, j, placement, min(node, self.gpus[j]))
        if spare < 0:
            d = placement.whole[0] if placement.whole else placement.parts[0][0]
            self.stop(j, now, graceful=False)  # nothing more lost: it just rolled back
            bad = min(node, int(cs.free[d]) if d >= 0 else node, self.gpus[j])
            if bad > 0:
                cs.fail(d, bad)
            self.requeue(j, now, r)
        else:
            # which of its nodes fails: round robin over its domains, cheap and spread out
            d, bad = cs.fail_held(placement, j, self.failures, node)
            cs.take(spare, bad)
            occ = cs.occupants[spare]
            occ[j] = occ.get(j, 0) + bad
            placement.parts.append((spare, bad))
            self.version[c] += 1
            if k + 1 < len(seq):
                self.push(seq[k + 1][0], END, (j, epoch, 1, k + 1))
        if bad > 0:
            self.alloc_log.add(now, c * NGROUP + G_FAILED, bad)
            self.repairs.append((now + self.pol.repair_s, c, d, cs.gen[d] if d >= 0 else 0, bad))

    def spare_domain(self, cs: ClusterState, j: int, placement: Placement, need: int) -> int:
        """A domain with `need` free GPUs to replace j's failed node, at the level j requires
        (its own domain, or its block); -1 when there is none and j must requeue."""
        if cs.pooled:
            return -1
        require = self.workloads[self.wl[j]].require
        if require != "domain" and require != "block":
            return best_fit_domain(cs, need)
        d = placement.whole[0] if placement.whole else placement.parts[0][0]
        if require == "domain":
            return d if cs.free[d] >= need else -1
        dpb = cs.domains_per_block
        lo = d // dpb * dpb
        free = cs.free[lo : min(lo + dpb, cs.online)]
        hits = np.flatnonzero(free >= need)
        return lo + int(hits[np.argmin(free[hits])]) if len(hits) else -1

    def on_repair(self, c: int, d: int, gen: int, gpus: int, now: float) -> None:
        cs = self.clusters[c]
        if d >= 0 and (cs.gen[d] != gen or d >= cs.online):
            return  # the domain left the fleet meanwhile; its failed GPUs left with it
        cs.repair(d, gpus)
        self.alloc_log.add(now, c * NGROUP + G_FAILED, -gpus)
        self.version[c] += 1
        self.dirty = True
        if cs.free_total > self.freed:
            self.freed = cs.free_total

    def arrive(self, j: int, now: float) -> None:
        g = self.gpus[j]
        biggest = self.biggest[self.wl[j]]
        if g > biggest:
            self.state[j] = FAILED
            self.end[j] = now
            level = self.workloads[self.wl[j]].require or "cluster"
            self.reason[j] = f"needs {g} GPUs; the largest {level} it may use never has more than {biggest}"
            return
        k = self.cls[j]
        self.state[j] = QUEUED
        self.queued_since[j] = now
        self.fresh[k].append(j)
        self.queue_log.add2(now, k, 1, 4 + k, g)
        if g < self.gate:
            self.gate = g
        self.dirty = True
        if not self.force and self.max_free() >= g:
            self.force = True  # it may fit somewhere now
        if self.pol.preemption and not self.strict and not self.force:
            rank = self.class_rank[k]
            lower = [kk for kk in range(4) if self.class_rank[kk] > rank]
            self.force = self.borrowed_gpus > 0 or any(a[kk] for a in self.cl_alloc for kk in lower)

    # ================================================================== capacity
    def on_capacity(self, day: int, now: float) -> None:
        fleet = self.inp.fleet
        contracts = fleet.contracts
        total = 0
        for c, cs in enumerate(self.clusters):
            want = int(fleet.domains[c, day])
            before = cs.capacity
            if want < cs.online:
                self.evict_top(c, want, now)
                dropped = cs.remove_domains(want)
                if dropped:
                    self.alloc_log.add(now, c * NGROUP + G_FAILED, -dropped)
            elif want > cs.online:
                cs.add_domains(want)
            if cs.capacity != before:
                self.alloc_log.add(now, c * NGROUP + G_CAPACITY, cs.capacity - before)
                self.version[c] += 1
                self.dirty = True
                self.force = True  # capacity and quotas changed: look at the whole queue
            k = int(fleet.contract[c, day])
            offer = None
            if k >= 0 and want > 0:
                ct = contracts[k]
                if ct.kind == "committed" or self.pol.overflow:
                    offer = ClusterOffer(c, cs.provider, ct.kind, ct.take_or_pay, ct.price_per_gpu_hour_usd)
            if offer != self.offers[c]:
                self.offers[c] = offer
                self.offers_cache.clear()
            total += cs.capacity
        self.quota_total = total

    def evict_top(self, c: int, want: int, now: float) -> None:
        """Checkpoint and requeue the jobs (and drop the replicas) on domains about to leave."""
        cs = self.clusters[c]
        if cs.pooled:
            leaving = (cs.online - want) * cs.gpus_per_domain
            for j in reversed(list(self.running[c])):
                if cs.free_total >= leaving:
                    break
                self.preempt(j, now, graceful=True)
            for key in range(len(self.key_reps)):  # replicas (not in `running`) go last, newest first
                if cs.free_total >= leaving:
                    break
                self.drop_pooled_replicas(key, c, leaving - cs.free_total, now)
            return
        victims: dict[int, None] = {}
        for d in range(want, cs.online):
            victims.update(dict.fromkeys(cs.jobs_on(d)))
        for j in victims:
            if j >= self.n:
                self.drop_replicas(j - self.n, c, want, now)
            else:
                self.preempt(j, now, graceful=True)

    # ================================================================== scheduling cycle
    def scan(self, k: int) -> Iterator[int]:
        """Queued jobs of class k in submit order: requeued ones (a heap) merged with fresh ones."""
        state, epoch = self.state, self.epoch
        rq = self.requeued[k]
        while rq and (state[rq[0][1]] != QUEUED or epoch[rq[0][1]] != rq[0][2]):
            heapq.heappop(rq)
        fr = self.fresh[k]
        if self.stale[k] > 512 and 2 * self.stale[k] > len(fr):
            # jobs started from the middle (backfill) leave stale entries: drop them all at once
            fr = self.fresh[k] = deque(j for j in fr if state[j] == QUEUED and epoch[j] == 0)
            self.stale[k] = 0
        while fr and (state[fr[0]] != QUEUED or epoch[fr[0]] != 0):
            fr.popleft()
            self.stale[k] -= 1
        if not rq:
            for j in fr:
                if state[j] == QUEUED and epoch[j] == 0:
                    yield j
            return
        req = sorted(e for e in rq if state[e[1]] == QUEUED and epoch[e[1]] == e[2])
        it = iter(fr)
        nxt = next(it, None)
        for s, j, _ in req:
            while nxt is not None and self.submit[nxt] <= s:
                if state[nxt] == QUEUED and epoch[nxt] == 0:
                    yield nxt
                nxt = next(it, None)
            if state[j] == QUEUED:
                yield j
        while nxt is not None:
            if state[nxt] == QUEUED and epoch[nxt] == 0:
                yield nxt
            nxt = next(it, None)

    def max_free(self) -> int:
        return max([cs.free_total for cs in self.clusters], default=0)

    def cycle(self, now: float) -> None:
        """One scheduling cycle (Kueue-style numbered steps).

        1. Take queued jobs class by class (priority order), FIFO within a class, up to the depth.
        2. Skip a job whose team is at its quota and may not borrow.
        3. Try to place it on its clusters in the provider policy's order, respecting the head
           job's reservation (EASY): a later job starts now only if it does not delay the head.
        4. The first job that cannot start is the head: try preemption of lower classes (and of
           borrowed quota its team reclaims); else reserve its start (EASY), or, with no backfill,
           stop the cycle (strict priority FIFO).
        """
        self.cycles += 1
        self.dirty = False
        self.force = False
        self.quota_blocked = False
        res: Reservation | None = None
        gate = 1 << 62
        depth = self.pol.backfill_depth
        for k in self.pol.class_order:
            if not self.fresh[k] and not self.requeued[k]:
                continue
            seen = 0
            for j in list(self.scan(k)) if self.requeued[k] else self.scan(k):
                if seen >= depth:
                    break
                seen += 1
                if self.state[j] != QUEUED:
                    continue
                g = self.gpus[j]
                team = self.team[j]
                # step 2: quota
                quota_ok = team >= len(self.team_alloc) or self.team_alloc[team] + g <= self.quota(team)
                if not quota_ok and not self.inp.teams[team].can_borrow:
                    self.quota_blocked = True  # a release anywhere may let it start
                    continue
                # step 3: place
                if self.try_start(j, now, res):
                    continue
                gate = min(gate, g)
                if res is not None:
                    continue
                # step 4: the head job
                if self.pol.preemption and not self.strict and quota_ok and self.try_preempt(j, now):
                    continue
                if not self.use_easy:
                    self.gate = gate
                    return
                res = self.reservation(j, now)
        self.gate = gate

    def try_start(self, j: int, now: float, res: Reservation | None) -> bool:
        wl = self.workloads[self.wl[j]]
        g = self.gpus[j]
        end = now + self.pending_restart[j] + self.work[j] - self.done[j]
        clusters = self.clusters
        for c in self.candidates(wl.allowed_clusters, self.team[j]):
            cs = clusters[c]
            if cs.free_total < g:
                continue
            if res is not None and not res.allows(c, g, end):
                continue
            placement = place(cs, g, wl.require, self.pol.placement)
            if placement is None:
                continue
            if res is not None:
                res.use(c, g, end)
            self.start(j, c, placement, now)
            return True
        return False

    def reservation(self, j: int, now: float) -> Reservation:
        wl = self.workloads[self.wl[j]]
        g = self.gpus[j]
        cands = []
        for c in self.candidates(wl.allowed_clusters, self.team[j]):
            cs = self.clusters[c]
            if cs.capacity < g:
                continue
            s, extra = shadow_time(now, g, cs.free_total, self.ends[c])
            if not cs.pooled:
                # GPU counts do not say which domains free up: spare GPUs at the shadow time may sit
                # where the head cannot use them. Only jobs that end by the shadow time backfill
                # here, so none can delay the head (EASY's guarantee, kept under topology).
                extra = 0
                if s <= now:  # enough GPUs free now, but not placeable: wait for the next end
                    s = next((e for e, _job, _g in self.ends[c] if e > now), math.inf)
            cands.append((c, s, extra))
        return reserve(cands)

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

    def try_preempt(self, j: int, now: float) -> bool:
        wl = self.workloads[self.wl[j]]
        return self.preempt_for(
            j, self.cls[j], self.team[j], self.gpus[j], wl.allowed_clusters, wl.require, now
        )

    def preempt_for(
        self, j: int, k: int, team: int, g: int, allowed: tuple[int, ...], require: str | None, now: float
    ) -> bool:
        """Free room for j (a job or a replica about to be) by preempting; True if it was started/placed."""
        rank = self.class_rank[k]
        reclaim = team < len(self.team_alloc) and self.team_alloc[team] + g <= self.quota(team) < math.inf
        lower = [kk for kk in range(4) if self.class_rank[kk] > rank]
        eligible = self.eligible_for(k, team, reclaim)
        for c in self.candidates(allowed, team):
            cs = self.clusters[c]
            if cs.capacity < g:
                continue
            if not reclaim and cs.free_total + sum(self.cl_alloc[c][kk] for kk in lower) < g:
                continue
            memo = (j, c)
            if self.preempt_memo.get(memo) == self.version[c]:
                continue
            victims = choose_victims(cs, g, eligible, self.victim_rank, self.held, require == "block")
            if victims is None:
                self.preempt_memo[memo] = self.version[c]
                continue
            for v in victims:
                self.preempt(v, now)
            placement = place(cs, g, require, self.pol.placement)
            if placement is None:
                self.preempt_memo[memo] = self.version[c]
                continue
            self.start(j, c, placement, now)
            return True
        return False

    # ================================================================== inference
    def _replica_change(self, key: int, c: int, entries: Placement, add: bool, now: float) -> None:
        """Apply one tick's replica change of one service-region in one cluster, in bulk."""
        n_reps = len(entries.whole) + len(entries.parts)
        if not n_reps:
            return
        svc = self.inp.services[key]
        cs = self.clusters[c]
        gid = self.n + key
        g = cs.take_all(entries, gid) if add else cs.give_all(entries, gid)
        delta = g if add else -g
        self.cl_alloc[c][svc.cls] += delta
        self.version[c] += 1
        self.alloc_log.add(now, c * NGROUP + svc.cls, delta)
        if svc.team < len(self.team_alloc):
            self.team_alloc[svc.team] += delta
            tp = self.team_prov[svc.team]
            tp[cs.provider] = tp.get(cs.provider, 0.0) + delta
        self.key_cap[key] += (1 if add else -1) * n_reps * float(svc.tokens_s_per_replica[c])
        if not add:
            self.dirty = True
            if cs.free_total > self.freed:
                self.freed = cs.free_total

    def drop_replicas(self, key: int, c: int, min_domain: int, now: float) -> None:
        """Remove the replicas of `key` on cluster c's domains from min_domain up (capacity leaving)."""
        reps = self.key_reps[key]
        gone = [(d, x) for cc, d, x in reps if cc == c and d >= min_domain]
        self.key_reps[key] = [e for e in reps if not (e[0] == c and e[1] >= min_domain)]
        self._replica_change(key, c, self._replica_placement(c, gone), False, now)

    def drop_pooled_replicas(self, key: int, c: int, gpus: int, now: float) -> None:
        """Remove the newest replicas of `key` on pooled cluster c until `gpus` GPUs are released."""
        keep: list[tuple[int, int, int]] = []
        gone: list[tuple[int, int]] = []
        for e in reversed(self.key_reps[key]):
            if e[0] == c and gpus > 0:
                gone.append((e[1], e[2]))
                gpus -= e[2]
            else:
                keep.append(e)
        keep.reverse()
        self.key_reps[key] = keep
        self._replica_change(key, c, self._replica_placement(c, gone), False, now)

    def scale_down(self, key: int, target: float, now: float) -> None:
        svc = self.inp.services[key]
        reps = self.key_reps[key]
        removed: dict[int, list[tuple[int, int]]] = {}
        cap = self.key_cap[key]
        while reps:
            c, d, x = reps[-1]
            thr = float(svc.tokens_s_per_replica[c])
            if cap - thr < target:
                break
            cap -= thr
            reps.pop()
            removed.setdefault(c, []).append((d, x))
        for c, entries in removed.items():
            self._replica_change(key, c, self._replica_placement(c, entries), False, now)

    def _replica_placement(self, c: int, entries: list[tuple[int, int]]) -> Placement:
        cs = self.clusters[c]
        if cs.pooled:
            return Placement(parts=list(entries))  # no domains (d = -1): never "whole" domains
        g = cs.gpus_per_domain
        return Placement(
            whole=[d for d, x in entries if x == g], parts=[(d, x) for d, x in entries if x != g]
        )

    def scale_up(self, key: int, target: float, now: float) -> None:
        """Add replicas until the target is met: placed cluster by cluster in the provider order,
        whole domains taken in bulk; when the fleet is full, lower classes are preempted."""
        svc = self.inp.services[key]
        g = svc.replica_gpus
        team = svc.team
        for attempt in range(2):
            for c in self.candidates(svc.allowed_clusters, team):
                thr = float(svc.tokens_s_per_replica[c])
                short = target - self.key_cap[key]
                if short <= 0:
                    return
                if thr <= 0:
                    continue
                want = math.ceil(short / thr - 1e-9)
                room = self.quota(team) - self.team_alloc[team] if team < len(self.team_alloc) else math.inf
                if room < g * want and not self.inp.teams[team].can_borrow:
                    want = int(max(room, 0) // g)
                if want <= 0:
                    return
                placed = self._find_replica_slots(self.clusters[c], g, want)
                self.key_reps[key].extend((c, d, g) for d in placed.whole)
                self.key_reps[key].extend((c, d, x) for d, x in placed.parts)
                self._replica_change(key, c, placed, True, now)
            if attempt == 0 and self.key_cap[key] < target:
                if not (self.pol.preemption and not self.strict):
                    return
                self._preempt_for_replicas(key, target, now)

    def _find_replica_slots(self, cs: ClusterState, g: int, want: int) -> Placement:
        """Up to `want` replica slots of g GPUs: whole domains from the blocks with fewest free first
        (the big blocks stay whole for gang jobs), or best-fit domains for replicas smaller than one."""
        if cs.pooled:
            k = min(want, cs.free_total // g)
            return Placement(parts=[(-1, g)] * k)
        if g == cs.gpus_per_domain:
            order = sorted((len(stack), b) for b, stack in enumerate(cs.whole) if stack)
            chunks: list[tuple[int, int]] = []
            domains: list[int] = []
            for n_free, b in order:
                take = min(want - len(domains), n_free)
                stack = cs.whole[b]
                domains.extend(stack[len(stack) - take :])
                chunks.append((b, take))
                if len(domains) >= want:
                    break
            return Placement(whole=domains, chunks=chunks)
        # smaller replicas: best fit, one by one, each held while the next is sought
        parts: list[tuple[int, int]] = []
        while len(parts) < want:
            d = best_fit_domain(cs, g)
            if d < 0:
                break
            cs.take(d, g)
            parts.append((d, g))
        for d, x in parts:
            cs.give(d, x)
        return Placement(parts=parts)

    def _preempt_for_replicas(self, key: int, target: float, now: float) -> None:
        svc = self.inp.services[key]
        g = svc.replica_gpus
        eligible = self.eligible_for(svc.cls, svc.team, reclaim=False)
        for c in self.candidates(svc.allowed_clusters, svc.team):
            thr = float(svc.tokens_s_per_replica[c])
            if thr <= 0:
                continue
            cs = self.clusters[c]
            want = math.ceil((target - self.key_cap[key]) / thr - 1e-9)
            if want <= 0:
                return
            rank = self.class_rank[svc.cls]
            lower = sum(self.cl_alloc[c][k] for k in range(4) if self.class_rank[k] > rank)
            if lower <= 0:
                continue
            memo = (-1 - key, c)
            if self.preempt_memo.get(memo) == self.version[c]:
                continue
            need = min(want * g, lower + cs.free_total)
            victims = choose_victims(cs, max(need, g), eligible, self.victim_rank, self.held)
            if not victims:
                self.preempt_memo[memo] = self.version[c]
                continue
            for v in victims:
                self.preempt(v, now)
            return

    def on_tick(self, i: int, now: float) -> None:
        services = self.inp.services
        targets = [float(s.demand_tokens_s[i]) * s.headroom for s in services]
        for key in range(len(services)):  # scale down first: it frees room for the others
            self.scale_down(key, targets[key], now)
        for key in range(len(services)):
            if self.key_cap[key] < targets[key]:
                self.scale_up(key, targets[key], now)
        for key, svc in enumerate(services):
            self.inf_replicas[key, i] = len(self.key_reps[key])
            self.inf_gpus[key, i] = len(self.key_reps[key]) * svc.replica_gpus
            self.inf_capacity[key, i] = self.key_cap[key]

    # ================================================================== run loop
    def run(self) -> EngineResult:
        inp = self.inp
        horizon = inp.horizon_s
        fleet = inp.fleet
        # capacity changes: day 0 and every day the domains or the contract change
        days = fleet.days
        if days:
            changed = np.ones(days, dtype=bool)
            changed[1:] = np.any(
                (fleet.domains[:, 1:] != fleet.domains[:, :-1])
                | (fleet.contract[:, 1:] != fleet.contract[:, :-1]),
                axis=0,
            )
            for day in np.flatnonzero(changed):
                if day * 86400.0 < horizon:
                    self.push(day * 86400.0, CAPACITY, (int(day),))
        tick = self.pol.autoscale_s
        n_ticks = math.ceil(horizon / tick) if inp.services else 0
        self.tick_s = np.arange(n_ticks) * tick
        self.inf_replicas = np.zeros((len(inp.services), n_ticks))
        self.inf_gpus = np.zeros((len(inp.services), n_ticks))
        self.inf_capacity = np.zeros((len(inp.services), n_ticks))
        if n_ticks:
            self.push(0.0, TICK, (0,))
        submit = self.submit
        n = self.n
        nxt = 0
        heap = self.heap
        pop = heapq.heappop
        report_every = horizon / 100.0
        next_report = 0.0
        repairs = self.repairs
        step = self.pol.step_s
        n_steps = math.ceil(horizon / step)
        self.stranded = np.zeros((len(self.clusters), n_steps))
        next_step = 0
        while True:
            t_ev = heap[0][0] if heap else math.inf
            t_arr = submit[nxt] if nxt < n else math.inf
            t = t_ev if t_ev <= t_arr else t_arr
            if repairs and repairs[0][0] < t:
                t = repairs[0][0]
            if t >= horizon:
                break
            while next_step < n_steps and t > next_step * step:  # steps that began before t
                self.sample_stranded(next_step)
                next_step += 1
            if self.progress is not None and t >= next_report:
                self.progress(t / horizon, "simulating")
                next_report = t + report_every
            while heap and heap[0][0] == t:
                _, _, _, kind, p = pop(heap)
                if kind == END:
                    self.on_end(p[0], p[1], p[2], p[3], t)
                elif kind == CAPACITY:
                    self.on_capacity(p[0], t)
                else:
                    self.on_tick(p[0], t)
                    if p[0] + 1 < n_ticks:
                        self.push((p[0] + 1) * tick, TICK, (p[0] + 1,))
            while repairs and repairs[0][0] == t:
                _, c, d, gen, gpus = repairs.popleft()
                self.on_repair(c, d, gen, gpus, t)
            while nxt < n and submit[nxt] == t:
                self.arrive(nxt, t)
                nxt += 1
            if self.dirty:
                # a cycle can start something only if a job arrived, or GPUs came free somewhere
                # that the smallest waiting job could use
                if self.force or self.freed >= self.gate or self.quota_blocked:
                    self.cycle(t)
                self.dirty = False
                self.freed = 0
            while next_step < n_steps and t >= next_step * step:  # a step that begins now: after its events
                self.sample_stranded(next_step)
                next_step += 1
        while next_step < n_steps:  # steps after the last event: the state holds to the horizon
            self.sample_stranded(next_step)
            next_step += 1
        if self.progress is not None:
            self.progress(1.0, "simulated")
        return self.result(horizon, nxt)

    def sample_stranded(self, i: int) -> None:
        """Fragmentation at a step's start: free GPUs that the smallest waiting job could not use."""
        smallest = 1 << 62
        for k in range(4):
            for j in islice(self.scan(k), self.pol.backfill_depth):
                g = self.gpus[j]
                if g < smallest:
                    smallest = g
        for c, cs in enumerate(self.clusters):
            self.stranded[c, i] = stranded_gpus(cs, smallest)

    def result(self, horizon: float, arrived: int) -> EngineResult:
        n = self.n
        state = np.frombuffer(self.state, dtype=np.int8).copy()
        wait = np.frombuffer(self.wait, dtype=np.float64).copy()
        qs = np.frombuffer(self.queued_since, dtype=np.float64)
        queued = state == QUEUED
        wait[queued] += horizon - qs[queued]
        reason = [""] * n
        for j, why in self.reason.items():
            reason[j] = why
        return EngineResult(
            state=state,
            first_start=np.frombuffer(self.first_start, dtype=np.float64).copy(),
            end=np.frombuffer(self.end, dtype=np.float64).copy(),
            cluster=np.frombuffer(self.where, dtype=np.int16).astype(np.int64),
            wait_s=wait,
            restarts=np.frombuffer(self.restarts, dtype=np.int64).copy() if n else np.zeros(0, np.int64),
            preemptions=np.frombuffer(self.preempts, dtype=np.int64).copy() if n else np.zeros(0, np.int64),
            lost_gpu_hours=np.frombuffer(self.lost, dtype=np.float64) / 3600.0,
            work_done_s=self.work_done(horizon),
            reason=reason,
            alloc_log=self.alloc_log,
            queue_log=self.queue_log,
            inf_replicas=self.inf_replicas,
            inf_gpus=self.inf_gpus,
            inf_capacity=self.inf_capacity,
            tick_s=self.tick_s,
            failures=self.failures,
            cycles=self.cycles,
            stranded_gpus=self.stranded,
        )

    def work_done(self, horizon: float) -> np.ndarray:
        """Useful work per job up to the horizon (running jobs: up to now, assuming no more loss)."""
        done = np.frombuffer(self.done, dtype=np.float64).copy()
        for j in self.alloc:
            if j < self.n:
                done[j] += max(0.0, horizon - self.seg_start[j] - self.seg_restart[j])
        return done
