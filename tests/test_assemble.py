"""Scenario -> engine input: the topology a workload asks for reaches the engine, and changes placement."""

from __future__ import annotations

import numpy as np
from helpers import SMALL
from sim.support import cluster, fleet, jobs, run, sim_input, workload

from gpufleet.assemble import prepare
from gpufleet.scenario import load_scenario
from gpufleet.sim.spec import PolicySpec


def test_topology_prefer_reaches_the_workload_spec() -> None:
    loaded = load_scenario(SMALL)
    sc = loaded.scenario.model_copy(deep=True)
    by_name = {w.item.name: w.item for w in sc.workloads}
    by_name["research-jobs"].topology.prefer = "cluster"  # type: ignore[union-attr]
    inp, _, names, _ = prepare(sc, loaded.catalog, 1, {})
    specs = dict(zip(names, inp.jobs.workloads, strict=True))
    assert specs["research-jobs"].prefer == "cluster"
    assert specs["model-a"].prefer == "block"  # a training run's default


def test_prefer_cluster_fills_a_fragmented_block_and_leaves_a_whole_one_for_a_block_job() -> None:
    """Two blocks of four 8-GPU domains. Three 6-GPU jobs fragment block 0 (one whole domain left);
    then a 16-GPU job, and a 24-GPU job that requires one block (three whole domains). Preferring a
    block, the 16-GPU job takes two domains of block 1 and the block job waits for it to end;
    preferring nothing, it takes block 0's last whole domain and one of block 1's, and the block job
    starts at once in block 1's other three."""
    c = cluster("c", 8, 8, blocks=2, domains_per_block=4)
    starts = {}
    for prefer in ("block", "cluster"):
        wls = [workload(prefer=prefer), workload(require="block", name="blk")]
        rows = [(0.0, 1e6, 6, 2), (0.1, 1e6, 6, 2), (0.2, 1e6, 6, 2), (1.0, 100.0, 16, 2), (2.0, 50.0, 24, 2)]
        pol = PolicySpec(failures=False, queue="priority", preemption=False)
        _, res = run(sim_input(fleet([c], days=1), jobs(rows, wls, wl_index=[0, 0, 0, 0, 1]), pol))
        starts[prefer] = res.first_start
    assert starts["block"][3] == starts["cluster"][3] == 1.0
    assert starts["block"][4] == 101.0  # waits for the 16-GPU job's two domains in block 1
    assert starts["cluster"][4] == 2.0  # block 1 kept three whole domains
    assert np.isfinite(starts["cluster"]).all()
