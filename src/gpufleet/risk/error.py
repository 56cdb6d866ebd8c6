"""How far the fluid model is from full fidelity: the measured table (risk/data/fluid_error.yaml,
copied by hand from `python -m bench.fluid_error`) and the line every fluid printout carries."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from gpufleet.risk.metrics import METRICS


@dataclass(frozen=True)
class MetricError:
    """One metric's worst gap (fluid - full) over the scenarios the fluid model was not tuned on."""

    metric: str
    worst_gap: float  # in the metric's unit (pp for percentages, USD for money)
    worst_rel_pct: float | None  # money: the gap as a share of the full value; None for percentages
    worst_case: str


@dataclass(frozen=True)
class FluidError:
    measured: str  # date
    scenarios: tuple[str, ...]  # those the error is measured on (not tuned on)
    metrics: tuple[MetricError, ...]
    cases: tuple[dict[str, Any], ...]  # the table as measured: case, tuned, metric -> {fluid, full}


@cache
def fluid_error() -> FluidError:
    """The packaged measurement."""
    raw = yaml.safe_load(files("gpufleet.risk").joinpath("data/fluid_error.yaml").read_text(encoding="utf-8"))
    cases = tuple(raw["cases"])
    untuned = [c for c in cases if not c.get("tuned", False)]
    out = []
    for metric in METRICS:
        worst: tuple[float, float | None, str] = (0.0, None, "")
        for c in untuned:
            v = c["metrics"].get(metric)
            if v is None:
                continue
            gap = float(v["fluid"]) - float(v["full"])
            rel = None if metric.endswith("_pct") else (100.0 * gap / abs(v["full"]) if v["full"] else None)
            size = abs(gap) if metric.endswith("_pct") else abs(rel) if rel is not None else abs(gap)
            best = abs(worst[0]) if metric.endswith("_pct") else abs(worst[1] or 0.0)
            if not worst[2] or size > best:
                worst = (gap, rel, str(c["case"]))
        out.append(MetricError(metric, worst[0], worst[1], worst[2]))
    return FluidError(str(raw["measured"]), tuple(str(c["case"]) for c in untuned), tuple(out), cases)


def _gap_text(e: MetricError) -> str:
    if e.metric.endswith("_pct"):
        return f"{e.worst_gap:+.1f} pp"
    if e.worst_rel_pct is not None:
        return f"{e.worst_rel_pct:+.1f}%"
    return f"{e.worst_gap / 1e9:+.2f} $B"


def fluid_error_note() -> str:
    """One line for every fluid printout: the worst measured gap per metric, when and on what."""
    err = fluid_error()
    if not err.scenarios:
        return "fluid vs full: not measured yet (python -m bench.fluid_error)"
    parts = ", ".join(f"{e.metric} {_gap_text(e)}" for e in err.metrics)
    return (
        f"fluid vs full, worst gap measured {err.measured} on {len(err.scenarios)} scenarios the fluid "
        f"model was not tuned on (bench/fluid_error.py; docs/benchmarks.md): {parts}"
    )


def fluid_error_json() -> dict[str, Any]:
    """The same for --json."""
    err = fluid_error()
    return {
        "measured": err.measured,
        "scenarios": list(err.scenarios),
        "worst_gap": {
            e.metric: {"gap": e.worst_gap, "relative_pct": e.worst_rel_pct, "case": e.worst_case}
            for e in err.metrics
        },
    }
