"""Trace readers at the edge: files in, JobBatch (jobs) or RequestTrace (LLM requests) out.

`read_trace(path, format, ...)` for job traces (philly, openb, generic); `read_requests(path)` for
the azure-llm request trace. Bad rows raise InputError naming file:line; skips are counted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from gpufleet.errors import InputError
from gpufleet.tables import PRIORITY_CLASSES
from gpufleet.workload.jobs import JobBatch
from gpufleet.workload.readers.azure_llm import read_azure_llm
from gpufleet.workload.readers.generic import read_generic
from gpufleet.workload.readers.openb import read_openb
from gpufleet.workload.readers.philly import read_philly
from gpufleet.workload.requests import RequestTrace

JOB_FORMATS = ("philly", "openb", "generic")
REQUEST_FORMATS = ("azure-llm",)
FORMATS = JOB_FORMATS + REQUEST_FORMATS

_READERS: dict[str, Callable[..., JobBatch]] = {
    "philly": read_philly,
    "openb": read_openb,
    "generic": read_generic,
}


def read_trace(
    path: str | Path,
    format: str,
    team_map: Mapping[str, str] | None = None,
    class_map: Mapping[str, str] | None = None,
    default_team: str = "default",
    default_class: str = "research",
    workload: str = "",
) -> JobBatch:
    """Jobs of a trace file, sorted by submit, time origin at the first accepted submit."""
    if format in REQUEST_FORMATS:
        raise InputError(
            f"'{format}' is a request trace, not a job trace; use it for inference shape", "--format"
        )
    if format not in _READERS:
        raise InputError(f"unknown trace format '{format}'; expected one of {', '.join(FORMATS)}", "--format")
    classes = dict(class_map or {})
    bad = sorted({c for c in [*classes.values(), default_class] if c not in PRIORITY_CLASSES})
    if bad:
        raise InputError(
            f"unknown priority class(es) {', '.join(bad)}; expected {', '.join(PRIORITY_CLASSES)}",
            "class_map",
        )
    return _READERS[format](Path(path), dict(team_map or {}), classes, default_team, default_class, workload)


def read_requests(path: str | Path, format: str = "azure-llm") -> RequestTrace:
    """Requests of an LLM request trace (azure-llm), sorted by arrival."""
    if format != "azure-llm":
        raise InputError(f"'{format}' is not a request trace format; expected azure-llm", "--format")
    return read_azure_llm(Path(path))


__all__ = ["FORMATS", "JOB_FORMATS", "REQUEST_FORMATS", "read_requests", "read_trace"]
