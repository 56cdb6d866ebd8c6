"""A sweep's samples: their inputs and seeds drawn up front, each evaluated at a fidelity, failures kept.

What a worker gets is a `SweepJob` (the scenario's text and the inputs' paths, small and picklable)
and a chunk of `SampleSpec`s; it parses the scenario once per process and applies each sample's
inputs as overrides (scenario/overrides.py). A sample depends only on its spec, never on its chunk,
its worker or its backend, so every way of running a sweep stores the same results.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpufleet.errors import InputError, Problem
from gpufleet.risk.metrics import METRICS, Metrics
from gpufleet.risk.sampling import draw_inputs, sample_seeds, simulation_seed
from gpufleet.scenario.load import LoadedScenario, load_scenario_data, load_scenario_text
from gpufleet.scenario.overrides import Editable, Override
from gpufleet.scenario.source import Path as FieldPath
from gpufleet.scenario.source import SourceMap, parse_yaml
from gpufleet.scenario.uncertainty import UncertaintySection

Yearly = dict[str, dict[str, float]]  # figure -> {year: value}
# (the scenario as written, the sample's changed scenario, the sample's seed) -> its figures
Evaluate = Callable[[LoadedScenario, LoadedScenario, int], tuple[Metrics, Yearly]]


@dataclass(frozen=True, slots=True)
class SampleSpec:
    """One sample: its number, its simulation seed and its inputs' values."""

    sample: int
    seed: int
    inputs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SampleResult:
    """A sample's metrics and yearly figures, or the error that stopped it."""

    sample: int
    seed: int
    inputs: dict[str, Any]
    metrics: Metrics | None = None
    yearly: Yearly = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class InputPath:
    """Where a named input goes: `path op value`, and where the scenario states it (for errors)."""

    name: str
    path: str
    op: str
    where: str


@dataclass(frozen=True, slots=True)
class SweepJob:
    """What every worker needs to evaluate samples: the scenario as text and how inputs apply."""

    scenario_text: str
    file: str
    base_dir: str
    fidelity: str
    inputs: tuple[InputPath, ...]

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.file}\0{self.base_dir}\0{self.scenario_text}".encode()).hexdigest()

    def overrides(self, values: dict[str, Any]) -> list[Override]:
        return [Override(i.path, i.op, values[i.name], i.where) for i in self.inputs]


# ------------------------------------------------------------------------------ fidelities


def full_fidelity(base: LoadedScenario, loaded: LoadedScenario, seed: int) -> tuple[Metrics, Yearly]:
    """A whole simulation and its finance; the metrics as `simulate` reports them."""
    from gpufleet.pipeline import run_scenario
    from gpufleet.report.context import run_context
    from gpufleet.risk.metrics import run_metrics

    tables = run_scenario(loaded, seed).tables
    case = loaded.scenario.finance.default_case
    metrics = run_metrics(tables, run_context(loaded.scenario, loaded.catalog), case or "")
    spend = tables.spend.groupby("year")["spend_usd"].sum()
    yearly: Yearly = {"spend_usd": {str(y): float(v) for y, v in spend.items()}}
    if case is not None and len(tables.portfolio):
        p = tables.portfolio[tables.portfolio["scenario"] == case]
        if "cumulative_funding_need_usd" in p.columns:
            yearly["funding_need_usd"] = {
                str(y): float(v) for y, v in zip(p["year"], p["cumulative_funding_need_usd"], strict=True)
            }
    return metrics, yearly


_FLUID_MODELS: dict[str, Any] = {}  # per process: the fluid model of each scenario as written


def _fluid(base: LoadedScenario, loaded: LoadedScenario, seed: int) -> tuple[Metrics, Yearly]:
    """The fluid model (risk/fluid.py), made once per process for the scenario as written, so what the
    samples share (demand, billing axes) is computed once; the seed plays no part (no randomness)."""
    import numpy as np

    from gpufleet.risk import fluid  # type: ignore[attr-defined,unused-ignore]

    model = _FLUID_MODELS.get(base.content_hash)
    if model is None:
        model = _FLUID_MODELS[base.content_hash] = fluid.FluidModel.of(base)
    result = model.run(loaded)
    years = np.array(result.months.years)
    cash = np.sum(list(result.cost_due.values()), axis=0) if result.cost_due else np.zeros(len(years))
    spend = {str(int(y)): float(cash[years == y].sum()) for y in np.unique(years)}
    return {m: float(result.metrics[m]) for m in METRICS}, {"spend_usd": spend}


FIDELITIES: dict[str, Evaluate] = {"full": full_fidelity, "fluid": _fluid}


def check_fidelity(fidelity: str) -> None:
    """Bad input when the fidelity is unknown, or its model is not in this gpufleet."""
    if fidelity not in FIDELITIES:
        raise InputError(f"unknown fidelity '{fidelity}'; expected {' or '.join(FIDELITIES)}", "--fidelity")
    if fidelity == "fluid":
        import importlib.util

        if importlib.util.find_spec("gpufleet.risk.fluid") is None:
            raise InputError("the fluid model is not in this gpufleet yet; use --fidelity full", "--fidelity")


# ------------------------------------------------------------------------------ planning


def input_paths(loaded: LoadedScenario) -> tuple[InputPath, ...]:
    section = uncertainty_of(loaded)
    smap = loaded.source_map
    return tuple(
        InputPath(inp.name, inp.path, inp.op, f"{smap.where(('uncertainty', 'inputs', i, 'path'))}")
        for i, inp in enumerate(section.inputs)
    )


def uncertainty_of(loaded: LoadedScenario) -> UncertaintySection:
    section = loaded.scenario.uncertainty
    if section is None:
        raise InputError(
            [Problem(loaded.file, "uncertainty", "the scenario has no uncertainty section to sample")]
        )
    return section


class _BlockMap(SourceMap):
    """Lines of a scenario with an uncertainty block appended from another file: the block's own lines."""

    def __init__(self, base: SourceMap, block_file: str, offset: int) -> None:
        super().__init__(base.file, base.lines)
        self.block_file = block_file
        self.offset = offset

    def where(self, path: FieldPath) -> str:
        if path and path[0] == "uncertainty":
            line = self.line(path)
            return f"{self.block_file}:{line - self.offset}" if line is not None else self.block_file
        return super().where(path)


def attach_uncertainty(loaded: LoadedScenario, block_text: str, block_file: str) -> LoadedScenario:
    """The scenario with an `uncertainty:` block from another file appended, its problems at that file.

    The combined text is what a sweep stores and resumes; the block file holds the one key `uncertainty`.
    """
    block, _ = parse_yaml(block_text, block_file)
    if not isinstance(block, dict) or set(block) != {"uncertainty"}:
        raise InputError([Problem(block_file, "", "expected one top-level key, 'uncertainty'")])
    if loaded.scenario.uncertainty is not None:
        raise InputError(
            [Problem(loaded.file, "uncertainty", f"the scenario has its own; drop it or {block_file}")]
        )
    head = loaded.text.rstrip("\n") + "\n"
    text = head + block_text
    data, smap = parse_yaml(text, loaded.file)
    where = _BlockMap(smap, block_file, len(head.splitlines()))
    return load_scenario_data(data, where, text, loaded.file, loaded.base_dir)


def check_inputs(loaded: LoadedScenario) -> None:
    """Each input's path must name something its value can change: tried with a typical value.

    A problem is reported at the input's line (uncertainty.inputs[i].path), every one at once.
    """
    section = uncertainty_of(loaded)
    editable = Editable.of(loaded)
    smap = loaded.source_map
    problems: list[Problem] = []
    for i, inp in enumerate(section.inputs):
        value = inp.distribution.typical()
        if inp.integer and isinstance(value, float):
            value = round(value)
        at = ("uncertainty", "inputs", i, "path")
        try:
            editable.apply([Override(inp.path, inp.op, value, smap.where(at))])
        except InputError as exc:
            for p in exc.problems:
                problems.append(smap.problem(at, f"input '{inp.name}' ({inp.path}{inp.op}...): {p.message}"))
    if problems:
        raise InputError(problems)


def plan_samples(section: UncertaintySection, n: int, seed: int) -> list[SampleSpec]:
    """Every sample's spec, drawn up front: seeds from `SeedSequence(seed).spawn(n)`, then the inputs."""
    seeds = [simulation_seed(c) for c in sample_seeds(seed, n)]
    drawn = draw_inputs(section, n, seed)
    return [SampleSpec(i, seeds[i], drawn.values[i]) for i in range(n)]


def chunked(specs: list[SampleSpec], workers: int, chunk_size: int | None = None) -> list[list[SampleSpec]]:
    """Specs in chunks: by default about four chunks per worker (progress and balance), at most 50 each."""
    size = chunk_size or max(1, min(50, math.ceil(len(specs) / (4 * max(workers, 1)))))
    return [specs[i : i + size] for i in range(0, len(specs), size)]


# ------------------------------------------------------------------------------ evaluating


_EDITABLES: dict[str, Editable] = {}  # per process: the scenario parsed once for all its chunks


def _editable(job: SweepJob) -> Editable:
    found = _EDITABLES.get(job.key)
    if found is None:
        loaded = load_scenario_text(job.scenario_text, job.file, Path(job.base_dir))
        found = _EDITABLES[job.key] = Editable.of(loaded)
    return found


def evaluate_sample(job: SweepJob, spec: SampleSpec) -> SampleResult:
    """One sample: its inputs applied, its fidelity run; an error is its result, never raised."""
    try:
        editable = _editable(job)
        changed = editable.apply(job.overrides(spec.inputs))
        metrics, yearly = FIDELITIES[job.fidelity](editable.loaded, changed, spec.seed)
        clean = {m: float(metrics[m]) for m in METRICS}
        return SampleResult(spec.sample, spec.seed, spec.inputs, clean, yearly)
    except Exception as exc:  # a sample's failure is recorded with its error; the sweep goes on
        message = str(exc).strip().replace("\n", "; ")
        return SampleResult(
            spec.sample, spec.seed, spec.inputs, error=f"{type(exc).__name__}: {message}"[:2000]
        )


def evaluate_chunk(job: SweepJob, specs: list[SampleSpec]) -> list[SampleResult]:
    """A chunk of samples, in order (what a backend's worker runs)."""
    return [evaluate_sample(job, s) for s in specs]
