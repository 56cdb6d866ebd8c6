"""Errors as JSON problem details (RFC 9457): bad input 422 with each problem's place, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gpufleet.errors import GpufleetError, InputError, Problem
from gpufleet.jsontext import finite

PROBLEM_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
log = logging.getLogger("gpufleet.api")


class ApiError(Exception):
    """An HTTP error a route raises on purpose: status, detail, extra members, headers."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.extra = status, detail, headers or {}, extra


def problem(
    status: int, detail: str, instance: str = "", headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body |= finite(extra)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_TYPE)


def problems_list(problems: Iterable[Problem]) -> list[dict[str, str]]:
    return [{"where": p.where, "field": p.field, "message": p.message} for p in problems]


def input_problem(exc: InputError, instance: str = "") -> JSONResponse:
    return problem(422, str(exc), instance, errors=problems_list(exc.problems))


def install_handlers(app: FastAPI) -> None:
    """Every error leaves as problem details; anything unexpected is logged here and answered 500."""

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return problem(exc.status, exc.detail, request.url.path, exc.headers, **exc.extra)

    async def input_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InputError)
        return input_problem(exc, request.url.path)

    async def gpufleet_error(request: Request, exc: Exception) -> JSONResponse:
        return problem(503, str(exc), request.url.path)  # a store busy too long, and the like

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem(exc.status_code, str(exc.detail), request.url.path, exc.headers)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "where": "request",
                "field": ".".join(str(x) for x in e.get("loc", ())),
                "message": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        return problem(422, "the request is not valid", request.url.path, errors=errors)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(500, f"internal error ({type(exc).__name__}); see the server's log", request.url.path)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(InputError, input_error)
    app.add_exception_handler(GpufleetError, gpufleet_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
