"""Request traces (one row per LLM request) and the within-hour shape and token mix measured on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gpufleet.errors import InputError
from gpufleet.workload.inference import WithinHour


@dataclass(frozen=True, slots=True)
class RequestTrace:
    """LLM requests sorted by arrival: seconds from the trace's start, prompt and output tokens."""

    arrived_s: npt.NDArray[np.float64]
    prompt_tokens: npt.NDArray[np.int64]
    output_tokens: npt.NDArray[np.int64]
    name: str = ""

    def __len__(self) -> int:
        return len(self.arrived_s)


def per_minute_output_tokens(trace: RequestTrace) -> npt.NDArray[np.float64]:
    """Output tokens arriving in each whole minute of the trace (a partial last minute dropped)."""
    if len(trace) == 0:
        return np.zeros(0)
    minute = np.floor(trace.arrived_s / 60.0).astype(np.int64)
    full = int(np.floor(float(trace.arrived_s[-1]) / 60.0))  # the last minute is incomplete
    sums = np.bincount(minute, weights=trace.output_tokens.astype(np.float64), minlength=full + 1)
    return np.asarray(sums[:full], dtype=np.float64)


def within_hour(trace: RequestTrace) -> WithinHour:
    """Peak-minute / mean output-token rate and prompt tokens per output token of a request trace.

    A trace without output tokens in a complete minute has no shape to measure: that is bad input,
    not a flat shape (a peak of x1 and no prompt tokens would quietly replace the catalog's figures).
    """
    per_min = per_minute_output_tokens(trace)
    mean = float(per_min.mean()) if len(per_min) else 0.0
    if mean <= 0:
        raise InputError(
            f"no output tokens arrive in a complete minute ({len(trace):,} requests): no within-hour "
            "shape to measure",
            where=trace.name or "request trace",
        )
    out_total = float(trace.output_tokens.sum())
    return WithinHour(
        name=trace.name,
        requests=len(trace),
        minute_peak_to_mean=float(per_min.max() / mean),
        prompt_tokens_per_output_token=float(trace.prompt_tokens.sum()) / out_total,
        mean_output_tokens=out_total / len(trace),
        source=trace.name,
    )
