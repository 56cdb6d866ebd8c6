"""The discrete-event kernel: a heap of event times (each time's events kept in (priority, push)
order), lazy arrivals, one dispatch table from event kind to handler, the run loop and the result.

Events: END (a segment ran out its work), FAIL (a drawn failure), CAPACITY (a day's ramp or term
end), TICK (inference autoscaling), REPAIR (failed GPUs back) and DAY (a day's start, when the
provider ranking reads usage: commitment-first). Arrivals are read lazily from the
sorted job arrays, never all on the heap; starts happen in the scheduling cycle, run after each
instant's events when something changed. The mechanisms live in their own modules over one
SimState (lifecycle, cycle, failures, capacity, autoscale, fragmentation); the policies in
`sched/` only decide.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from gpufleet.sim import capacity, cycle, failures, fragmentation, lifecycle
from gpufleet.sim.autoscale import Autoscaler
from gpufleet.sim.record import ChangeLog
from gpufleet.sim.spec import SimInput
from gpufleet.sim.state import (
    CAPACITY,
    DAY,
    END,
    FAIL,
    FAILED,
    FINISHED,
    G_CAPACITY,
    G_FAILED,
    NGROUP,
    QUEUED,
    REPAIR,
    RUNNING,
    TICK,
    SimState,
)
from gpufleet.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

__all__ = [
    "FAILED",
    "FINISHED",
    "G_CAPACITY",
    "G_FAILED",
    "NGROUP",
    "QUEUED",
    "RUNNING",
    "Engine",
    "EngineResult",
    "Progress",
    "run_engine",
]

Progress = Callable[[float, str], None]
Handler = Callable[[tuple[int, ...], float], None]


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
    queue_log: ChangeLog  # group = class (jobs) and NCLASS + class (GPUs)
    inf_replicas: np.ndarray  # (services, ticks) replicas after each tick
    inf_gpus: np.ndarray
    inf_capacity: np.ndarray  # tokens/s the replicas can serve
    tick_s: np.ndarray
    failures: int
    cycles: int
    stranded_gpus: np.ndarray  # (clusters, steps): free GPUs no waiting job could use, at each step's start
    events: int = 0  # events handled (arrivals included)


class Engine:
    """One run: build with a SimInput and a numpy Generator, call run()."""

    def __init__(self, inp: SimInput, rng: np.random.Generator, progress: Progress | None = None) -> None:
        self.inp = inp
        self.progress = progress
        self.st = st = SimState(inp, rng)
        self.clusters = st.clusters  # the live state, for checks from outside
        self.alloc = st.alloc
        self.where = st.where
        tick = inp.policy.autoscale_s
        n_ticks = math.ceil(inp.horizon_s / tick) if inp.services else 0
        self.autoscaler = Autoscaler(st, n_ticks, tick)
        # the dispatch table: one handler per event kind
        self.handlers: list[Handler] = [lambda p, t: None] * 6
        self.handlers[END] = partial(lifecycle.finish, st)
        self.handlers[FAIL] = partial(failures.on_fail, st)
        self.handlers[CAPACITY] = partial(capacity.on_capacity, st)
        self.handlers[TICK] = self.autoscaler.on_tick
        self.handlers[REPAIR] = partial(failures.on_repair, st)
        self.handlers[DAY] = partial(capacity.on_day, st)

    def _schedule_fixed(self) -> None:
        """The events known up front: capacity changes (day 0 and every day the domains or the
        contract change) and the first autoscale tick."""
        st, fleet, horizon = self.st, self.inp.fleet, self.inp.horizon_s
        if fleet.days:
            changed = np.ones(fleet.days, dtype=bool)
            changed[1:] = np.any(
                (fleet.domains[:, 1:] != fleet.domains[:, :-1])
                | (fleet.contract[:, 1:] != fleet.contract[:, :-1]),
                axis=0,
            )
            for day in np.flatnonzero(changed):
                if day * SECONDS_PER_DAY < horizon:
                    st.push(day * SECONDS_PER_DAY, CAPACITY, (int(day),))
        if st.usage_book is not None and horizon > SECONDS_PER_DAY:  # a ranking by usage: each day
            st.push(SECONDS_PER_DAY, DAY, (1,))
        if self.autoscaler.n_ticks:
            st.push(0.0, TICK, (0,))

    def run(self) -> EngineResult:
        """The run loop, with the cyclic garbage collector paused: the engine makes no reference
        cycles worth collecting, and collections would rescan its millions of live objects."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if enabled:
                gc.enable()

    def _run(self) -> EngineResult:
        st = self.st
        horizon = self.inp.horizon_s
        self._schedule_fixed()
        handlers = self.handlers
        submit = st.submit
        n = st.n
        nxt = 0
        times = st.times
        events = 0
        report_every = horizon / 100.0
        next_report = 0.0
        step = st.pol.step_s
        n_steps = math.ceil(horizon / step)
        stranded = np.zeros((len(st.clusters), n_steps))
        next_step = 0
        while True:
            t_ev = times[0] if times else math.inf
            t_arr = submit[nxt] if nxt < n else math.inf
            t = t_ev if t_ev <= t_arr else t_arr
            if t >= horizon:
                break
            while next_step < n_steps and t > next_step * step:  # steps that began before t
                fragmentation.sample(st, stranded, next_step)
                next_step += 1
            if self.progress is not None and t >= next_report:
                self.progress(t / horizon, "simulating")
                next_report = t + report_every
            # 1. the instant's events, in (priority, push) order
            while times and times[0] == t:
                _, _, kind, p = st.pop(t)
                handlers[kind](p, t)
                events += 1
            # 2. the instant's arrivals
            while nxt < n and submit[nxt] == t:
                lifecycle.arrive(st, nxt, t)
                nxt += 1
                events += 1
            # 3. a cycle, if it can start something: a job arrived, or GPUs came free somewhere
            # that the smallest waiting job could use
            if st.dirty:
                if st.force or st.freed >= st.gate or st.quota_blocked:
                    cycle.cycle(st, t)
                st.dirty = False
                st.freed = 0
            if st.arrived:
                lifecycle.log_waiting(st, t)
            while next_step < n_steps and t >= next_step * step:  # a step that begins now: after its events
                fragmentation.sample(st, stranded, next_step)
                next_step += 1
        while next_step < n_steps:  # steps after the last event: the state holds to the horizon
            fragmentation.sample(st, stranded, next_step)
            next_step += 1
        if self.progress is not None:
            self.progress(1.0, "simulated")
        return self.result(horizon, stranded, events)

    def result(self, horizon: float, stranded: np.ndarray, events: int) -> EngineResult:
        st = self.st
        n = st.n
        state = np.array(st.state, dtype=np.int8)
        wait = np.frombuffer(st.wait, dtype=np.float64).copy()
        qs = np.frombuffer(st.queued_since, dtype=np.float64)
        queued = state == QUEUED
        wait[queued] += horizon - qs[queued]
        reason = [""] * n
        for j, why in st.reason.items():
            reason[j] = why
        a = self.autoscaler
        return EngineResult(
            state=state,
            first_start=np.frombuffer(st.first_start, dtype=np.float64).copy(),
            end=np.frombuffer(st.end, dtype=np.float64).copy(),
            cluster=np.array(st.where, dtype=np.int64),
            wait_s=wait,
            restarts=np.array(st.restarts, dtype=np.int64),
            preemptions=np.array(st.preempts, dtype=np.int64),
            lost_gpu_hours=np.array(st.lost, dtype=np.float64) / SECONDS_PER_HOUR,
            work_done_s=self.work_done(horizon),
            reason=reason,
            alloc_log=st.alloc_log,
            queue_log=st.queue_log,
            inf_replicas=a.replicas,
            inf_gpus=a.gpus,
            inf_capacity=a.capacity,
            tick_s=a.tick_s,
            failures=st.failures,
            cycles=st.cycles,
            stranded_gpus=stranded,
            events=events,
        )

    def work_done(self, horizon: float) -> np.ndarray:
        """Useful work per job up to the horizon (running jobs: up to now, assuming no more loss)."""
        st = self.st
        done = np.array(st.done, dtype=np.float64)
        for j in st.alloc:
            if j < st.n:
                done[j] += max(0.0, horizon - st.seg_start[j] - st.seg_restart[j])
        return done


def run_engine(inp: SimInput, rng: np.random.Generator, progress: Progress | None = None) -> EngineResult:
    """One run of the engine on its input."""
    return Engine(inp, rng, progress).run()
