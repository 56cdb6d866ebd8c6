"""Fixtures of the API tests: an app over a fresh store, and a TestClient that runs its lifespan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import SMALL

pytest.importorskip("fastapi", reason="the API tests need the service extra: pip install 'gpufleet[service]'")

from fastapi.testclient import TestClient

from gpufleet.api.app import create_app
from gpufleet.api.settings import Settings

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
YAML = {"Content-Type": "application/yaml"}

MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[MakeClient]:
    """Build clients over stores in tmp_path (settings as keywords); each is closed after the test."""
    opened: list[Any] = []

    def make(**fields: Any) -> TestClient:
        fields.setdefault("store", tmp_path / "results.duckdb")
        fields.setdefault("token", None if fields.get("no_auth") else TOKEN)
        fields.setdefault("workers", 1)
        fields.setdefault("queue", 1)
        raise_errors = fields.pop("raise_server_exceptions", True)
        client = TestClient(create_app(Settings(**fields)), raise_server_exceptions=raise_errors)
        opened.append(client.__enter__())
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


def small_text() -> str:
    return SMALL.read_text(encoding="utf-8")
