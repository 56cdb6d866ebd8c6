"""The service's settings and the rule on binding: a non-loopback address needs a token, always."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from gpufleet.errors import InputError, Problem

TOKEN_ENV = "GPUFLEET_TOKEN"
MIN_TOKEN_CHARS = 16
RUN_TIME_LIMIT_S = 6 * 3600.0  # default: a run job that simulates longer is stopped (recorded failed)
SWEEP_TIME_LIMIT_S = 24 * 3600.0  # default: a sweep job that runs longer is stopped (interrupted, resumable)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the app needs; no globals, so tests build as many apps as they like."""

    store: Path
    token: str | None = None  # None only with no_auth on a loopback host
    no_auth: bool = False
    host: str = "127.0.0.1"
    workers: int = 2  # worker processes that simulate
    queue: int = 4  # runs that may wait for a worker beyond those running; more is 429
    max_body_bytes: int = 2 * 1024 * 1024
    request_timeout_s: float = 60.0  # a request (not a run) that takes longer gets 503
    retry_after_s: int = 30
    run_time_limit_s: float = RUN_TIME_LIMIT_S
    sweep_time_limit_s: float = SWEEP_TIME_LIMIT_S
    cors_origins: tuple[str, ...] = field(default_factory=tuple)  # none by default

    @property
    def capacity(self) -> int:
        return self.workers + self.queue


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address (127.0.0.0/8, ::1) or `localhost`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_from_env() -> str | None:
    text = os.environ.get(TOKEN_ENV, "").strip()
    return text or None


def check_settings(s: Settings) -> None:
    """Refuse settings that would expose the store: no token off loopback, --no-auth off loopback."""
    if s.no_auth and not is_loopback(s.host):
        raise InputError([Problem("--no-auth", "", f"only allowed on a loopback host, not {s.host!r}")])
    if not s.no_auth and s.token is None:
        raise InputError(
            [Problem(TOKEN_ENV, "", "set a bearer token (or pass --no-auth on a loopback host)")]
        )
    if s.token is not None and len(s.token) < MIN_TOKEN_CHARS:
        raise InputError([Problem(TOKEN_ENV, "", f"too short: use at least {MIN_TOKEN_CHARS} characters")])
    for value, name in ((s.workers, "--workers"), (s.max_body_bytes, "max body"), (s.retry_after_s, "retry")):
        if value < 1:
            raise InputError([Problem(name, "", f"must be at least 1, got {value}")])
    limits = ((s.run_time_limit_s, "--run-time-limit"), (s.sweep_time_limit_s, "--sweep-time-limit"))
    for limit, name in limits:
        if not limit > 0:  # NaN too
            raise InputError([Problem(name, "", f"must be more than 0 seconds, got {limit:g}")])
    if s.queue < 0:
        raise InputError([Problem("--queue", "", f"must be 0 or more, got {s.queue}")])
