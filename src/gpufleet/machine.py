"""What this machine can give a run now (memory), and whether a scenario's run fits it.

`gpufleet simulate` (without --force) and the API's `POST /v1/runs` refuse a run that would not fit,
with the same figures; this reads /proc, so it sits at the edge beside the pipeline, not in scenario/.
"""

from __future__ import annotations

import os

from gpufleet.scenario import LoadedScenario


def available_memory_bytes() -> float | None:
    """Memory this machine can give a new process now (Linux MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def memory_shortfall(loaded: LoadedScenario) -> str | None:
    """Why a run of `loaded` would not fit this machine's memory now (its estimated size against what
    is available), or None when it fits or the available memory is unknown."""
    from gpufleet.scenario.limits import estimate, fmt_bytes

    size = estimate(loaded.scenario, loaded.catalog)
    have = available_memory_bytes()
    if have is None or size.memory_bytes <= have:
        return None
    return (
        f"this run would need {size.describe()} ({size.jobs:,} jobs, {size.series_rows:,} time-series "
        f"rows); this machine has {fmt_bytes(have)} available: shorten the horizon, coarsen the step "
        "or the streams"
    )
