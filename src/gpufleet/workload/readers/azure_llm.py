"""Reader of the Azure LLM inference trace (vidur's processed splitwise_*.csv): one row per request."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gpufleet.workload.readers._csv import integers, numbers, read_csv_strings
from gpufleet.workload.requests import RequestTrace

REQUIRED = ("arrived_at", "num_prefill_tokens", "num_decode_tokens")


def read_azure_llm(path: Path) -> RequestTrace:
    """Requests sorted by arrival, seconds from the first; prompt (prefill) and output (decode) tokens."""
    where = str(path)
    df = read_csv_strings(path, REQUIRED, fmt="azure-llm")
    arrived = numbers(df, "arrived_at", where)
    prompt = integers(df, "num_prefill_tokens", where)
    output = integers(df, "num_decode_tokens", where)
    order = np.argsort(arrived, kind="stable")
    first = float(arrived[order[0]]) if len(arrived) else 0.0
    return RequestTrace(arrived[order] - first, prompt[order], output[order], name=path.name)
