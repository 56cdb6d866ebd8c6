"""`gpufleet serve`: the HTTP API and the dashboard over a results store (needs the `service` extra)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer

from gpufleet.api.settings import (  # stdlib only: no FastAPI imported here
    RUN_TIME_LIMIT_S,
    SWEEP_TIME_LIMIT_S,
)
from gpufleet.cli import app
from gpufleet.cli.common import STORE_OPT
from gpufleet.errors import GpufleetError, InputError

_NEEDS = ("fastapi", "uvicorn")
KEEP_ALIVE_S = 5  # server-side: an idle connection is closed after this
MAX_CONNECTIONS = 512  # beyond this, uvicorn answers 503 (plain text)


def missing_extra() -> list[str]:
    """The service's packages that are not installed."""
    return [name for name in _NEEDS if importlib.util.find_spec(name) is None]


@app.command("serve")
def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind (not loopback: needs GPUFLEET_TOKEN)."
    ),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    store_path: Path = STORE_OPT,
    no_auth: bool = typer.Option(False, "--no-auth", help="No token (only on a loopback host)."),
    workers: int = typer.Option(2, "--workers", help="Worker processes that simulate runs."),
    queue: int = typer.Option(4, "--queue", help="Runs that may wait for a worker; more are refused (429)."),
    run_limit: float = typer.Option(
        RUN_TIME_LIMIT_S,
        "--run-time-limit",
        envvar="GPUFLEET_RUN_TIME_LIMIT_S",
        help="Seconds a run job may simulate; a longer one is stopped and recorded failed.",
    ),
    sweep_limit: float = typer.Option(
        SWEEP_TIME_LIMIT_S,
        "--sweep-time-limit",
        envvar="GPUFLEET_SWEEP_TIME_LIMIT_S",
        help="Seconds a sweep job may run; a longer one is stopped and recorded interrupted (resumable).",
    ),
) -> None:
    """Serve the HTTP API (/v1) and the dashboard (/); runs execute in a pool of worker processes."""
    missing = missing_extra()
    if missing:
        raise GpufleetError(
            f"`gpufleet serve` needs the service extra ({', '.join(missing)} missing): "
            "pip install 'gpufleet[service]'"
        )
    if not 1 <= port <= 65535:
        raise InputError(f"must be a TCP port (1 to 65535), got {port}", where="--port")
    if not store_path.parent.is_dir():
        raise InputError(f"folder {store_path.parent} does not exist", where="--store")
    import uvicorn

    from gpufleet.api.app import create_app
    from gpufleet.api.settings import Settings, check_settings, token_from_env

    settings = Settings(
        store=store_path, token=None if no_auth else token_from_env(), no_auth=no_auth, host=host,
        workers=workers, queue=queue, run_time_limit_s=run_limit, sweep_time_limit_s=sweep_limit,
    )  # fmt: skip
    check_settings(settings)  # before anything binds
    typer.echo(f"gpufleet serving {store_path} on http://{host}:{port}/ (auth {'off' if no_auth else 'on'})")
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_S, limit_concurrency=MAX_CONNECTIONS,
        timeout_graceful_shutdown=10, server_header=False,
    )  # fmt: skip
