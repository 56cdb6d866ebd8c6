"""`POST /v1/scenarios/validate`: the normalized scenario, or 422 naming each problem's line and field."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gpufleet.api.openapi import SCENARIO_BODY
from gpufleet.api.routes.common import load_body, scenario_text

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])


@router.post("/validate", openapi_extra=SCENARIO_BODY)
async def validate(request: Request) -> dict[str, Any]:
    """The scenario after loading and cross-checks, with its defaults filled in and its content hash."""
    loaded = load_body(await scenario_text(request))
    s = loaded.scenario
    return {
        "ok": True,
        "name": s.name,
        "content_hash": loaded.content_hash,
        "scenario": s.model_dump(mode="json"),
    }
