"""What several routes share: the service of the request, a scenario read from a request body, a place
in the worker pool (or 429), and the one reading of a run, plan or sweep id that a path names."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fastapi import Request

from gpufleet.api.problems import ApiError
from gpufleet.api.runner import Full
from gpufleet.api.service import Service
from gpufleet.errors import InputError, Problem
from gpufleet.scenario import LoadedScenario, load_scenario_text
from gpufleet.store.store import matching

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
    try:
        service.pool().reserve(job_id)
    except Full:
        raise pool_full(service, what) from None


def pool_full(service: Service, what: str) -> ApiError:
    """429 with Retry-After: every place of the worker pool is taken."""
    wait = service.settings.retry_after_s
    return ApiError(
        429, f"all {service.pool().capacity} places of the worker pool are taken by runs and sweeps; submit "
        f"the {what} again in {wait} s", {"Retry-After": str(wait)},
    )  # fmt: skip


def resolve_id(kind: str, ids: Sequence[str], ref: str) -> str:
    """The id among `ids` (oldest first) that `ref` names, read as the CLI and the store read one: the id,
    a unique prefix of it, or `latest`. None: 404 naming close ids; several: 422 listing them."""
    found = matching(list(ids), ref)
    if len(found) == 1:
        return found[0]
    if found:
        raise ApiError(
            422, f"{kind} {ref!r} is ambiguous: it begins {len(found)} {kind} ids; give more of the id",
            candidates=found[:10],
        )  # fmt: skip
    close = difflib.get_close_matches(ref, ids, n=5, cutoff=0.5)
    close += [i for i in ids if ref and ref in i and i not in close]
    if not ids:
        raise ApiError(404, f"no {kind} {ref!r}: the store holds no {kind}s", close=[])
    said = f"; close: {', '.join(close[:5])}" if close else f"; latest: {', '.join(list(ids)[-5:][::-1])}"
    raise ApiError(404, f"no {kind} {ref!r} in the store{said}", close=close[:5])


def run_id_of(service: Service, ref: str) -> str:
    """The run (stored, queued, running or failed) that `ref` names; `latest` is the newest submitted."""
    return resolve_id("run", [s.run_id for s in service.statuses()], ref)


def plan_id_of(service: Service, ref: str) -> str:
    with service.store() as store:
        return resolve_id("plan", store.plan_ids(), ref)


def sweep_id_of(service: Service, ref: str) -> str:
    from gpufleet.store.sweeps import list_sweeps

    with service.store() as store:
        ids = [str(i) for i in list_sweeps(store)["sweep_id"]]
    return resolve_id("sweep", ids, ref)
