"""Scheduling policies on hand-built cases: EASY backfill, best fit vs spreading, strict FIFO vs reference."""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd
import pytest
from helpers import SHARED_DATA
from hypothesis import given, settings
from hypothesis import strategies as st
from sim.support import DAY, cluster, fleet, jobs, run, sim_input, workload

from gpufleet.sim.spec import PolicySpec

DATA = SHARED_DATA  # ../shared/data beside the repository


def _easy_case(backfill: str):  # type: ignore[no-untyped-def]
    c = cluster("c", 8, 8, blocks=1, domains_per_block=4)  # 32 GPUs in four 8-GPU domains
    rows = [
        (0.0, 100.0, 24, 2),  # A holds three domains until 100
        (1.0, 50.0, 32, 2),  # H, the head: needs all 32, reserved at 100
        (2.0, 50.0, 8, 2),  # B fits now and ends at 52 < 100: backfilled
        (60.0, 200.0, 8, 2),  # C fits now (B is gone) but would end at 260 and delay H: refused
    ]
    pol = PolicySpec(failures=False, queue="priority", preemption=False, backfill=backfill)
    return run(sim_input(fleet([c], days=1), jobs(rows, [workload()]), pol))[1]


def test_easy_backfills_only_what_does_not_delay_the_head() -> None:
    res = _easy_case("easy")
    assert res.first_start[0] == 0.0
    assert res.first_start[2] == 2.0  # B backfilled
    assert res.first_start[1] == 100.0  # H starts at its reservation, not delayed
    assert res.first_start[3] == 150.0  # C was refused at 60; it runs after H


def test_without_backfill_the_head_blocks_everything() -> None:
    res = _easy_case("none")
    assert res.first_start[1] == 100.0
    assert res.first_start[2] == 150.0 and res.first_start[3] == 150.0


def _fit_case(placement: str):  # type: ignore[no-untyped-def]
    c = cluster("c", 8, 8, blocks=1, domains_per_block=2)
    rows = [
        (0.0, 5.0, 8, 2),  # P takes domain 0 until 5
        (1.0, 1000.0, 6, 2),  # X goes to domain 1, leaving 2 free there
        (6.0, 1000.0, 2, 2),  # Y: best fit puts it beside X; first fit spreads it onto domain 0
        (7.0, 10.0, 8, 2),  # Z needs a whole domain
    ]
    pol = PolicySpec(failures=False, queue="priority", preemption=False, placement=placement)
    return run(sim_input(fleet([c], days=1), jobs(rows, [workload()]), pol))


def test_best_fit_into_one_domain_beats_spreading() -> None:
    _, best = _fit_case("best-fit")
    _, first = _fit_case("first-fit")
    assert best.first_start[3] == 7.0  # a whole domain was left whole
    assert first.first_start[3] == 1001.0  # spreading fragmented both domains: Z waits for X
    assert best.wait_s.sum() < first.wait_s.sum()


def reference_fifo(submit: np.ndarray, duration: np.ndarray, gpus: np.ndarray, capacity: int) -> np.ndarray:
    """Strict FIFO on a pool of GPUs, written independently of the engine: job i starts when it has
    arrived, job i-1 has started, and enough GPUs are free."""
    running: list[tuple[float, int]] = []  # (end, gpus)
    free = capacity
    start = np.zeros(len(submit))
    prev = 0.0
    for i in range(len(submit)):
        t = max(float(submit[i]), prev)
        while running and running[0][0] <= t:
            free += heapq.heappop(running)[1]
        while free < gpus[i]:
            end, g = heapq.heappop(running)
            t = max(t, end)
            free += g
            while running and running[0][0] <= t:
                free += heapq.heappop(running)[1]
        start[i] = t
        free -= int(gpus[i])
        heapq.heappush(running, (t + float(duration[i]), int(gpus[i])))
        prev = t
    return start


def test_strict_fifo_matches_a_reference_on_a_philly_slice() -> None:
    path = DATA / "traces" / "philly" / "philly.csv"
    if not path.exists():
        pytest.skip(f"Philly trace not found at {path}")
    df = pd.read_csv(path, nrows=6000)
    t = pd.to_datetime(df["timestamp"])
    df = df.assign(submit=(t - t.min()).dt.total_seconds()).sort_values("submit", kind="stable")
    capacity = 128
    df = df[(df.num_gpus >= 1) & (df.num_gpus <= capacity) & (df.duration > 0)].head(3000)
    submit = df.submit.to_numpy(float)
    dur = df.duration.to_numpy(float)
    g = df.num_gpus.to_numpy(int)
    expected = reference_fifo(submit, dur, g, capacity)
    days = int(max(expected + dur) // 86400) + 2
    c = cluster("philly", 8, 8, blocks=1, domains_per_block=capacity // 8)
    rows = list(zip(submit, dur, g, [2] * len(g), strict=True))
    pol = PolicySpec(queue="strict-fifo")
    _, res = run(sim_input(fleet([c], days=days), jobs(rows, [workload()]), pol))
    np.testing.assert_array_equal(res.first_start, expected)
    assert (expected > submit).sum() > 100  # the slice does queue: the comparison is not trivial


def test_stranded_gpus_count_free_gpus_no_waiting_job_fits() -> None:
    from gpufleet.fleet.state import ClusterState
    from gpufleet.sched.placement import place, stranded_gpus

    cs = ClusterState(0, "c", "p", "h100", 8, 8, 1, 3)
    cs.add_domains(3)
    for gpus in (5, 7):  # domains left with 3 and 1 free GPUs; one domain whole
        p = place(cs, gpus, None)
        assert p is not None
        cs.take_all(p, gpus)
    assert stranded_gpus(cs, 4) == 3 + 1  # a 4-GPU job fits in neither partly used domain
    assert stranded_gpus(cs, 2) == 1
    assert stranded_gpus(cs, 16) == 4  # a 2-domain job needs whole domains
    assert stranded_gpus(cs, 1 << 62) == 0  # nothing waits


def test_preemption_for_a_block_job_clears_domains_in_one_block() -> None:
    # two blocks of three 8-GPU domains; five best-effort jobs hold one domain each, so one domain is
    # free. A training job requiring one block (24 GPUs) arrives: the victims must all sit in the block
    # of the free domain (two jobs), else the job still cannot start and the victims lose work for nothing.
    c = cluster("c", 8, 8, blocks=2, domains_per_block=3)
    wls = [workload(interval=1000.0), workload(require="block", name="blk")]
    rows = [(0.0, 5000.0, 8, 3)] * 5 + [(1500.0, 100.0, 24, 1)]
    inp = sim_input(fleet([c], days=1), jobs(rows, wls, wl_index=[0] * 5 + [1]))
    eng, res = run(inp)
    assert res.first_start[5] == 1500.0 and res.end[5] == 1600.0
    assert res.preemptions.sum() == 2
    # each victim loses the 500 s since its checkpoint at 1000 s on its 8 GPUs, then finishes later
    hit = res.preemptions == 1
    np.testing.assert_allclose(res.lost_gpu_hours[hit], 8 * 500 / 3600)
    np.testing.assert_allclose(res.end[hit], 1600.0 + 5000.0 - 1000.0)
    for cs in eng.clusters:
        cs.check()


def test_stranded_gpus_are_sampled_after_a_step_starts_and_to_the_horizon() -> None:
    # two 8-GPU domains; a 4-GPU job leaves 4 GPUs of its domain that the waiting 16-GPU gang cannot
    # use. Nothing happens after t = 0, yet every daily step shows the 4 stranded GPUs.
    c = cluster("c", 8, 8, blocks=1, domains_per_block=2)
    pol = PolicySpec(failures=False, queue="priority", preemption=False)
    rows = [(0.0, 3 * DAY, 4, 2), (0.0, DAY, 16, 2)]
    _, res = run(sim_input(fleet([c], days=3), jobs(rows), pol))
    assert res.stranded_gpus.tolist() == [[4.0, 4.0, 4.0]]
    # the capacity leaves on day 1 (both jobs wait) and returns on day 2 (the gang, first in FIFO order,
    # takes both domains): day 1 starts with no capacity, so nothing can be stranded then
    _, res = run(sim_input(fleet([c], days=3, domains=[[2, 0, 2]]), jobs(rows), pol))
    assert res.stranded_gpus.tolist() == [[4.0, 0.0, 0.0]]
    assert res.first_start[1] == 2 * DAY


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 20), max_size=10),
    gpus=st.integers(9, 24),
    policy=st.sampled_from(["best-fit", "first-fit"]),
)
def test_a_job_that_requires_a_block_gets_all_its_gpus_in_one_block(
    sizes: list[int], gpus: int, policy: str
) -> None:
    from gpufleet.fleet.state import ClusterState
    from gpufleet.sched.placement import blocks_used, place

    cs = ClusterState(0, "c", "p", "h100", 8, 8, 3, 3)  # three blocks of three 8-GPU domains
    cs.add_domains(9)
    for i, n in enumerate(sizes):  # earlier jobs, placed anywhere
        p = place(cs, n, None, policy)
        if p is not None:
            cs.take_all(p, i)
    p = place(cs, gpus, "block", policy)
    if p is None:
        return
    assert blocks_used(cs, p) == 1
    assert p.gpus(8) == gpus
    cs.take_all(p, 99)
    cs.check()


def test_block_job_with_a_remainder_stays_in_its_block() -> None:
    # two blocks of two 8-GPU domains: 4 GPUs on domain 0, 8 on domain 1 (block 0 has no whole domain
    # left); a 12-GPU job that requires a block must take both GPUs sets in block 1, not 4 on domain 0
    c = cluster("c", 8, 8, blocks=2, domains_per_block=2)
    wls = [workload(), workload(require="block", name="blk")]
    rows = [(0.0, 1e6, 4, 2), (1.0, 1e6, 8, 2), (2.0, 1e6, 12, 2)]
    pol = PolicySpec(failures=False, queue="priority", preemption=False)
    eng, res = run(sim_input(fleet([c], days=1), jobs(rows, wls, wl_index=[0, 0, 1]), pol))
    assert res.first_start[2] == 2.0
    assert {d // 2 for d in eng.alloc[2].domains()} == {1}


def test_easy_never_lets_a_backfill_take_the_domains_the_head_needs() -> None:
    """Spare GPUs counted at the shadow time may sit where the head cannot use them (topology)."""
    c = cluster("c", 8, 8, blocks=1, domains_per_block=4)  # four 8-GPU domains
    rows = [
        (0.0, 100.0, 8, 2),  # A: a whole domain until 100
        (0.1, 5000.0, 6, 2),  # X1 and X2 leave 2 GPUs free in two domains each
        (0.2, 5000.0, 6, 2),
        (1.0, 50.0, 16, 2),  # H, the head: two whole domains; by count it could start at 100
        (2.0, 5000.0, 4, 2),  # L fits now in the last whole domain, and would take it until 5002
    ]
    pol = PolicySpec(failures=False, queue="priority", preemption=False, backfill="easy")
    res = run(sim_input(fleet([c], days=1), jobs(rows, [workload()]), pol))[1]
    assert res.first_start[3] == 100.0, "the head starts when A ends, not after the backfilled job"
    assert res.first_start[4] >= 150.0  # L waits for the head to finish
