"""The guards: bearer token (constant-time compare), loopback-only --no-auth, body limit, time limit,
no CORS, and every error as JSON problem details without a traceback."""

from __future__ import annotations

import hmac
import importlib.util
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import run_cli

from api.conftest import AUTH, TOKEN, YAML, MakeClient, small_text
from gpufleet.api.settings import Settings, check_settings, is_loopback
from gpufleet.errors import InputError


def _data_routes() -> list[tuple[str, str]]:
    """Every /v1 route of the app's routers (path parameters filled with `x`), and the OpenAPI
    document: a new route is checked here the day it is added to ROUTERS."""
    import re

    from fastapi.routing import APIRoute

    from gpufleet.api.app import ROUTERS

    routes = {(m, re.sub(r"\{[^}]+\}", "x", r.path)) for router in ROUTERS for r in router.routes
              if isinstance(r, APIRoute) and r.path.startswith("/v1/") for m in r.methods}  # fmt: skip
    return [*sorted(routes), ("GET", "/openapi.json")]


DATA_ROUTES = _data_routes()
assert ("POST", "/v1/sweeps") in DATA_ROUTES and ("POST", "/v1/runs/x/whatif") in DATA_ROUTES


@pytest.mark.parametrize(("method", "path"), DATA_ROUTES)
def test_every_data_route_needs_the_token(client: TestClient, method: str, path: str) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Basic {TOKEN}"},
    ):
        r = client.request(method, path, headers=headers)
        assert r.status_code == 401, (method, path, headers)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["status"] == 401


def test_health_and_dashboard_pages_are_open(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/").status_code == 200
    assert client.get("/static/dashboard.js").status_code == 200


def test_token_is_compared_in_constant_time(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert client.get("/v1/runs", headers=AUTH).status_code == 200
    assert client.get("/v1/runs", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert calls == [(TOKEN.encode(), TOKEN.encode()), (b"nope", TOKEN.encode())]


def test_no_auth_on_loopback(make_client: MakeClient) -> None:
    client = make_client(no_auth=True)
    assert client.get("/v1/runs").status_code == 200


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"host": "0.0.0.0", "token": None}, "GPUFLEET_TOKEN"),
        ({"host": "10.1.2.3", "token": None, "no_auth": True}, "--no-auth"),
        ({"host": "127.0.0.1", "token": "short"}, "GPUFLEET_TOKEN"),
        ({"host": "127.0.0.1", "token": TOKEN, "workers": 0}, "--workers"),
    ],
)
def test_unsafe_settings_are_refused(tmp_path: Any, fields: dict[str, Any], where: str) -> None:
    with pytest.raises(InputError) as err:
        check_settings(Settings(store=tmp_path / "s.duckdb", **fields))
    assert err.value.problems[0].where == where


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "::", "example.org"))


def test_serve_refuses_a_public_host_without_a_token(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GPUFLEET_TOKEN", raising=False)
    store = str(tmp_path / "s.duckdb")
    result = run_cli("serve", "--host", "0.0.0.0", "--store", store, capsys=capsys)
    assert result.code == 2 and "GPUFLEET_TOKEN" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("serve", "--host", "0.0.0.0", "--no-auth", "--store", store, capsys=capsys)
    assert result.code == 2 and "--no-auth" in result.stderr
    result = run_cli("serve", "--port", "70000", "--no-auth", "--store", store, capsys=capsys)
    assert result.code == 2 and "--port" in result.stderr


def test_serve_names_the_missing_extra(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "uvicorn" else real(n, *a))
    result = run_cli("serve", "--no-auth", "--store", str(tmp_path / "s.duckdb"), capsys=capsys)
    assert result.code == 1
    assert "gpufleet[service]" in result.stderr and "uvicorn" in result.stderr


def test_body_limit(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=1000)
    big = small_text() * 2
    assert len(big.encode()) > 1000
    r = client.post("/v1/scenarios/validate", content=big, headers=AUTH | YAML)
    assert r.status_code == 413 and r.json()["limit_bytes"] == 1000

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"# padding padding padding padding padding padding padding padding padding\n"

    r = client.post("/v1/scenarios/validate", content=chunks(), headers=AUTH | YAML)
    assert r.status_code == 413


def test_slow_request_is_503(make_client: MakeClient) -> None:
    client = make_client(request_timeout_s=1e-6)
    r = client.get("/v1/catalog/products", headers=AUTH)
    assert r.status_code == 503 and "Retry-After" in r.headers


def test_no_cors_by_default(client: TestClient) -> None:
    pre = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"}
    r = client.options("/v1/runs", headers=AUTH | pre)
    assert "access-control-allow-origin" not in r.headers
    r = client.get("/v1/runs", headers=AUTH | {"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in r.headers


def test_internal_error_is_a_problem_without_traceback(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gpufleet.catalog

    def boom() -> None:
        raise RuntimeError("secret detail in a frame")

    monkeypatch.setattr(gpufleet.catalog, "load_builtin_catalog", boom)
    client = make_client(raise_server_exceptions=False)
    r = client.get("/v1/catalog/products", headers=AUTH)
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in r.text and "secret detail" not in r.text


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    r = client.get("/v1/nothing-here", headers=AUTH)
    assert r.status_code == 404 and r.json()["title"] == "Not found"
    r = client.put("/v1/runs", headers=AUTH)
    assert r.status_code == 405
