"""What several routes share: the service of the request, and a scenario read from a request body."""

from __future__ import annotations

from fastapi import Request

from gpufleet.api.problems import ApiError
from gpufleet.api.service import Service
from gpufleet.errors import InputError, Problem
from gpufleet.scenario import LoadedScenario, load_scenario_text

BODY_WHERE = "<request body>"
SCENARIO_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml",
                  "text/plain")  # fmt: skip


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def scenario_text(request: Request) -> str:
    """The request body as text: a scenario in YAML or JSON (JSON is read as YAML, lines and all)."""
    kind = request.headers.get("content-type", "application/yaml").split(";")[0].strip().lower()
    if kind not in SCENARIO_TYPES:
        raise ApiError(415, f"send the scenario as YAML or JSON, not {kind}", accepted=list(SCENARIO_TYPES))
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(BODY_WHERE, "", f"not UTF-8 text (byte {exc.start})")]) from None
    if not text.strip():
        raise InputError([Problem(BODY_WHERE, "", "empty: send a scenario in YAML or JSON")])
    return text


def load_body(text: str) -> LoadedScenario:
    """Load and cross-check like `gpufleet validate`: every problem with its line and field, or 422."""
    return load_scenario_text(text, BODY_WHERE)


def load_runnable(text: str) -> LoadedScenario:
    """A scenario to simulate: checked as `load_body`, then refused (422, with the figures) when its
    run would not fit this machine's memory, as `gpufleet simulate` refuses it without --force."""
    from gpufleet import machine

    loaded = load_body(text)
    why = machine.memory_shortfall(loaded)
    if why is not None:
        raise InputError([Problem(BODY_WHERE, "", why)])
    return loaded
