"""The one JSON writer: NaN and infinities become null, so every JSON gpufleet prints or writes is valid."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def finite(data: Any) -> Any:
    """`data` with every non-finite float (and numpy float) replaced by None; containers rebuilt."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, Mapping):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite(v) for v in data]
    item = getattr(data, "item", None)  # numpy scalars
    if callable(item) and getattr(data, "shape", None) == ():
        return finite(item())
    return data


def to_json(data: Any, indent: int | None = 2) -> str:
    """JSON text; refuses NaN and infinities after turning them into null (allow_nan=False checks it)."""
    return json.dumps(finite(data), indent=indent, default=str, allow_nan=False)
