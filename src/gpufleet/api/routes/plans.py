"""`POST /v1/plans`: the capacity plan of a posted scenario (its `plan:` options), as `plan --json`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from gpufleet.api.openapi import SCENARIO_BODY
from gpufleet.api.routes.common import load_body, scenario_text
from gpufleet.jsontext import to_json

router = APIRouter(prefix="/v1/plans", tags=["plans"])


@router.post("", openapi_extra=SCENARIO_BODY)
async def make_plan(
    request: Request,
    time_limit: float = Query(30.0, gt=0, le=120, description="Seconds HiGHS may spend on each solve."),
    gap: float = Query(0.01, ge=0, le=1, description="Relative MIP gap at which a plan is good enough."),
    values: bool = Query(False, description="Also re-solve for the value of more power and of each option."),
    extra_mw: float = Query(1000.0, ge=0, le=1e6, description="Power added per site for its value (MW)."),
) -> Response:
    """What to sign, the routing, cost PV, unmet demand and shadow prices; solved off the event loop
    (bounded by `time_limit` per solve and the server's request time limit)."""
    from gpufleet.plan.run import make_plan as solve_plan
    from gpufleet.plan.run import prepare

    loaded = load_body(await scenario_text(request))

    def solve() -> dict[str, Any]:
        inputs = prepare(loaded.scenario, loaded.catalog, loaded.source_map, time_limit, gap)
        result = solve_plan(inputs, values=values, extra_mw=extra_mw)
        return {"scenario": loaded.scenario.name, "extra_mw": extra_mw, **result.to_dict()}

    # the project's JSON writer: numpy numbers as numbers, never NaN or Infinity
    return Response(to_json(await run_in_threadpool(solve), indent=None), media_type="application/json")
