"""DESIGN.md's run invariants on hand-built and random runs: conservation, no job lost, gangs stay whole."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpufleet.sim.engine import FAILED, FINISHED, G_CAPACITY, NGROUP, QUEUED, RUNNING
from gpufleet.sim.spec import PolicySpec
from gpufleet.sim.tables import build_tables
from gpufleet.units import NCLASS
from sim.support import DAY, cluster, fleet, jobs, run, sim_input, workload


def check_run(inp, eng, res) -> None:  # type: ignore[no-untyped-def]
    """Every invariant we can check from outside the engine."""
    n = len(inp.jobs)
    work = inp.jobs.work_s
    # no job lost: each job finished, or is queued / running at the horizon
    assert set(np.unique(res.state)).issubset({FINISHED, QUEUED, RUNNING, 4})
    fin = res.state == FINISHED
    # a finished job ran at least its work, started no earlier than submitted
    assert np.all(res.end[fin] - res.first_start[fin] >= work[fin] - 1e-6)
    started = ~np.isnan(res.first_start)
    assert np.all(res.first_start[started] >= inp.jobs.submit_s[started] - 1e-9)
    assert np.all(res.wait_s >= -1e-9)
    # the live state is self-consistent and nothing is still allocated to a finished job
    for cs in eng.clusters:
        cs.check()
    for j in eng.alloc:
        if j < n:
            assert res.state[j] == RUNNING
            gpd = eng.clusters[eng.where[j]].gpus_per_domain
            assert eng.alloc[j].gpus(gpd) == inp.jobs.gpus[j]  # a gang holds all its GPUs
    # EASY's sorted ends, where kept, are exactly the running jobs by expected end
    st = eng.st
    for c, ends in enumerate(st.ends):
        if ends is not None:
            assert ends == sorted((st.exp_end[j], j, st.gpus[j]) for j in st.running[c] if j < n)
    # the queue log ends at the jobs still queued, per class (a job that arrived and started at one
    # instant left no record; one still waiting after its arrival's cycle did)
    _, qg, qd = res.queue_log.arrays()
    for k in range(NCLASS):
        waiting = (res.state == QUEUED) & (inp.jobs.cls == k)
        assert qd[qg == k].sum() == waiting.sum()
        assert qd[qg == NCLASS + k].sum() == inp.jobs.gpus[waiting].sum()
    # never more GPUs allocated than a cluster has, at any instant
    t, grp, d = res.alloc_log.arrays()
    nc = len(inp.fleet.clusters)
    for c in range(nc):
        sel = (grp // NGROUP) == c
        tc, gc, dc = t[sel], grp[sel] % NGROUP, d[sel]
        cap = np.cumsum(np.where(gc == G_CAPACITY, dc, 0.0))
        used = np.cumsum(np.where(gc != G_CAPACITY, dc, 0.0))
        if len(tc) == 0:
            continue
        last = np.r_[tc[1:] != tc[:-1], True]  # state after all changes at one instant
        assert np.all(used[last] <= cap[last] + 1e-9)
        assert np.all(used[last] >= -1e-9)
    # conservation in the tables: allocated + idle + failed = capacity, per cluster and step
    tables = build_tables(inp, res, [t.name for t in inp.teams], [w.name for w in inp.jobs.workloads])
    s = tables.series
    alloc = s[[c for c in s.columns if c.startswith("allocated_")]].sum(axis=1)
    np.testing.assert_allclose(alloc + s.idle_gpus + s.failed_gpus, s.capacity_gpus, atol=1e-6)
    assert (s.idle_gpus >= -1e-6).all()
    # fragmentation: stranded GPUs are free GPUs, so never more than the capacity
    assert ((s.stranded_gpus >= 0) & (s.stranded_gpus <= s.capacity_gpus + 1e-6)).all()
    # usage adds up to the series' GPU-hours
    series_hours = (alloc * inp.policy.step_s / 3600.0).sum()
    np.testing.assert_allclose(tables.usage.gpu_hours_used.sum(), series_hours, rtol=1e-9, atol=1e-6)
    assert len(tables.jobs) == n
    check_log_against_series(inp, res, s)
    check_jobs_against_usage(inp, eng, res, tables.usage)


def _log_integral(t: np.ndarray, d: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """The integral of a level that changes by d[i] at t[i], from 0 to each bound: sum of
    d[i] * (B - t[i]) over t[i] < B (each change counts from its time on). Written apart from
    sim/record.integrate, which the tables use."""
    order = np.argsort(t, kind="stable")
    t, d = t[order], d[order]
    cd, ctd = np.r_[0.0, np.cumsum(d)], np.r_[0.0, np.cumsum(d * t)]
    k = np.searchsorted(t, bounds, side="left")
    return bounds * cd[k] - ctd[k]


def check_log_against_series(inp, res, series) -> None:  # type: ignore[no-untyped-def]
    """The allocation change log, integrated here per step, gives the series' allocated GPUs."""
    from gpufleet.sim.tables import step_bounds

    bounds = step_bounds(inp.horizon_s, inp.policy.step_s)
    t, grp, d = res.alloc_log.arrays()
    cols = ["allocated_inference_gpus", "allocated_training_gpus", "allocated_research_gpus"]
    cols.append("allocated_best_effort_gpus")
    m = len(bounds) - 1
    for c in range(len(inp.fleet.clusters)):
        rows = series.iloc[c * m : (c + 1) * m]
        for k, col in enumerate(cols):
            sel = grp == c * NGROUP + k
            per_step = np.diff(_log_integral(t[sel], d[sel], bounds)) / np.diff(bounds)
            np.testing.assert_allclose(rows[col].to_numpy(), per_step, rtol=1e-9, atol=1e-6)


def check_jobs_against_usage(inp, eng, res, usage) -> None:  # type: ignore[no-untyped-def]
    """The jobs' own GPU-hours (work done plus work lost plus restart time, per job) add up to the
    usage table's hours per class: two records kept apart in the engine (per-job arrays and the
    allocation log), met here. Only where every cluster has a contract every day (usage counts
    contracted hours) and for classes without inference replicas."""
    if (inp.fleet.contract < 0).any():
        return
    st = eng.st
    horizon = inp.horizon_s
    held = np.asarray(inp.jobs.gpus, dtype=np.float64) * res.work_done_s + res.lost_gpu_hours * 3600.0
    for j in st.alloc:
        if j < len(inp.jobs):  # the restart time of a segment running at the horizon
            held[j] += st.gpus[j] * min(horizon - st.seg_start[j], st.seg_restart[j])
    service_classes = {s.cls for s in inp.services}
    names = ["inference", "training", "research", "best_effort"]
    for k, name in enumerate(names):
        if k in service_classes:
            continue
        jobs_h = held[np.asarray(inp.jobs.cls) == k].sum() / 3600.0
        np.testing.assert_allclose(usage[f"gpu_hours_used_{name}"].sum(), jobs_h, rtol=1e-9, atol=1e-6)


def test_gang_waits_for_whole_domains_and_fifo_order() -> None:
    f = fleet([cluster(domains_per_block=2, blocks=2)], days=2)
    j = jobs([(0, 100, 8, 2), (0, 200, 16, 2), (10, 50, 4, 2), (20, 30, 32, 2)])
    inp = sim_input(f, j)
    eng, res = run(inp)
    check_run(inp, eng, res)
    # the 32-GPU gang needs all four domains: it starts when the 16-GPU job ends at 200
    assert res.first_start[3] == 200.0
    assert list(res.first_start[:3]) == [0.0, 0.0, 10.0]


def test_higher_class_starts_first() -> None:
    f = fleet([cluster(domains_per_block=1, blocks=1)], days=1)
    # one 8-GPU domain; a long job holds it; then best-effort and training jobs wait for it
    j = jobs([(0, 100, 8, 2), (10, 50, 8, 3), (20, 50, 8, 1)])
    inp = sim_input(f, j, PolicySpec(failures=False, queue="priority", preemption=False))
    eng, res = run(inp)
    check_run(inp, eng, res)
    assert res.first_start[2] == 100.0  # the training job (class 1) goes before the earlier best-effort
    assert res.first_start[1] == 150.0


def test_plain_fifo_starts_the_earlier_job_whatever_its_class() -> None:
    f = fleet([cluster(domains_per_block=1, blocks=1)], days=1)
    j = jobs([(0, 100, 8, 2), (10, 50, 8, 3), (20, 50, 8, 1)])  # as above, one queue in submit order
    inp = sim_input(f, j, PolicySpec(queue="fifo", failures=False, preemption=False))
    eng, res = run(inp)
    check_run(inp, eng, res)
    assert res.first_start[1] == 100.0  # the best-effort job was submitted first
    assert res.first_start[2] == 150.0


def test_capacity_leaving_requeues_with_a_checkpoint() -> None:
    # 2 domains on day 0, 1 domain from day 1: the job on the top domain is checkpointed and requeued
    f = fleet([cluster(domains_per_block=2, blocks=1)], days=3, domains=[[2, 1, 1]])
    j = jobs([(0, 1.5 * DAY, 8, 2), (1, 1.5 * DAY, 8, 2)])
    inp = sim_input(f, j)
    eng, res = run(inp)
    check_run(inp, eng, res)
    assert res.preemptions.sum() == 1
    assert res.lost_gpu_hours.sum() == 0.0  # graceful: checkpointed as the capacity left
    assert res.state[0] == FINISHED and res.end[0] == 1.5 * DAY
    # the evicted job resumes when the other finishes and keeps its progress (1 day - 1 s done)
    assert res.state[1] == FINISHED
    assert abs(res.end[1] - (1.5 * DAY + (1.5 * DAY - (DAY - 1)))) < 1e-6


def test_a_job_bigger_than_its_required_level_fails_and_blocks_nothing() -> None:
    # 8-GPU domains; a 16-GPU training job that requires one domain can never be placed. It must
    # fail at arrival, not sit at the head of the queue preempting the best-effort job below it and
    # reserving the cluster for the whole run (the best-effort job would then never restart).
    wls = [workload(), workload(require="domain", name="dom")]
    j = jobs([(0, 5000, 32, 3), (100, 100, 16, 1), (200, 100, 8, 3)], workloads=wls, wl_index=[0, 1, 0])
    inp = sim_input(fleet([cluster()], days=1), j, PolicySpec(failures=False, queue="priority"))
    eng, res = run(inp)
    check_run(inp, eng, res)
    assert res.state[1] == FAILED and "domain" in res.reason[1] and np.isnan(res.first_start[1])
    assert res.preemptions[0] == 0 and res.state[0] == FINISHED and res.end[0] == 5000.0
    # the later 8-GPU best-effort job waits for the first to end (it fills the cluster)
    assert res.first_start[2] == 5000.0
    # a job of one workload that requires a block gets at most one block's GPUs (2 domains here)
    wls = [workload(require="block", name="blk")]
    j = jobs([(0, 100, 24, 2), (0, 100, 16, 2)], workloads=wls)
    inp = sim_input(fleet([cluster(blocks=2, domains_per_block=2)], days=1), j)
    eng, res = run(inp)
    check_run(inp, eng, res)
    assert res.state[0] == FAILED and res.state[1] == FINISHED and res.first_start[1] == 0.0


job_rows = st.lists(
    st.tuples(
        st.floats(0, 3 * DAY, allow_nan=False),
        st.floats(1, DAY, allow_nan=False),
        st.sampled_from([1, 2, 4, 8, 12, 16, 24, 40]),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=job_rows,
    ramp=st.lists(st.integers(0, 6), min_size=4, max_size=4),
    failures=st.booleans(),
    placement=st.sampled_from(["best-fit", "first-fit"]),
    backfill=st.sampled_from(["easy", "none"]),
    queue=st.sampled_from(["priority", "priority", "strict-fifo"]),
    require=st.sampled_from([None, "block", "domain"]),
    seed=st.integers(0, 2**16),
)
def test_invariants_hold_on_random_runs(
    rows, ramp, failures, placement, backfill, queue, require, seed
) -> None:  # type: ignore[no-untyped-def]
    clusters = [cluster("a", 8, 4, 2, 3, "p0", rate=2e-3), cluster("b", 8, 8, 1, 6, "p1", rate=1e-3)]
    f = fleet(clusters, days=4, domains=[ramp, [6, 3, 6, 2]])
    wl = workload(clusters=(0, 1), require=require, cost=30.0, restart=None)
    inp = sim_input(
        f,
        jobs(rows, [wl]),
        PolicySpec(
            queue=queue,
            placement=placement,
            backfill=backfill,
            failures=failures,
            repair_s=3600.0,
        ),
    )
    eng, res = run(inp, seed)
    check_run(inp, eng, res)


def test_same_seed_same_tables() -> None:
    clusters = [cluster("a", 8, 4, 2, 3, "p0", rate=5e-3)]
    rng = np.random.default_rng(1)
    rows = [
        (float(rng.uniform(0, 2 * DAY)), float(rng.uniform(60, DAY)), int(rng.choice([1, 4, 8, 16])), 2)
        for _ in range(80)
    ]
    f = fleet(clusters, days=3)
    inp = sim_input(f, jobs(rows, [workload(cost=30.0, restart=None)]), PolicySpec(queue="priority"))
    a = build_tables(inp, run(inp, 7)[1], ["t"], ["w"])
    b = build_tables(inp, run(inp, 7)[1], ["t"], ["w"])
    for (name, x), (_, y) in zip(a.items(), b.items(), strict=True):
        assert x.equals(y), name
    assert run(inp, 7)[1].failures > 0


def test_a_job_ending_as_its_capacity_leaves_finishes() -> None:
    # two domains, then one from day 1: the job on the top domain ends exactly at day 1. It finished;
    # it must not be evicted at that same instant, requeued and counted as preempted.
    f = fleet([cluster(domains_per_block=2, blocks=1)], days=3, domains=[[2, 1, 1]])
    inp = sim_input(f, jobs([(0.0, 2 * DAY, 8, 2), (0.0, DAY, 8, 2)]))
    eng, res = run(inp)
    check_run(inp, eng, res)
    assert res.state.tolist() == [FINISHED, FINISHED]
    assert res.end.tolist() == [2 * DAY, DAY]
    assert res.preemptions.sum() == 0


def test_easy_keeps_the_sorted_ends_only_while_reservations_read_them() -> None:
    """A head job blocked early makes reservations (the cluster's ends are sorted and kept); once
    nothing waits, hundreds of starts and ends pass unread and the list is dropped; a head blocked
    later rebuilds it from the running jobs. check_run compares it with the running jobs."""
    clusters = [cluster("a", 8, 8, 1, 4)]  # 32 GPUs
    rows = [(0.0, 10 * 3600.0, 24, 2), (1.0, 3600.0, 32, 2)]  # the 32-GPU head waits 10 hours
    rows += [(2.0 + 60.0 * i, 30.0, 1, 2) for i in range(100)]  # backfilled while it waits
    rows += [(11 * 3600.0 + 60.0 * i, 30.0, 1, 2) for i in range(400)]  # then none waits
    rows += [(DAY, 7200.0, 1, 2), (DAY + 600.0, 3600.0, 32, 2)]  # a head blocked again
    rows += [(DAY + 900.0, 600.0, 1, 2)]  # backfilled against the rebuilt list
    inp = sim_input(fleet(clusters, days=2), jobs(rows, [workload()]), PolicySpec(queue="priority"))
    eng, res = run(inp, 1)
    check_run(inp, eng, res)
    assert (res.state == FINISHED).all()
    assert res.first_start[1] == 10 * 3600.0  # the head started when the 24-GPU job ended
    late_head = len(rows) - 2  # sorted by submit: the second-last row
    assert res.first_start[late_head] == DAY + 7200.0  # when the 2-hour job ended
    assert res.first_start[late_head + 1] == DAY + 900.0  # ends before the head's shadow time


def test_the_sorted_ends_are_dropped_when_unread() -> None:
    clusters = [cluster("a", 8, 8, 1, 4)]
    rows = [(0.0, 10 * 3600.0, 24, 2), (1.0, 3600.0, 32, 2)]
    rows += [(11 * 3600.0 + 60.0 * i, 30.0, 1, 2) for i in range(400)]  # after the head: none waits
    inp = sim_input(fleet(clusters, days=2), jobs(rows, [workload()]), PolicySpec(queue="priority"))
    eng, res = run(inp, 1)
    check_run(inp, eng, res)
    assert eng.st.ends[0] is None  # 800 updates with no reservation reading the list
    assert eng.st.ends_of(0) == []  # rebuilt on demand: nothing runs at the horizon
