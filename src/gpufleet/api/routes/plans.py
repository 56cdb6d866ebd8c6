"""`/v1/plans`: solve a posted scenario's plan and keep it (as `gpufleet plan`), list the stored plans,
one plan, its HTML page, and planned vs simulated against a run (as `gpufleet compare PLAN RUN`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from gpufleet.api.openapi import SCENARIO_BODY
from gpufleet.api.routes.common import load_body, resolve_id, scenario_text, service_of
from gpufleet.api.routes.runs import finished
from gpufleet.jsontext import to_json

if TYPE_CHECKING:
    from gpufleet.store.plans import StoredPlan
    from gpufleet.store.store import Store

router = APIRouter(prefix="/v1/plans", tags=["plans"])
MAX_TIME_LIMIT_S = 120.0  # per solve: with values, a plan is a few solves; the request limit bounds them all


def _json(value: Any, status: int = 200) -> Response:
    """The project's JSON writer: numpy numbers as numbers, never NaN or Infinity."""
    return Response(to_json(value, indent=None), status_code=status, media_type="application/json")


def _links(plan_id: str) -> dict[str, str]:
    return {"self": f"/v1/plans/{plan_id}", "report": f"/v1/plans/{plan_id}/report"}


@router.post("", status_code=201, openapi_extra=SCENARIO_BODY)
async def make_plan(
    request: Request,
    time_limit: float = Query(
        30.0, gt=0, le=MAX_TIME_LIMIT_S, description="Seconds HiGHS may spend on each solve."
    ),
    gap: float = Query(0.01, ge=0, le=1, description="Relative MIP gap at which a plan is good enough."),
    values: bool = Query(False, description="Also re-solve for the value of more power and of each option."),
    extra_mw: float = Query(1000.0, ge=0, le=1e6, description="Power added per site for its value (MW)."),
    base_only: bool = Query(False, description="Plan for the base revenue case alone."),
) -> Response:
    """What to sign, the routing, cost PV, unmet demand and shadow prices, as `plan --json`; the plan is
    kept in the store under `plan_id` (201, Location). Solved off the event loop; every solve is bounded
    by `time_limit`, and a plan whose solves could outlast the server's request time limit is refused
    (422) before any work."""
    from gpufleet.plan.record import plan_record
    from gpufleet.plan.run import make_plan as solve_plan
    from gpufleet.plan.run import prepare

    service = service_of(request)
    loaded = load_body(await scenario_text(request))

    def solve() -> dict[str, Any]:
        s = loaded.scenario
        inputs = prepare(s, loaded.catalog, loaded.source_map, time_limit, gap, not base_only)
        _check_bounded(inputs, values, time_limit, service.settings.request_timeout_s)
        result = solve_plan(inputs, values=values, extra_mw=extra_mw)
        head: dict[str, Any] = {"scenario": s.name, "extra_mw": extra_mw, "add_capacity": None}
        record = plan_record(result, s, loaded.catalog, loaded.content_hash, head)
        with service.store(write=True) as store:
            plan_id = store.save_plan(record)
        return {**head, "plan_id": plan_id, **result.to_dict(), "links": _links(plan_id)}

    body = await run_in_threadpool(solve)
    response = _json(body, 201)
    response.headers["Location"] = f"/v1/plans/{body['plan_id']}"
    return response


def _check_bounded(inputs: Any, values: bool, time_limit: float, limit_s: float) -> None:
    """422 naming `time_limit` when the plan's solves (plan/run.py make_plan: the plan, two more over
    several demand cases, one per site and per option for the values) could outlast the request."""
    from gpufleet.errors import InputError, Problem

    solves = 1 + (2 if len(inputs.cases) > 1 else 0)
    if values:
        solves += len({o.option.site for o in inputs.options if o.signed}) + len(inputs.options)
    if solves * time_limit > 0.9 * limit_s:
        raise InputError([Problem("time_limit", "", (
            f"this plan takes up to {solves} solves of {time_limit:g} s each, more than the server's "
            f"request limit of {limit_s:g} s allows: lower time_limit (or ask values=false)"
        ))])  # fmt: skip


@router.get("")
def list_plans(request: Request) -> Response:
    """Every stored plan, oldest first: id, scenario, status, cost PV, objective PV (`plans list`)."""
    with service_of(request).store() as store:
        metas = store.list_plans()
    return _json({"plans": [m.to_dict() | {"links": _links(m.plan_id)} for m in metas]})


def _load(store: Store, ref: str) -> StoredPlan:
    """The plan that `ref` names (common.resolve_id: id, unique prefix or `latest`), or 404 / 422."""
    return store.load_plan(resolve_id("plan", store.plan_ids(), ref))


@router.get("/{plan_id}")
def get_plan(
    request: Request,
    plan_id: str,
    allocation: bool = Query(True, description="Include the allocation rows (case, class, target, month)."),
) -> Response:
    """A stored plan as `plans show --json`: its figures (what to sign, cost, unmet demand, shadow prices,
    values), its signed options and allocation, and the runs that followed it."""
    with service_of(request).store() as store:
        stored = _load(store, plan_id)
        plan_id = stored.meta.plan_id
        followed = store.runs_of_plan(plan_id)
    return _json(
        {**stored.figures, **stored.meta.to_dict(), "signed_options": stored.signed.to_dict(orient="records"),
         "allocation": stored.allocation.to_dict(orient="records") if allocation else None,
         "runs_followed": followed,
         "links": _links(plan_id) | {f"compare_{r}": f"/v1/plans/{plan_id}/compare/{r}" for r in followed}}
    )  # fmt: skip


@router.get("/{plan_id}/report", response_class=HTMLResponse)
def report(
    request: Request,
    plan_id: str,
    run: str | None = Query(
        None, max_length=200, description="Add planned vs simulated use and cash of this finished run."
    ),
) -> HTMLResponse:
    """The plan's HTML page (as `plans report`, self-contained and offline), with `run`: planned vs
    simulated by contract and quarter."""
    from gpufleet.report.plan_compare import plan_vs_run
    from gpufleet.report.plan_page import render_plan, versus_table

    service = service_of(request)
    if run is not None:
        run = finished(service, run)  # before the store is opened: the runs' statuses take it too
    extra = []
    with service.store() as store:
        stored = _load(store, plan_id)
        if run is not None:
            extra.append(versus_table(plan_vs_run(stored, store.load_run(run)), run))
    return HTMLResponse(render_plan(stored, str(service.settings.store), extra=extra))


@router.get("/{plan_id}/compare/{run_id}")
def compare(request: Request, plan_id: str, run_id: str) -> Response:
    """Planned vs simulated use and cash (`compare PLAN RUN --json`): by contract and quarter, and summed by
    contract, provider and quarter; `run_followed_plan` says which plan the run followed, if any."""
    from gpufleet.report.plan_compare import plan_vs_run, totals

    service = service_of(request)
    run_id = finished(service, run_id)
    with service.store() as store:
        stored = _load(store, plan_id)
        tables = store.load_run(run_id)
        meta, followed = store.load_meta(run_id), store.plan_of_run(run_id)
    frame = plan_vs_run(stored, tables)
    return _json(
        {"plan": stored.meta.to_dict(), "run": meta.to_dict(), "run_followed_plan": followed,
         "by_contract_quarter": frame.to_dict(orient="records")}
        | {f"by_{k}": totals(frame, k).to_dict(orient="records") for k in ("contract", "provider", "quarter")}
    )  # fmt: skip
