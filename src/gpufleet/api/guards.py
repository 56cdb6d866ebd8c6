"""ASGI guards in front of every route: the bearer token, the request body limit and a time limit."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gpufleet.api.problems import problem
from gpufleet.api.settings import Settings

# Routes that need the token: every data route. /health and the dashboard's static files (pages and
# scripts with no data in them; they call /v1 with the token the user types) are open.
PROTECTED_PREFIXES = ("/v1/", "/openapi.json")


def token_ok(header: str | None, token: str) -> bool:
    """`Authorization: Bearer TOKEN`, compared in constant time (hmac.compare_digest)."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class Guards:
    """Auth, then the body limit, then a time limit on the rest of the request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        s = self.settings
        path = scope.get("path", "")
        guarded = not s.no_auth and s.token is not None and path.startswith(PROTECTED_PREFIXES)
        if guarded and not token_ok(_header(scope, b"authorization"), s.token or ""):
            await problem(
                401, "a bearer token is required (Authorization: Bearer $GPUFLEET_TOKEN)", path,
                {"WWW-Authenticate": 'Bearer realm="gpufleet"'},
            )(scope, receive, send)  # fmt: skip
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def handle() -> None:  # reading the body counts against the time limit too
            body = await self._body(scope, receive, watch)
            if body is None:
                return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # a disconnect, when it comes

            await self.app(scope, replay, watch)

        try:
            await asyncio.wait_for(handle(), timeout=s.request_timeout_s)
        except TimeoutError:
            if not started:
                await problem(
                    503, f"the request took longer than {s.request_timeout_s:g} s", path,
                    {"Retry-After": str(s.retry_after_s)},
                )(scope, receive, send)  # fmt: skip

    async def _body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole request body, or None after answering 413 when it exceeds the limit."""
        limit = self.settings.max_body_bytes
        path = scope.get("path", "")
        too_big = problem(413, f"the request body exceeds {limit:,} bytes", path, limit_bytes=limit)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_big(scope, receive, send)
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message: dict[str, Any] = dict(await receive())
            if message["type"] != "http.request":
                return b""  # the client went away
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if size > limit:
                await too_big(scope, receive, send)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
