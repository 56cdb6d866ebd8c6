"""The app factory: settings in, a FastAPI app out, with its guards, error handlers and routes.

Routes live one module per resource in api/routes/, each added to ROUTERS.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from gpufleet import __version__
from gpufleet.api.guards import PROTECTED_PREFIXES, Guards
from gpufleet.api.openapi import install_openapi
from gpufleet.api.problems import install_handlers
from gpufleet.api.routes import (
    catalog,
    dashboard,
    estimate,
    health,
    plans,
    runs,
    scenarios,
    sweeps,
    whatifs,
)
from gpufleet.api.service import Service
from gpufleet.api.settings import Settings, check_settings

ROUTERS = (
    health.router,
    scenarios.router,
    runs.router,
    whatifs.router,
    catalog.router,
    estimate.router,
    plans.router,
    sweeps.router,
    dashboard.router,
)


def create_app(settings: Settings) -> FastAPI:
    """A new app over `settings.store`; the worker pool starts and stops with the app's lifespan."""
    check_settings(settings)
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(service.start)
        try:
            yield
        finally:
            await run_in_threadpool(service.stop)

    app = FastAPI(
        title="gpufleet",
        version=__version__,
        summary="Plan, simulate and account a multi-cloud AI compute fleet: runs, plans, what-ifs, sweeps.",
        lifespan=lifespan,
        docs_url=None,  # the interactive docs load their scripts from a CDN: not offered
        redoc_url=None,
    )
    app.state.service = service
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_openapi(app, () if settings.no_auth else PROTECTED_PREFIXES)
    if settings.cors_origins:  # none by default
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )  # fmt: skip
    app.add_middleware(Guards, settings=settings)  # outermost: before anything reads the body
    return app
