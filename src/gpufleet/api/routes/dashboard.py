"""The dashboard: static pages and a script shipped in the package; the plots are the run's report's.

The pages hold no data: their scripts call /v1 with the token the user typed (kept in the tab's
sessionStorage, sent as a bearer header), so the pages themselves are served without it.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from gpufleet.api.problems import ApiError

router = APIRouter(include_in_schema=False)
_STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}


def _text(name: str) -> str:
    return files("gpufleet.api").joinpath("static", name).read_text(encoding="utf-8")


@router.get("/")
def index() -> HTMLResponse:
    return HTMLResponse(_text("index.html"))


@router.get("/ui/runs/{run_id}")
def run_page(run_id: str) -> HTMLResponse:
    return HTMLResponse(_text("run.html"))


@router.get("/ui/compare/{run_a}/{run_b}")
def compare_page(run_a: str, run_b: str) -> HTMLResponse:
    return HTMLResponse(_text("compare.html"))


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in _STATIC:
        raise ApiError(404, f"no file {name!r}")
    return Response(_text(name), media_type=_STATIC[name])
