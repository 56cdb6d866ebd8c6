"""The dashboard: static pages and a script shipped in the package; the plots are the stored reports'.

Every page is one shell (static/page.html: head, header, token form, script) around its own fragment
(static/runs.html, run.html ...). The pages hold no data: their scripts call /v1 with the token the
user typed (kept in the tab's sessionStorage, sent as a bearer header), so they are served without it.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from string import Template

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from gpufleet.api.problems import ApiError

router = APIRouter(include_in_schema=False)
_STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
PAGES = {  # data-page (dashboard.js PAGES) -> the title in the header
    "runs": "runs",
    "run": "run",
    "compare": "compare",
    "plans": "plans",
    "plan": "plan",
    "sweeps": "sweeps",
    "sweep": "sweep",
}


def _text(name: str) -> str:
    return files("gpufleet.api").joinpath("static", name).read_text(encoding="utf-8")


@functools.cache
def page(name: str) -> str:
    """The page `name`: its fragment in the shared shell (read once; both ship with the package)."""
    return Template(_text("page.html")).substitute(title=PAGES[name], page=name, main=_text(f"{name}.html"))


@router.get("/")
def index() -> HTMLResponse:
    return HTMLResponse(page("runs"))


@router.get("/ui/runs/{run_id}")
def run_page(run_id: str) -> HTMLResponse:
    return HTMLResponse(page("run"))


@router.get("/ui/compare/{run_a}/{run_b}")
def compare_page(run_a: str, run_b: str) -> HTMLResponse:
    return HTMLResponse(page("compare"))


@router.get("/ui/plans")
def plans_page() -> HTMLResponse:
    return HTMLResponse(page("plans"))


@router.get("/ui/plans/{plan_id}")
def plan_page(plan_id: str) -> HTMLResponse:
    """One plan; `?run=ID` shows its page with planned vs simulated against that run."""
    return HTMLResponse(page("plan"))


@router.get("/ui/sweeps")
def sweeps_page() -> HTMLResponse:
    return HTMLResponse(page("sweeps"))


@router.get("/ui/sweeps/{sweep_id}")
def sweep_page(sweep_id: str) -> HTMLResponse:
    return HTMLResponse(page("sweep"))


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in _STATIC:
        raise ApiError(404, f"no file {name!r}")
    return Response(_text(name), media_type=_STATIC[name])
