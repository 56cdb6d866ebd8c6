"""What several routes share: the service of the request, a scenario read from a request body, a place
in the worker pool (or 429)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from gpufleet.api.problems import ApiError
from gpufleet.api.runner import Full
from gpufleet.api.service import Service
from gpufleet.errors import InputError, Problem
from gpufleet.scenario import LoadedScenario, load_scenario_text

if TYPE_CHECKING:
    from gpufleet.store.plans import StoredPlan

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


def load_runnable(text: str, plan: StoredPlan | None = None) -> LoadedScenario:
    """A scenario to simulate: checked as `load_body`, then refused (422, with the figures) when its
    run would not fit this machine's memory, as `gpufleet simulate` refuses it without --force. With
    `plan`: the scenario must be the one the plan was solved for, and the run is sized with the plan's
    options signed (what the worker will simulate)."""
    from gpufleet import machine

    loaded = load_body(text)
    runs = loaded
    if plan is not None:
        from gpufleet.plan.follow import follow_plan

        runs, _ = follow_plan(loaded, loaded, plan)
    why = machine.memory_shortfall(runs)
    if why is not None:
        raise InputError([Problem(BODY_WHERE, "", why)])
    return loaded


def reserve(service: Service, job_id: str, what: str) -> None:
    """A place in the worker pool for the job, or 429 with Retry-After when every place is taken."""
    pool = service.pool()
    try:
        pool.reserve(job_id)
    except Full:
        wait = service.settings.retry_after_s
        raise ApiError(
            429, f"all {pool.capacity} places of the worker pool are taken by runs and sweeps; submit the "
            f"{what} again in {wait} s", {"Retry-After": str(wait)},
        ) from None  # fmt: skip
