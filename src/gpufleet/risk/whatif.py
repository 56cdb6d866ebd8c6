"""What-ifs on a stored run: its figures, the fluid model's change under scenario edits, and stresses.

The fluid model is not the engine: its level differs from a simulated run's (risk/error.py says by how
much). A fluid what-if therefore reports the run's own figures moved by the fluid model's *change*:
estimate = run + (fluid(changed scenario) - fluid(run's scenario)), clamped to each metric's range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpufleet.risk.fluid import FluidModel
from gpufleet.risk.metrics import METRICS, Metrics
from gpufleet.risk.stress import Stress, stress_set
from gpufleet.scenario.load import LoadedScenario
from gpufleet.scenario.overrides import Editable, Override

# the figures a stress's tornado shows (issue 13: cash peak, funding need, unused commitment, unserved)
TORNADO_METRICS = ("cash_peak_usd", "funding_need_usd", "unused_commitment_usd", "inference_unserved_pct")


def clamp(metric: str, value: float) -> float:
    """A metric kept in its range: percentages in [0, 100], dollars >= 0."""
    if metric.endswith("_pct"):
        return min(100.0, max(0.0, value))
    return max(0.0, value)


def delta(a: Metrics, b: Metrics) -> Metrics:
    """b - a, metric by metric."""
    return {k: b[k] - a[k] for k in METRICS}


def moved(run: Metrics, change: Metrics) -> Metrics:
    """The run's figures moved by a fluid change (clamped to each metric's range)."""
    return {k: clamp(k, run[k] + change[k]) for k in METRICS}


@dataclass(frozen=True)
class FluidWhatIf:
    """A fluid what-if: the fluid model on the run's scenario and on the changed one."""

    base: Metrics  # fluid, the run's scenario
    changed: Metrics  # fluid, the changed scenario

    @property
    def change(self) -> Metrics:
        return delta(self.base, self.changed)

    def estimate(self, run: Metrics) -> Metrics:
        return moved(run, self.change)


def fluid_whatif(model: FluidModel, loaded: LoadedScenario, changed: LoadedScenario) -> FluidWhatIf:
    return FluidWhatIf(model.metrics(loaded), model.metrics(changed))


@dataclass(frozen=True)
class StressResult:
    """One stress: its name, the changes it made, and the fluid change of every metric."""

    name: str
    changes: tuple[str, ...]
    change: Metrics


def run_stresses(
    model: FluidModel, edit: Editable, base: list[Override], stresses: list[Stress]
) -> tuple[Metrics, list[StressResult]]:
    """Each stress on top of the `base` changes, against the fluid figures of `base` alone."""
    reference = model.metrics(edit.apply(base))
    out = []
    for st in stresses:
        m = model.metrics(edit.apply([*base, *st.overrides]))
        out.append(StressResult(st.name, tuple(o.text for o in st.overrides), delta(reference, m)))
    return reference, out


def tornado_rows(results: list[StressResult], metric: str) -> list[tuple[str, float]]:
    """(stress, change of `metric`), the largest effect first: the bars of one tornado panel."""
    rows = [(r.name, r.change[metric]) for r in results]
    return sorted(rows, key=lambda nv: (-abs(nv[1]), nv[0]))


def stresses_json(
    model: FluidModel, edit: Editable, base: list[Override], loaded: LoadedScenario
) -> dict[str, Any]:
    """The standard stress set on top of `base`: the reference figures, each stress's fluid change, and
    the tornado's bars per metric (largest effect first), as `whatif --stress --json` and the API give."""
    reference, results = run_stresses(model, edit, base, stress_set(loaded))
    return {
        "reference_fluid": reference,
        "rows": [{"stress": r.name, "changes": list(r.changes), "change": r.change} for r in results],
        "tornado": {
            m: [{"stress": name, "change": value} for name, value in tornado_rows(results, m)]
            for m in TORNADO_METRICS
        },
    }


def tornado_panels(stresses: dict[str, Any]) -> dict[str, list[tuple[str, float]]]:
    """The bars of `stresses_json`'s tornado as the chart takes them: (stress, change) per metric."""
    return {m: [(b["stress"], b["change"]) for b in bars] for m, bars in stresses["tornado"].items()}
