"""A sweep's results from its stored samples: quantiles, threshold probabilities, sensitivities, fans.

Quantiles are of the finished samples (linear interpolation, numpy's default); a probability is the
share of finished samples above the threshold. Failed samples are counted and listed, never imputed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from gpufleet.risk.metrics import METRICS
from gpufleet.risk.sampling import numeric_value
from gpufleet.risk.sensitivity import first_order, spearman
from gpufleet.scenario.uncertainty import UncertaintySection

QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90}
DEFAULT_FUNDING_THRESHOLD_USD = 0.0  # P(funding need > this): any outside money needed at all
DEFAULT_UNUSED_THRESHOLD_USD = 0.0  # P(unused commitment > this): any committed dollar left unused
SHOWN_ERRORS = 5


def _quantiles(values: np.ndarray[Any, Any]) -> dict[str, float | None]:
    if len(values) == 0:
        return {**{k: None for k in QUANTILES}, "mean": None}
    out: dict[str, float | None] = {k: float(np.quantile(values, p)) for k, p in QUANTILES.items()}
    out["mean"] = float(values.mean())
    return out


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x


def summarize_sweep(
    section: UncertaintySection,
    samples: pd.DataFrame,
    planned: int,
    funding_threshold_usd: float = DEFAULT_FUNDING_THRESHOLD_USD,
    unused_threshold_usd: float = DEFAULT_UNUSED_THRESHOLD_USD,
) -> dict[str, Any]:
    """Everything `gpufleet sweep` prints and the report draws, from `store.sweeps.load_samples`."""
    ok = samples[samples["error"].isna()] if len(samples) else samples
    failed = samples[samples["error"].notna()] if len(samples) else samples
    metrics = {
        m: _quantiles(ok[m].to_numpy(dtype=float)) if len(ok) else _quantiles(np.array([])) for m in METRICS
    }
    n_ok = len(ok)

    def above(metric: str, threshold: float) -> float | None:
        return float((ok[metric].to_numpy(dtype=float) > threshold).mean()) if n_ok else None

    dists = {i.name: i.distribution for i in section.inputs}
    sens = []
    for name in section.names:
        x = np.array([numeric_value(dists[name], row.get(name)) for row in ok["inputs"]], dtype=float)
        for m in METRICS:
            y = ok[m].to_numpy(dtype=float) if n_ok else np.array([])
            sens.append(
                {
                    "input": name,
                    "metric": m,
                    "spearman": _finite(spearman(x, y)),
                    "first_order": _finite(first_order(x, y)),
                }
            )
    fans: dict[str, dict[str, dict[str, float | None]]] = {}
    for figure in ("spend_usd", "funding_need_usd"):
        by_year: dict[str, list[float]] = {}
        for yearly in ok["yearly"] if n_ok else []:
            for year, v in (yearly or {}).get(figure, {}).items():
                by_year.setdefault(year, []).append(v)
        if by_year:
            fans[figure] = {y: _quantiles(np.array(v)) for y, v in sorted(by_year.items())}
    return {
        "samples": {
            "planned": planned,
            "finished": n_ok,
            "failed": len(failed),
            "missing": planned - len(samples),
        },
        "metrics": metrics,
        "probabilities": {
            "funding_need_above": {
                "threshold_usd": funding_threshold_usd,
                "probability": above("funding_need_usd", funding_threshold_usd),
            },
            "unused_commitment_above": {
                "threshold_usd": unused_threshold_usd,
                "probability": above("unused_commitment_usd", unused_threshold_usd),
            },
        },
        "sensitivity": sens,
        "sensitivity_estimator": "spearman: rank correlation; first_order: binned conditional variance "
        "(equal-count bins, chance-corrected), see risk/sensitivity.py",
        "yearly": fans,
        "errors": [
            {"sample": int(r["sample"]), "error": r["error"]} for _, r in failed.head(SHOWN_ERRORS).iterrows()
        ],
    }
