"""Fixtures of the API tests: an app over a fresh store, a TestClient that runs its lifespan, and small
stored plans and sweeps (made the way `gpufleet plan`, `simulate --plan` and `gpufleet sweep` make them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import SCENARIOS, SMALL

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


def stored_plan(store: Path, follow: bool = False) -> tuple[str, str | None]:
    """The tiny plan of tests/plan (900 GPUs of research on 720 held: it signs 3 domains of `more`) kept
    in `store`; with `follow`, also a run that followed it (as `simulate --plan`). (plan id, run id)."""
    from cli.test_simulate_plan import RESEARCH
    from plan.tiny import tiny

    from gpufleet.pipeline import run_scenario
    from gpufleet.plan.follow import follow_plan
    from gpufleet.plan.record import plan_record
    from gpufleet.plan.run import make_plan, prepare
    from gpufleet.store import open_store

    loaded = tiny(workloads=RESEARCH)
    inputs = prepare(loaded.scenario, loaded.catalog, loaded.source_map, 60.0, 0.01)
    result = make_plan(inputs, values=False)
    with open_store(store) as s:
        plan_id = s.save_plan(plan_record(result, loaded.scenario, loaded.catalog, loaded.content_hash))
        plan = s.load_plan(plan_id)
    if not follow:
        return plan_id, None
    followed, months = follow_plan(loaded, loaded, plan)
    run = run_scenario(followed, seed=1, plan_months=months)
    with open_store(store) as s:
        s.save_run(run.meta, run.tables, scenario_text=loaded.text, plan_id=plan_id)
    return plan_id, run.meta.run_id


def stored_sweep(store: Path, samples: int = 3) -> str:
    """A finished fluid sweep of tests/scenarios/uncertain.yaml kept in `store`; its id."""
    from gpufleet.risk.driver import Execution, execute, new_sweep
    from gpufleet.scenario import load_scenario

    loaded = load_scenario(SCENARIOS / "uncertain.yaml")
    record = new_sweep(loaded, store, samples, 1, "fluid")
    return execute(record, loaded, store, Execution()).sweep_id
