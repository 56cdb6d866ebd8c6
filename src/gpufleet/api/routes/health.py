"""`GET /health`: the one route open without the token (says nothing about the runs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gpufleet import __version__

router = APIRouter()


@router.get("/health", tags=["health"])
async def health() -> dict[str, Any]:
    """Answered on the event loop, never queued behind requests that wait for the store."""
    return {"status": "ok", "version": __version__}
