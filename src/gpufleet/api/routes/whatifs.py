"""`POST /v1/runs/{id}/whatif`: a finished run's scenario changed (`PATH=VALUE`, as `gpufleet whatif
--set`) or stressed, answered by the fluid model in seconds beside the run's own figures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from gpufleet.api.routes.common import service_of
from gpufleet.api.routes.runs import finished
from gpufleet.errors import InputError, Problem
from gpufleet.jsontext import to_json

router = APIRouter(prefix="/v1/runs", tags=["what-ifs"])
MAX_OVERRIDES = 50
WHERE = "overrides[{i}]"  # how a change is named in errors: its place in the body's list


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
    the scenario refuses is 422 naming it (`overrides[i]`); a run not finished is 409."""
    from gpufleet.scenario.overrides import parse_override

    service = service_of(request)
    overrides = [parse_override(text, WHERE.format(i=i)) for i, text in enumerate(body.overrides)]
    if not overrides and not body.stress:
        raise InputError([Problem("overrides", "", "give at least one change PATH=VALUE, or stress: true")])
    run_id = finished(service, run_id)
    html = body.stress and "text/html" in request.headers.get("accept", "")

    def answer() -> dict[str, Any] | str:
        from gpufleet.risk.error import fluid_error_json, fluid_error_note
        from gpufleet.risk.fluid import FluidModel
        from gpufleet.risk.stored import stored_run_base
        from gpufleet.risk.whatif import fluid_whatif, stresses_json, tornado_panels
        from gpufleet.scenario.overrides import Editable

        with service.store() as store:
            loaded, figures = stored_run_base(store, run_id, where="run_id")
        edit = Editable.of(loaded)
        changed = edit.apply(overrides)  # a change the scenario refuses: 422 naming it
        model = FluidModel.of(loaded)
        out: dict[str, Any] = {"run_id": run_id, "changes": [o.text for o in overrides], "fidelity": "fluid",
                               "run": figures}  # fmt: skip
        if overrides:
            w = fluid_whatif(model, loaded, changed)
            out |= {"fluid_run_scenario": w.base, "fluid_changed": w.changed, "fluid_change": w.change,
                    "estimate": w.estimate(figures)}  # fmt: skip
        if body.stress:
            stress = stresses_json(model, edit, overrides, loaded)
            if html:
                from gpufleet.report.tornado import render_tornado

                notes = [f"changes first applied: {'; '.join(out['changes']) or 'none'}", fluid_error_note()]
                panels = tornado_panels(stress)
                return render_tornado(panels, {m: m for m in panels}, f"Stresses on run {run_id}", notes)
            out["stress"] = stress
        out["fluid_error"] = fluid_error_json()
        out["fluid_error_note"] = fluid_error_note()
        return out

    result = await run_in_threadpool(answer)
    if isinstance(result, str):
        return HTMLResponse(result)
    return Response(to_json(result, indent=None), media_type="application/json")
