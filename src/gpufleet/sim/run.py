"""The engine's entry point: simulate(scenario, catalog, seed, traces) -> RunTables.

One numpy Generator per run from SeedSequence(seed); children are spawned per purpose (workload
generation, the engine's failure draws), so adding a stream never changes another's draws.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from gpufleet.catalog import Catalog
from gpufleet.fleet.capacity import build_capacity
from gpufleet.scenario.schema import Scenario
from gpufleet.sim.build import build_input
from gpufleet.sim.engine import Engine, EngineResult
from gpufleet.sim.spec import SimInput
from gpufleet.sim.tables import build_tables
from gpufleet.tables import RunTables
from gpufleet.workload.jobs import JobBatch

Progress = Callable[[float, str], None]


def prepare(
    scenario: Scenario, catalog: Catalog, seed: int, traces: Mapping[str, JobBatch]
) -> tuple[SimInput, list[str], list[str], np.random.Generator]:
    """The engine's input and its generator: (input, team names, workload names, engine rng)."""
    root = np.random.default_rng(np.random.SeedSequence(seed))
    workload_rng, engine_rng = root.spawn(2)
    tl = build_capacity(scenario, catalog)
    inp, teams, workloads = build_input(scenario, catalog, tl, workload_rng, traces)
    return inp, teams, workloads, engine_rng


def run_engine(inp: SimInput, rng: np.random.Generator, progress: Progress | None = None) -> EngineResult:
    return Engine(inp, rng, progress).run()


def simulate(
    scenario: Scenario,
    catalog: Catalog,
    seed: int,
    traces: Mapping[str, JobBatch],
    progress: Progress | None = None,
) -> RunTables:
    """Run the scenario once: jobs, series, usage, inference and queue tables (finance fills the rest)."""
    if progress is not None:
        progress(0.0, "building workloads")
    inp, teams, workloads, rng = prepare(scenario, catalog, seed, traces)
    res = run_engine(inp, rng, progress)
    if progress is not None:
        progress(1.0, "writing tables")
    return build_tables(inp, res, teams, workloads)
