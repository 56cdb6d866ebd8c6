"""Capacity changes: a day's contract ramps and term ends bring domains online or evict them, and
set each cluster's offer (its contract terms) for provider choice and the teams' quota base; the
provider ranking's refresh, at those changes and (DAY) at each day's start for a ranking by usage."""

from __future__ import annotations

from gpufleet.sched.commitment import ContractState
from gpufleet.sched.providers import ClusterOffer
from gpufleet.sim import autoscale, lifecycle
from gpufleet.sim.state import DAY, G_CAPACITY, G_FAILED, NGROUP, SimState
from gpufleet.units import SECONDS_PER_DAY


def on_capacity(st: SimState, payload: tuple[int, ...], now: float) -> None:
    """The CAPACITY event of horizon day `payload[0]`."""
    day = payload[0]
    fleet = st.inp.fleet
    contracts = fleet.contracts
    total = 0
    changed = False
    for c, cs in enumerate(st.clusters):
        want = int(fleet.domains[c, day])
        before = cs.capacity
        if want < cs.online:
            evict_top(st, c, want, now)
            dropped = cs.remove_domains(want)
            if dropped:
                st.alloc_log.add(now, c * NGROUP + G_FAILED, -dropped)
        elif want > cs.online:
            cs.add_domains(want)
        if cs.capacity != before:
            st.alloc_log.add(now, c * NGROUP + G_CAPACITY, cs.capacity - before)
            st.version[c] += 1
            st.dirty = True
            st.force = True  # capacity and quotas changed: look at the whole queue
        k = int(fleet.contract[c, day])
        offer = None
        if k >= 0 and want > 0:
            ct = contracts[k]
            if ct.kind == "committed" or st.pol.overflow:
                offer = ClusterOffer(c, cs.provider, ct.kind, ct.take_or_pay, ct.price_per_gpu_hour_usd, k)
        if offer != st.offers[c]:
            st.offers[c] = offer
            changed = True
        total += cs.capacity
    st.quota_total = total
    if changed:  # the provider ranking's trigger: recompute it, forget the cached orders
        refresh(st, now)
        st.forget_orders()


def refresh(st: SimState, now: float) -> None:
    """Bring the usage book up to now, hand the contracts' states to the provider policy and drop
    the cached orders if its ranking changed."""
    book = st.usage_book
    states: list[ContractState] = []
    if book is not None:
        book.advance(st.alloc_log, NGROUP, now)
        states = book.states(int(now // SECONDS_PER_DAY))
    if st.providers.refresh(now, st.offers, states):
        st.forget_orders()


def on_day(st: SimState, payload: tuple[int, ...], now: float) -> None:
    """The DAY event: re-rank the contracts at a day's start (only for a ranking by usage); the next
    day's event is pushed here, so the heap holds one."""
    refresh(st, now)
    nxt = (payload[0] + 1) * SECONDS_PER_DAY
    if nxt < st.inp.horizon_s:
        st.push(nxt, DAY, (payload[0] + 1,))


def evict_top(st: SimState, c: int, want: int, now: float) -> None:
    """Checkpoint and requeue the jobs (and drop the replicas) on domains about to leave."""
    cs = st.clusters[c]
    if cs.pooled:
        leaving = (cs.online - want) * cs.gpus_per_domain
        for j in reversed(list(st.running[c])):
            if cs.free_total >= leaving:
                break
            lifecycle.preempt(st, j, now, graceful=True)
        for key in range(len(st.rep_c)):  # replicas (not in `running`) go last, newest first
            if cs.free_total >= leaving:
                break
            autoscale.drop_pooled_replicas(st, key, c, leaving - cs.free_total, now)
        return
    victims: dict[int, None] = {}
    for d in range(want, cs.online):
        victims.update(dict.fromkeys(cs.jobs_on(d)))
    for j in victims:
        if j >= st.n:
            autoscale.drop_replicas(st, j - st.n, c, want, now)
        else:
            lifecycle.preempt(st, j, now, graceful=True)
