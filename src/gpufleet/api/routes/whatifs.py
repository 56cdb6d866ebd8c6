"""`POST /v1/runs/{id}/whatif`: a finished run's scenario changed (`PATH=VALUE`, as `gpufleet whatif
--set`) or stressed, answered by the fluid model in seconds beside the run's own figures. Changes alone
are answered in a server thread (a fraction of a second); with the stress set (seconds of CPU) in the
worker pool, taking a place as a job does, bounded by the request time limit."""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from gpufleet.api.problems import ApiError
from gpufleet.api.routes.common import pool_full, service_of
from gpufleet.api.routes.runs import finished
from gpufleet.api.runner import Full
from gpufleet.api.service import Service
from gpufleet.api.whatif_answer import parse_changes, whatif_answer
from gpufleet.errors import InputError, Problem
from gpufleet.jsontext import to_json

router = APIRouter(prefix="/v1/runs", tags=["what-ifs"])
MAX_OVERRIDES = 50


class WhatIfRequest(BaseModel):
    """Changes to the run's scenario and whether to add the standard stress set."""

    model_config = ConfigDict(extra="forbid")
    overrides: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=list,
        max_length=MAX_OVERRIDES,
        description="Changes as `gpufleet whatif --set` takes them: PATH=VALUE, PATH*=FACTOR or PATH+=DELTA "
        "(docs/risk.md), e.g. `contracts.k-aa.price_per_gpu_hour_usd*=1.2`.",
    )
    stress: bool = Field(
        False, description="Also the standard stress set on top of the changes: rows and a tornado's bars."
    )


@router.post(
    "/{run_id}/whatif",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}},
                     "description": "JSON; with `stress` and `Accept: text/html`, the tornado's page."}},
)  # fmt: skip
async def whatif(request: Request, run_id: str, body: WhatIfRequest) -> Response:
    """The fluid model on the run's scenario and on the changed one; the estimate is the run's own figures
    moved by the fluid change (`fluid_error` says how far the fluid model is from a simulation). A change
    the scenario refuses is 422 naming it (`overrides[i]`); a run not finished is 409. With `stress`, the
    work is done in the worker pool: 429 with Retry-After when every place is taken."""
    service = service_of(request)
    parse_changes(body.overrides)  # a change that does not parse: 422 before any work
    if not body.overrides and not body.stress:
        raise InputError([Problem("overrides", "", "give at least one change PATH=VALUE, or stress: true")])
    run_id = finished(service, run_id)
    html = body.stress and "text/html" in request.headers.get("accept", "")
    if body.stress:
        result = await _in_pool(service, run_id, body.overrides, html)
    else:

        def answer() -> dict[str, Any] | str:
            from gpufleet.risk.stored import stored_run_base

            with service.store() as store:
                loaded, figures = stored_run_base(store, run_id, where="run_id")
            return whatif_answer(loaded, figures, run_id, body.overrides, False, False)

        result = await run_in_threadpool(answer)
    if isinstance(result, str):
        return HTMLResponse(result)
    return Response(to_json(result, indent=None), media_type="application/json")


async def _in_pool(service: Service, run_id: str, texts: list[str], html: bool) -> dict[str, Any] | str:
    """The stressed what-if on a worker; given up (and taken off the pool's queue) if the request is."""
    from gpufleet.api.worker import answer_whatif

    pool = service.pool()
    call_id = f"whatif-{secrets.token_hex(4)}"
    limit_s = service.settings.request_timeout_s
    try:
        future = pool.call(call_id, answer_whatif, run_id, texts, True, html, limit_s)
    except Full:
        raise pool_full(service, "what-if") from None
    try:
        kind, value = await asyncio.wrap_future(future)
    except asyncio.CancelledError:  # the request's time limit, or the client gone
        pool.cancel(call_id)
        raise
    if kind == "input":
        raise InputError([Problem(*p) for p in value])
    if kind == "stopped":
        raise ApiError(503, str(value), {"Retry-After": str(service.settings.retry_after_s)})
    answer: dict[str, Any] | str = value
    return answer
