"""`/v1/runs`: submit a run (202), list them, one run's status and findings, its tables, report, delete."""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from gpufleet.api.openapi import SCENARIO_BODY
from gpufleet.api.problems import ApiError
from gpufleet.api.routes.common import (
    load_runnable,
    plan_id_of,
    reserve,
    run_id_of,
    scenario_text,
    service_of,
)
from gpufleet.api.runner import now_utc
from gpufleet.api.service import Service
from gpufleet.errors import InputError, Problem
from gpufleet.jsontext import finite
from gpufleet.scenario import LoadedScenario
from gpufleet.store.meta import RunStatus, new_run_id
from gpufleet.tables import SCHEMAS

router = APIRouter(prefix="/v1/runs", tags=["runs"])
PAGE_DEFAULT = 1000
PAGE_MAX = 10_000
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"
_PARQUET_TYPES = (PARQUET, "application/x-parquet", "application/parquet")


def _status(service: Service, ref: str) -> RunStatus:
    """The status of the run that `ref` names (common.resolve_id: id, unique prefix or `latest`)."""
    run_id = run_id_of(service, ref)
    return next(s for s in service.statuses() if s.run_id == run_id)


def _status_dict(service: Service, s: RunStatus) -> dict[str, Any]:
    out = s.to_dict()
    for key in ("host", "pid"):
        out.pop(key, None)  # where the server runs is not the client's business
    progress = service.pool().progress(s.run_id) if s.status in ("queued", "running") else None
    out["progress"] = (
        {"fraction": progress.fraction, "label": progress.label}
        if progress
        else {"fraction": 1.0 if s.status == "finished" else 0.0, "label": s.status}
    )
    out["links"] = {"self": f"/v1/runs/{s.run_id}"}
    if s.status == "finished":
        tables = {name: f"/v1/runs/{s.run_id}/tables/{name}" for name in SCHEMAS}
        out["links"] |= {"report": f"/v1/runs/{s.run_id}/report", "tables": tables}
    return out


@router.post("", status_code=202, openapi_extra=SCENARIO_BODY)
async def submit(
    request: Request,
    response: Response,
    seed: int | None = Query(None, ge=0, le=2**63 - 1),
    plan: str | None = Query(
        None,
        max_length=200,
        description="A stored plan (POST /v1/plans; its id, a unique prefix or `latest`) for the run to "
        "follow, as `simulate --plan`: its options signed as contracts, jobs routed by its allocation. The "
        "scenario must be the plan's.",
    ),
) -> dict[str, Any]:
    """Check the scenario (422 like validate, or when its run would not fit memory, or when it is not the
    scenario of `plan`), queue it (429 when the pool is full): 202 with its id."""
    from starlette.concurrency import run_in_threadpool

    from gpufleet.api.worker import execute_run

    service = service_of(request)
    text = await scenario_text(request)

    def check() -> tuple[LoadedScenario, str | None]:
        if plan is None:
            return load_runnable(text), None
        try:  # a query parameter naming nothing is bad input (422), with the resolver's words
            plan_id = plan_id_of(service, plan)
        except ApiError as exc:
            raise InputError([Problem("plan", "", f"{exc.detail} (GET /v1/plans)")]) from None
        with service.store() as store:
            return load_runnable(text, store.load_plan(plan_id)), plan_id

    loaded, plan = await run_in_threadpool(check)
    pool = service.pool()
    run_id = new_run_id()
    reserve(service, run_id, "run")
    try:
        run_seed = loaded.scenario.seed if seed is None else seed

        def queue() -> None:
            with service.store(write=True) as store:
                store.queue_run(run_id, loaded.scenario.name, run_seed, now_utc())
                service.own(store, run_id)

        await run_in_threadpool(queue)
        pool.submit(run_id, execute_run, text, seed, plan, service.settings.run_time_limit_s)
    except BaseException:
        pool.release(run_id)
        raise
    response.headers["Location"] = f"/v1/runs/{run_id}"
    links = {"self": f"/v1/runs/{run_id}"} | ({"plan": f"/v1/plans/{plan}"} if plan else {})
    return {"run_id": run_id, "status": "queued", "seed": run_seed, "plan_id": plan, "links": links}


@router.get("")
def list_runs(request: Request) -> dict[str, Any]:
    """Every run the store knows, oldest first, with its status and (while in flight) progress."""
    service = service_of(request)
    statuses = service.statuses()
    return {"runs": [_status_dict(service, s) for s in statuses], "in_flight": service.pool().in_flight()}


def _summary(service: Service, run_id: str) -> dict[str, Any]:
    """A finished run's metadata, findings and headline (computed once, then kept)."""
    cached = service.cached_summary(run_id)
    if cached is not None:
        return cached
    from gpufleet.report import stored_context, summarize
    from gpufleet.report.headline import fmt_value, label, ordered_keys

    with service.store() as store:
        meta, tables = store.load_meta(run_id), store.load_run(run_id)
        context = stored_context(store, run_id)
        plan_id = store.plan_of_run(run_id)
    found, head = summarize(tables, context)
    shown = [  # as the report shows them: grouped, labelled, formatted
        {"group": group, "key": k, "label": label(k), "text": fmt_value(k, head[k])}
        for group, keys in ordered_keys(head) for k in keys
    ]  # fmt: skip
    summary = finite(
        {"run": meta.to_dict(), "findings": [f.to_dict() for f in found], "headline": head,
         "headline_text": shown, "tables": {name: len(df) for name, df in tables.items()},
         "plan_id": plan_id}
    )  # fmt: skip
    service.keep_summary(run_id, summary)
    return dict(summary)


@router.get("/{run_id}")
def get_run(request: Request, run_id: str) -> dict[str, Any]:
    """Status and progress; for a finished run also its metadata, findings, headline and table sizes."""
    service = service_of(request)
    s = _status(service, run_id)
    out = _status_dict(service, s)
    if out["status"] == "finished":
        out |= _summary(service, s.run_id)
    return out


def finished(service: Service, ref: str) -> str:
    """The id of the finished run that `ref` names; 409 when that run is not finished."""
    s = _status(service, ref)
    if s.status != "finished":
        raise ApiError(409, f"run {s.run_id} is {s.status}: it has no tables or report", run_status=s.status)
    return s.run_id


@router.get("/{run_id}/tables/{name}")
def table(
    request: Request,
    run_id: str,
    name: str = Path(
        description="A run table (another name is 404).", json_schema_extra={"enum": list(SCHEMAS)}
    ),
    offset: int = Query(0, ge=0),
    limit: int = Query(PAGE_DEFAULT, ge=1, le=PAGE_MAX),
) -> Response:
    """A run table: JSON a page at a time, or whole as CSV (Accept: text/csv) or Parquet."""
    if name not in SCHEMAS:
        raise ApiError(404, f"no table {name!r}; tables: {', '.join(SCHEMAS)}")
    service = service_of(request)
    run_id = finished(service, run_id)
    kind = _negotiate(request.headers.get("accept", ""))
    if kind == "application/json":
        return _page(service, run_id, name, offset, limit)
    with service.store() as store:
        df = store.load_table(run_id, name)
    if kind == CSV:
        text = df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        return Response(text, media_type=CSV, headers=_attachment(run_id, name, "csv"))
    if kind == PARQUET:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return Response(buf.getvalue(), media_type=PARQUET, headers=_attachment(run_id, name, "parquet"))
    raise AssertionError(kind)  # _negotiate answers one of the three


def _page(service: Service, run_id: str, name: str, offset: int, limit: int) -> Response:
    """One page of a table as JSON, read from the store alone (never the whole table, nor the run)."""
    with service.store() as store:
        total = store.table_rows(run_id, name)
        page = store.load_table(run_id, name, offset, limit)
    records = page.to_json(orient="records", date_format="iso", date_unit="us")
    nxt = offset + limit
    body = (
        '{"run_id":' + _js(run_id) + ',"table":' + _js(name) + f',"offset":{offset},"limit":{limit},'
        f'"total":{total},"columns":' + _js(list(page.columns)) + ',"next":'
        + (_js(f"/v1/runs/{run_id}/tables/{name}?offset={nxt}&limit={limit}") if nxt < total else "null")
        + ',"rows":' + records + "}"
    )  # fmt: skip
    return Response(body, media_type="application/json")


def _js(value: Any) -> str:
    import json

    return json.dumps(value)


def _attachment(run_id: str, name: str, ext: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{run_id}-{name}.{ext}"'}


def _negotiate(accept: str) -> str:
    """JSON unless the client asks for CSV or Parquet; 406 for an Accept none of the three meets."""
    wanted = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    for kind in wanted:
        if kind == CSV:
            return CSV
        if kind in _PARQUET_TYPES:
            return PARQUET
        if kind in ("application/json", "application/*", "*/*"):
            return "application/json"
    if wanted:
        raise ApiError(406, f"tables come as application/json, {CSV} or {PARQUET}, not {accept}")
    return "application/json"


@router.get("/{run_id}/report", response_class=HTMLResponse)
def report(request: Request, run_id: str) -> HTMLResponse:
    """The run's HTML report (self-contained: Plotly embedded, works offline)."""
    from gpufleet.report import render_report, stored_context

    service = service_of(request)
    run_id = finished(service, run_id)
    with service.store() as store:
        meta, tables = store.load_meta(run_id), store.load_run(run_id)
        context = stored_context(store, run_id)
    return HTMLResponse(render_report(meta, tables, source=str(service.settings.store), context=context))


@router.delete("/{run_id}")
def delete(request: Request, run_id: str) -> Response:
    """Delete a stored or failed run (204), cancel a queued one (204); a running one is 409."""
    service = service_of(request)
    s = _status(service, run_id)
    run_id = s.run_id
    if s.status == "running" or (s.status == "queued" and not service.pool().cancel(run_id)):
        raise ApiError(409, f"run {run_id} is running; delete it once it has finished or failed")
    with service.store(write=True) as store:
        if run_id in store.run_ids():
            store.delete_run(run_id)
        else:
            store.forget_run(run_id)
    service.forget_summary(run_id)
    return Response(status_code=204)


@router.get("/{run_id}/compare/{other}", response_class=HTMLResponse)
def compare(request: Request, run_id: str, other: str) -> Response:
    """Run A (this one) against run B: headline figures with deltas and overlaid plots, as HTML (offline),
    or the figures alone as JSON (`Accept: application/json`)."""
    from gpufleet.report import compare_headlines
    from gpufleet.report.compare import render_compare

    service = service_of(request)
    run_id, other = finished(service, run_id), finished(service, other)
    wants_json = "application/json" in request.headers.get("accept", "")
    with service.store() as store:
        if wants_json:
            return Response(
                _js(finite(compare_headlines(store, run_id, other))), media_type="application/json"
            )
        runs = {
            "A": (store.load_meta(run_id), store.load_run(run_id)),
            "B": (store.load_meta(other), store.load_run(other)),
        }
    return HTMLResponse(render_compare(runs, source=str(service.settings.store)))
