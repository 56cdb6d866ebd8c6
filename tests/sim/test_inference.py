"""Inference autoscaling: replicas follow demand x headroom / throughput, placed only where allowed."""

from __future__ import annotations

import math

import numpy as np

from gpufleet.sim.engine import NGROUP
from gpufleet.sim.spec import PolicySpec, ServiceSpec
from gpufleet.sim.tables import build_tables
from sim.support import cluster, fleet, jobs, run, sim_input, workload


def _service(
    demand: list[float], allowed: tuple[int, ...], thr: list[float], headroom: float = 1.2
) -> ServiceSpec:
    return ServiceSpec(
        service="chat",
        region="us",
        team=0,
        cls=0,
        replica_gpus=8,
        headroom=headroom,
        demand_tokens_s=np.asarray(demand, dtype=np.float64),
        tokens_s_per_replica=np.asarray(thr, dtype=np.float64),
        allowed_clusters=allowed,
    )


def test_replicas_follow_demand_and_unserved_is_recorded() -> None:
    # two clusters of four 8-GPU domains; the service may only use cluster 1 (100 tokens/s a replica)
    cs = [cluster("x", 8, 8, 1, 4, "p0"), cluster("y", 8, 8, 1, 4, "p1")]
    demand = [50.0, 250.0, 250.0, 120.0, 500.0, 0.0]
    svc = _service(demand, (1,), [0.0, 100.0])
    pol = PolicySpec(failures=False, queue="priority", autoscale_s=3600.0, step_s=3600.0)
    inp = sim_input(fleet(cs, days=1), jobs([], [workload()]), pol, services=[svc], horizon_s=6 * 3600.0)
    eng, res = run(inp)
    want = [min(4, math.ceil(d * 1.2 / 100.0)) for d in demand]
    assert res.inf_replicas[0].tolist() == want
    _, g, _ = res.alloc_log.arrays()
    assert not ((g // NGROUP == 0) & (g % NGROUP == 0)).any()  # nothing on the cluster not allowed
    tables = build_tables(inp, res, ["serving"], ["w"])
    inf = tables.inference
    np.testing.assert_allclose(inf.demand_tokens_s, demand)
    np.testing.assert_allclose(inf.served_tokens_s, np.minimum(demand, np.array(want) * 100.0))
    assert inf.served_tokens_s.iloc[4] == 400.0  # 500 demanded, the 4 domains allowed serve 400
    np.testing.assert_allclose(
        tables.series.query("cluster == 'y'").allocated_inference_gpus, np.array(want) * 8.0
    )
    for c in eng.clusters:
        c.check()


def test_replicas_preempt_lower_classes() -> None:
    c = cluster("y", 8, 8, 1, 2, "p0")
    svc = _service([0.0, 150.0, 150.0], (0,), [100.0], headroom=1.0)
    rows = [(0.0, 20000.0, 8, 2), (0.0, 20000.0, 8, 3)]  # research and best-effort fill both domains
    pol = PolicySpec(failures=False, queue="priority", autoscale_s=3600.0, step_s=3600.0)
    inp = sim_input(
        fleet([c], days=1), jobs(rows, [workload(interval=700.0)]), pol, services=[svc], horizon_s=3 * 3600.0
    )
    _, res = run(inp)
    assert res.inf_replicas[0].tolist() == [0, 2, 2]
    assert res.preemptions.tolist() == [1, 1]
    # preempted at 3600 s with checkpoints every 700 s: each lost 3600 - 3500 = 100 s on 8 GPUs
    np.testing.assert_allclose(res.lost_gpu_hours, [8 * 100 / 3600.0] * 2)


def test_replicas_on_leaving_capacity_are_dropped_and_rescaled() -> None:
    from sim.test_invariants import check_run

    # 4 domains on day 0, 2 from day 1: replicas on the top two go; the next tick places what fits
    c = cluster("y", 8, 8, 1, 4, "p0")
    hours = 48
    svc = _service([350.0] * hours, (0,), [100.0], headroom=1.0)
    pol = PolicySpec(failures=False, queue="priority", autoscale_s=3600.0, step_s=3600.0)
    f = fleet([c], days=2, domains=[[4, 2]])
    inp = sim_input(f, jobs([], [workload()]), pol, services=[svc], horizon_s=hours * 3600.0)
    eng, res = run(inp)
    assert res.inf_replicas[0, :24].tolist() == [4] * 24
    assert res.inf_replicas[0, 24:].tolist() == [2] * 24
    np.testing.assert_allclose(res.inf_capacity[0, 24:], 200.0)
    check_run(inp, eng, res)


def test_strict_fifo_replicas_scale_down_and_leave_with_capacity() -> None:
    from sim.test_invariants import check_run

    # strict-FIFO mode tracks a pooled GPU count per cluster (no domains). A replica the size of a
    # domain must still scale down, and replicas must go when the capacity under them leaves.
    c = cluster("y", 8, 8, 1, 4, "p0")  # 32 GPUs: four 8-GPU replicas at most
    pol = PolicySpec(queue="strict-fifo", failures=False, autoscale_s=3600.0)
    svc = _service([400.0] * 3 + [100.0] * 21, (0,), [100.0], headroom=1.0)
    inp = sim_input(fleet([c], days=1), jobs([], [workload()]), pol, services=[svc])
    eng, res = run(inp)
    assert res.inf_replicas[0, :5].tolist() == [4, 4, 4, 1, 1]
    check_run(inp, eng, res)
    # 16 GPUs leave on day 1: two of the four replicas go with them, and the rest stay
    svc = _service([1000.0] * 48, (0,), [100.0], headroom=1.0)
    inp = sim_input(fleet([c], days=2, domains=[[4, 2]]), jobs([], [workload()]), pol, services=[svc])
    eng, res = run(inp)
    assert res.inf_replicas[0, :24].tolist() == [4] * 24 and res.inf_replicas[0, 24:].tolist() == [2] * 24
    assert eng.clusters[0].free_total == 0
    check_run(inp, eng, res)
