"""schemathesis against the served OpenAPI document (through the ASGI app, no server process): every
operation, data that fits its schema and data that does not, with the token never a 5xx and every
error a problem document; without the token every /v1 request is refused (401), never a 5xx.

Bounded and deterministic: a fixed number of examples per operation and mode, derandomized; the
store is a temporary one holding a finished and a failed run, a plan and a sweep, so generated
requests meet real ids too; the app's worker processes are stopped at the end and none is left behind.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from store.test_builder import make_tables
from store.test_roundtrip import make_meta

from api.conftest import AUTH, TOKEN, stored_plan, stored_sweep
from gpufleet.api.app import create_app
from gpufleet.api.settings import Settings
from gpufleet.store import open_store

EXAMPLES = 20  # per operation and generation mode (positive, negative)
EXAMPLES_ON_A_ID = 6  # the same, with stored ids fixed (a run's report is rendered each time)
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
Check = Callable[[Any, Any], None]
BOUNDED = {
    "/v1/plans": {"time_limit": 2},
    "/v1/sweeps": {"samples": 2},
}  # a generated plan that solves is bounded by this (seconds)


@dataclass
class Served:
    schema: Any
    finished: str  # a stored, finished run
    failed: str  # a run recorded failed, with no tables
    plan: str  # a stored plan
    sweep: str  # a stored, finished sweep


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app over a temporary store with a finished and a failed run; its lifespan (and worker pool)
    is stopped afterwards, and no worker process outlives it."""
    store = tmp_path_factory.mktemp("fuzz") / "results.duckdb"
    meta = make_meta()
    failed = make_meta(minutes=3).run_id
    with open_store(store) as s:
        s.save_run(meta, make_tables(seed=3, days=40, n_jobs=60))
        s.begin_run(failed, "two-clouds", 1, meta.started)
        s.fail_run(failed, "it broke")
    plan, sweep = stored_plan(store)[0], stored_sweep(store)
    before = set(multiprocessing.active_children())
    app = create_app(Settings(store=store, token=TOKEN, workers=1, queue=0, request_timeout_s=30))
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)
        yield Served(schema, meta.run_id, failed, plan, sweep)
    finally:
        shutdown_lifespans()
    left = [p for p in multiprocessing.active_children() if p not in before]
    assert not left, f"worker processes left behind: {left}"


def _operations(served: Served) -> list[Any]:
    return [op.ok() for op in served.schema.get_all_operations()]


def _fixed_ids(served: Served, op: Any) -> dict[str, str]:
    """The stored ids for the operation's path parameters: runs, plan and sweep (a deletion: the failed
    run, so that the others still read the finished one)."""
    run = served.failed if op.method.upper() == "DELETE" else served.finished
    ids = {"run_id": run, "other": served.finished, "plan_id": served.plan, "sweep_id": served.sweep}
    return {p.name: ids[p.name] for p in op.path_parameters if p.name in ids}


def _explore(served: Served, check: Check, token: bool, fixed_ids: bool = False) -> list[str]:
    """`check(case, response)` on generated cases of every operation and mode (with the stored runs',
    plan's and sweep's ids as path parameters when `fixed_ids`, for the operations that take one); the
    failures."""
    failures: list[str] = []
    operations = _operations(served)
    if fixed_ids:  # the deletion last
        operations = sorted(
            (op for op in operations if _fixed_ids(served, op)), key=lambda op: op.method.upper() == "DELETE"
        )
    for op in operations:
        fixed: dict[str, str] | None = None
        if fixed_ids:
            fixed = _fixed_ids(served, op)
        for mode in MODES:

            @settings(
                max_examples=EXAMPLES_ON_A_ID if fixed_ids else EXAMPLES,
                derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck),
            )  # fmt: skip
            @given(
                case=op.as_strategy(generation_mode=mode, path_parameters=fixed, query=BOUNDED.get(op.path))
            )
            def run(case: Any) -> None:
                headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
                case.headers = headers | AUTH if token else headers  # generated credentials replaced
                check(case, case.call())

            try:
                run()
            except Unsatisfiable:  # no data breaks this operation's schema (free strings): nothing to send
                assert mode is GenerationMode.NEGATIVE, op.label
            except Exception as exc:  # every failure is collected and shown at once
                failures.append(f"{op.label} ({mode.value}): {type(exc).__name__}: {str(exc)[:800]}")
    return failures


def _where(case: Any, response: Any) -> str:
    return f"{case.method} {case.formatted_path} -> {response.status_code}"


def _no_5xx(case: Any, response: Any) -> None:
    where = _where(case, response)
    assert response.status_code < 500, f"{where}: {response.content[:400]!r}"
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json"), where
        assert response.json()["status"] == response.status_code, where


def _refused(case: Any, response: Any) -> None:
    where = _where(case, response)
    if case.path == "/health":
        assert response.status_code == 200, where
        return
    assert response.status_code == 401, where
    assert response.headers["www-authenticate"][0].startswith("Bearer"), where
    assert response.json()["status"] == 401, where


def test_no_5xx_with_the_token(served: Served) -> None:
    failures = _explore(served, _no_5xx, token=True) + _explore(served, _no_5xx, token=True, fixed_ids=True)
    assert not failures, "\n".join(failures)


def test_without_the_token_every_v1_request_is_refused(served: Served) -> None:
    failures = _explore(served, _refused, token=False)
    assert not failures, "\n".join(failures)


def test_the_spec_covers_every_v1_route(served: Served) -> None:
    """Every /v1 route of the app is in the spec, so the fuzzing above reaches it."""
    from fastapi.routing import APIRoute

    from gpufleet.api.app import ROUTERS

    routes = {(m, r.path) for router in ROUTERS for r in router.routes  # the app includes them lazily
              if isinstance(r, APIRoute) and r.path.startswith("/v1") for m in r.methods}  # fmt: skip
    assert ("POST", "/v1/sweeps") in routes
    spec = {(op.method.upper(), op.path) for op in _operations(served)}
    assert routes <= spec, routes - spec
