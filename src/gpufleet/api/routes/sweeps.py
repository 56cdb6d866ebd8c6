"""`/v1/sweeps`: submit a sweep over a scenario's uncertainty section (202, run in the worker pool like a
run), list them, one sweep's status and P10/P50/P90, probabilities and sensitivity, and its HTML page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from gpufleet.api.openapi import SCENARIO_BODY
from gpufleet.api.routes.common import BODY_WHERE, load_body, reserve, resolve_id, scenario_text, service_of
from gpufleet.api.service import Service
from gpufleet.errors import InputError, Problem
from gpufleet.jsontext import finite, to_json

if TYPE_CHECKING:
    import pandas as pd

    from gpufleet.store.sweeps import SweepRecord

router = APIRouter(prefix="/v1/sweeps", tags=["sweeps"])
FIDELITIES = ("fluid", "full")  # risk/sweep.py FIDELITIES, in the order offered: the fast one first
MAX_SAMPLES = {"fluid": 2000, "full": 100}  # per request: a full sample is a whole simulation
IN_FLIGHT = ("queued", "running")


def _json(value: Any, status: int = 200) -> Response:
    return Response(to_json(value, indent=None), status_code=status, media_type="application/json")


def _links(sweep_id: str) -> dict[str, str]:
    return {"self": f"/v1/sweeps/{sweep_id}", "report": f"/v1/sweeps/{sweep_id}/report"}


def _progress(service: Service, sweep_id: str, status: str, stored: int, planned: int) -> dict[str, Any]:
    held = service.pool().progress(sweep_id) if status in IN_FLIGHT else None
    if held is not None:
        return {"fraction": held.fraction, "label": held.label}
    return {"fraction": stored / max(planned, 1), "label": status}


@router.post("", status_code=202, openapi_extra=SCENARIO_BODY)
async def submit(
    request: Request,
    response: Response,
    samples: int = Query(100, ge=1, le=max(MAX_SAMPLES.values()), description="Samples to draw and run."),
    fidelity: str = Query(
        "fluid",
        description="fluid: the monthly model (fast); full: a whole simulation per sample.",
        json_schema_extra={"enum": list(FIDELITIES)},
    ),
    seed: int | None = Query(None, ge=0, le=2**63 - 1, description="Default: the scenario's seed."),
) -> dict[str, Any]:
    """Check the scenario and its `uncertainty` section (422 naming line and field, nothing stored), record
    the sweep `queued` and hand it to the worker pool (429 when full): 202 with its id. Samples are
    bounded per fidelity (fluid 2000, full 100)."""
    from gpufleet.api.worker import execute_sweep
    from gpufleet.store.sweeps import create_sweep

    service = service_of(request)
    text = await scenario_text(request)
    if fidelity not in FIDELITIES:
        raise InputError([Problem("fidelity", "", f"'{fidelity}' is not one of {', '.join(FIDELITIES)}")])
    if samples > MAX_SAMPLES[fidelity]:
        raise InputError(
            [Problem("samples", "", f"at most {MAX_SAMPLES[fidelity]} samples a {fidelity} sweep")]
        )

    def check() -> SweepRecord:
        from gpufleet import machine
        from gpufleet.risk.driver import sweep_record

        loaded = load_body(text)
        record = sweep_record(
            loaded, samples, loaded.scenario.seed if seed is None else seed, fidelity, "queued"
        )
        why = machine.memory_shortfall(loaded) if fidelity == "full" else None
        if why is not None:
            raise InputError([Problem(BODY_WHERE, "", why)])
        return record

    record = await run_in_threadpool(check)
    sweep_id = record.sweep_id
    pool = service.pool()
    reserve(service, sweep_id, "sweep")
    try:

        def queue() -> None:
            with service.store(write=True) as store:
                create_sweep(store, record)
                service.own(store, sweep_id)

        await run_in_threadpool(queue)
        pool.submit(sweep_id, execute_sweep, service.settings.sweep_time_limit_s)
    except BaseException:
        pool.release(sweep_id)
        raise
    response.headers["Location"] = f"/v1/sweeps/{sweep_id}"
    return {"sweep_id": sweep_id, "status": "queued", "samples": samples, "seed": record.seed,
            "fidelity": fidelity, "links": _links(sweep_id)}  # fmt: skip


def _listed(store: Any) -> list[dict[str, Any]]:
    from gpufleet.store.service_jobs import notes
    from gpufleet.store.sweeps import list_sweeps

    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in list_sweeps(store).to_dict("records")
    ]
    said = notes(store)
    return [
        {**r, "samples": int(r["samples"]), "seed": int(r["seed"]), "stored": int(r["stored"]),
         "failed": int(r["failed"]), "created": str(r["created"]), "message": said.get(r["sweep_id"], "")}
        for r in rows
    ]  # fmt: skip


@router.get("")
def list_all(request: Request) -> Response:
    """Every stored sweep (also those of `gpufleet sweep`), oldest first: status, samples stored of
    planned, failed, and progress while one runs."""
    service = service_of(request)
    with service.store() as store:
        rows = _listed(store)
    out = [
        r | {"progress": _progress(service, r["sweep_id"], r["status"], r["stored"], r["samples"]),
             "links": _links(r["sweep_id"])}
        for r in rows
    ]  # fmt: skip
    return _json({"sweeps": out})


def _load(service: Service, ref: str) -> tuple[SweepRecord, pd.DataFrame, str]:
    """The sweep that `ref` names (common.resolve_id: id, unique prefix or `latest`; else 404 / 422), its
    stored samples and the server's note on how it ended ("" when none)."""
    from gpufleet.store.service_jobs import notes
    from gpufleet.store.sweeps import load_samples, load_sweep

    with service.store() as store:
        sweep_id = resolve_id("sweep", [r["sweep_id"] for r in _listed(store)], ref)
        note = notes(store).get(sweep_id, "")
        return load_sweep(store, sweep_id), load_samples(store, sweep_id), note


def _summary(record: SweepRecord, frame: pd.DataFrame, funding: float, unused: float) -> dict[str, Any]:
    from gpufleet.risk.driver import swept_scenario
    from gpufleet.risk.summary import summarize_sweep
    from gpufleet.risk.sweep import uncertainty_of

    return summarize_sweep(uncertainty_of(swept_scenario(record)), frame, record.samples, funding, unused)


THRESHOLD = Query(0.0, ge=0, le=1e15, description="Report P(figure > this many $); default 0: any at all.")


@router.get("/{sweep_id}")
def get_sweep(
    request: Request, sweep_id: str, funding_threshold: float = THRESHOLD, unused_threshold: float = THRESHOLD
) -> Response:
    """Status and progress; over the samples stored so far, as `gpufleet sweep --json`: P10/P50/P90 and mean
    of each metric, P(funding need > threshold), P(unused commitment > threshold), each input's effect
    on each metric (rank correlation, first-order index), yearly fans and failed samples' errors."""
    service = service_of(request)
    record, frame, note = _load(service, sweep_id)
    sweep_id = record.sweep_id
    out: dict[str, Any] = {"sweep": record.to_dict(), "status": record.status, "message": note,
                           "links": _links(sweep_id)}  # fmt: skip
    out["progress"] = _progress(service, sweep_id, record.status, len(frame), record.samples)
    out |= _summary(record, frame, funding_threshold, unused_threshold)
    if record.fidelity == "fluid":
        from gpufleet.risk.error import fluid_error_note

        out["fluid_error"] = fluid_error_note()
    return _json(finite(out))


@router.get("/{sweep_id}/report", response_class=HTMLResponse)
def report(request: Request, sweep_id: str) -> HTMLResponse:
    """The sweep's HTML page over the samples stored so far: fan charts of yearly figures, each metric's
    spread and a tornado of what drives it (self-contained, Plotly embedded, works offline)."""
    from gpufleet.report.risk_charts import render_sweep_report

    record, frame, _ = _load(service_of(request), sweep_id)
    summary = _summary(record, frame, 0.0, 0.0)
    return HTMLResponse(render_sweep_report(record.to_dict(), summary, frame))
