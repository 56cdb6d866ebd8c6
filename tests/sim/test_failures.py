"""Failures, checkpoints, restarts and preemption, measured from simulated events."""

from __future__ import annotations

import math

import numpy as np

from gpufleet.sim.engine import FINISHED
from gpufleet.sim.spec import PolicySpec
from gpufleet.workload.reliability import failure_rate_per_gpu_hour, restart_overhead_s
from sim.support import DAY, cluster, fleet, jobs, run, sim_input, workload


def test_llama3_interruptions_and_young_daly_goodput() -> None:
    """16,384 H100 for 54 days: ~419 interruptions; goodput within 2 points of Young/Daly."""
    gpus, days, cost = 16384, 54, 60.0
    rate = failure_rate_per_gpu_hour("h100")
    # H100 nodes of 8 GPUs, one node per domain; spare nodes stand in for those under repair
    c = cluster("h100", 8, 8, blocks=1, domains_per_block=gpus // 8 + 64, rate=rate)
    f = fleet([c], days=days)
    wl = workload(cost=cost, interval=None, restart=None)
    inp = sim_input(
        f, jobs([(0.0, 400 * DAY, gpus, 1)], [wl]), PolicySpec(queue="priority", repair_s=4 * 3600.0)
    )
    _, res = run(inp, seed=3)
    expected = days * 24 * gpus * rate
    assert abs(expected - 419) < 1  # the calibration itself
    assert abs(res.failures - 419) <= 3 * math.sqrt(419)
    assert res.restarts[0] == res.failures
    # measured goodput: useful compute (progress less the checkpoint stalls) over wall time
    m = 3600.0 / (gpus * rate)
    tau = math.sqrt(2 * cost * m)
    r = restart_overhead_s(gpus)
    progress = float(res.work_done_s[0])
    measured = progress * (tau / (tau + cost)) / (days * DAY)
    young_daly = 1 - cost / tau - (tau / 2 + r) / m
    assert abs(measured - young_daly) < 0.02, (measured, young_daly)
    # lost GPU-hours are the wall time not spent progressing, times the GPUs
    lost = res.lost_gpu_hours[0]
    np.testing.assert_allclose(lost, gpus * (days * DAY - progress) / 3600.0, rtol=0.02)


def test_preemption_costs_exactly_the_work_since_the_last_checkpoint() -> None:
    tau, restart = 1000.0, 50.0
    c = cluster("c", 8, 8, blocks=1, domains_per_block=1)
    f = fleet([c], days=1)
    low = workload(interval=tau, restart=restart, name="research")
    rows = [(0.0, 5000.0, 8, 2), (2500.0, 300.0, 8, 1)]  # research job; a training job preempts it
    inp = sim_input(f, jobs(rows, [low]), PolicySpec(failures=False, queue="priority", preemption=True))
    _, res = run(inp)
    assert res.preemptions[0] == 1 and res.preemptions[1] == 0
    assert res.first_start[1] == 2500.0
    # checkpoints at 1000 and 2000: 500 s of work lost, then a 50 s restart when it resumes at 2800+50
    np.testing.assert_allclose(res.lost_gpu_hours[0], 8 * (500.0 + restart) / 3600.0)
    assert res.state[0] == FINISHED
    np.testing.assert_allclose(res.end[0], 2500.0 + 300.0 + restart + (5000.0 - 2000.0))
    np.testing.assert_allclose(res.wait_s[0], 300.0)


def test_no_preemption_when_disabled() -> None:
    c = cluster("c", 8, 8, blocks=1, domains_per_block=1)
    inp = sim_input(
        fleet([c], days=1),
        jobs([(0.0, 5000.0, 8, 2), (2500.0, 300.0, 8, 1)], [workload(interval=1000.0)]),
        PolicySpec(failures=False, queue="priority", preemption=False),
    )
    _, res = run(inp)
    assert res.preemptions.sum() == 0 and res.first_start[1] == 5000.0


def test_a_failed_node_is_replaced_only_inside_the_level_the_job_requires() -> None:
    from gpufleet.sim.engine import Engine
    from gpufleet.sim.state import END, FAIL

    # 8-GPU domains of two 4-GPU nodes, three domains per block, two blocks; frequent failures. After
    # every end and failure a running job must still sit in one domain (require=domain) or one block.
    c = cluster("c", 8, 4, blocks=2, domains_per_block=3, rate=5e-3)
    wls = [workload(require="domain", name="dom"), workload(require="block", name="blk")]
    rows = [(0.0, 2 * DAY, 8, 2), (0.0, 2 * DAY, 4, 2), (0.0, 2 * DAY, 20, 2), (0.0, 2 * DAY, 4, 2)]
    inp = sim_input(
        fleet([c], days=3),
        jobs(rows, wls, wl_index=[0, 0, 1, 0]),
        PolicySpec(queue="priority", preemption=False, repair_s=6 * 3600.0),
    )
    eng = Engine(inp, np.random.default_rng(5))
    st = eng.st
    checked = []

    def checking(handler):  # type: ignore[no-untyped-def]
        def run(payload: tuple[int, ...], now: float) -> None:
            handler(payload, now)
            checked.append(now)
            for i, p in st.alloc.items():
                if i < st.n:
                    level = 1 if st.wl[i] == 0 else 3  # domains per unit the job must stay in
                    units = {d // level for d in p.domains()}
                    assert len(units) == 1, (i, p.whole, p.parts)
                    assert p.gpus(8) == st.gpus[i]

        return run

    for kind in (END, FAIL):  # the dispatch table is the kernel's one seam
        eng.handlers[kind] = checking(eng.handlers[kind])
    res = eng.run()
    assert len(checked) >= res.failures > 0
    assert res.failures >= 5  # the replacement path ran
    for cs in eng.clusters:
        cs.check()
