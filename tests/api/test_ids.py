"""Every route that names a run, plan or sweep takes what the CLI takes: the full id, a unique prefix or
`latest`; none named is 404 with the close ids, a prefix of several 422 with the candidates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.conftest import AUTH, YAML, MakeClient, small_text, stored_plan, stored_sweep
from gpufleet.store import open_store

FAILED = ("20991231-000000-aaaaaa", "20991231-000000-aaaabb")  # status-only runs, newest of the store
JSON = AUTH | {"Accept": "application/json"}


@pytest.fixture
def stored(make_client: MakeClient, tmp_path: Path) -> tuple[TestClient, dict[str, Any]]:
    store = tmp_path / "results.duckdb"
    first_plan, _ = stored_plan(store)
    plan_id, run_id = stored_plan(store, follow=True)
    sweeps = [stored_sweep(store, samples=2), stored_sweep(store, samples=2)]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with open_store(store) as s:
        for i, failed in enumerate(FAILED):
            s.queue_run(failed, "small", 1, later + dt.timedelta(seconds=i))
            s.fail_run(failed, "broke")
    ids = {"plans": [first_plan, plan_id], "run": run_id, "sweeps": sweeps}
    return make_client(store=store), ids


def _ambiguous(r: Any, kind: str, candidates: list[str]) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["candidates"] == candidates
    assert body["detail"].startswith(f"{kind} ") and "ambiguous" in body["detail"]


def test_runs_by_prefix_and_latest(stored: tuple[TestClient, dict[str, Any]]) -> None:
    client, ids = stored
    run_id = ids["run"]
    prefix = run_id[:-3]
    assert client.get("/v1/runs/latest", headers=AUTH).json()["run_id"] == FAILED[1]
    assert client.get("/v1/runs/20991231-000000-aaaaa", headers=AUTH).json()["run_id"] == FAILED[0]
    shown = client.get(f"/v1/runs/{prefix}", headers=AUTH).json()
    assert shown["run_id"] == run_id and shown["status"] == "finished"
    page = client.get(f"/v1/runs/{prefix}/tables/jobs", params={"limit": 1}, headers=AUTH).json()
    assert page["run_id"] == run_id
    assert client.get(f"/v1/runs/{prefix}/report", headers=AUTH).status_code == 200
    compared = client.get(f"/v1/runs/{prefix}/compare/{run_id}", headers=JSON)
    assert compared.status_code == 200, compared.text
    assert client.get("/v1/runs/latest/report", headers=AUTH).status_code == 409  # the newest failed

    ambiguous = "20991231-000000-aaaa"
    for method, path in (
        ("GET", f"/v1/runs/{ambiguous}"),
        ("GET", f"/v1/runs/{ambiguous}/report"),
        ("GET", f"/v1/runs/{ambiguous}/tables/jobs"),
        ("GET", f"/v1/runs/{run_id}/compare/{ambiguous}"),
        ("DELETE", f"/v1/runs/{ambiguous}"),
    ):
        _ambiguous(client.request(method, path, headers=AUTH), "run", list(FAILED))
    _ambiguous(
        client.post(f"/v1/runs/{ambiguous}/whatif", json={"stress": True}, headers=AUTH), "run", list(FAILED)
    )
    assert [r["run_id"] for r in client.get("/v1/runs", headers=AUTH).json()["runs"]][-2:] == list(FAILED)

    missing = client.get("/v1/runs/20991231-000000-aaaaaz", headers=AUTH)
    assert missing.status_code == 404
    assert FAILED[0] in missing.json()["close"] and FAILED[0] in missing.json()["detail"]
    assert client.get("/v1/runs/x/report", headers=AUTH).json()["close"] == []


def test_plans_by_prefix_and_latest(stored: tuple[TestClient, dict[str, Any]]) -> None:
    client, ids = stored
    first, plan_id = ids["plans"]
    assert client.get("/v1/plans/latest", headers=AUTH).json()["plan_id"] == plan_id
    shown = client.get(f"/v1/plans/{first[:-1]}", params={"allocation": False}, headers=AUTH).json()
    assert shown["plan_id"] == first
    report = client.get(f"/v1/plans/{plan_id[:-1]}/report", params={"run": ids["run"][:-3]}, headers=AUTH)
    assert report.status_code == 200
    compared = client.get(f"/v1/plans/latest/compare/{ids['run'][:-3]}", headers=AUTH).json()
    assert compared["plan"]["plan_id"] == plan_id and compared["run"]["run_id"] == ids["run"]
    for path in ("/v1/plans/plan-", "/v1/plans/plan-/report", f"/v1/plans/plan-/compare/{ids['run']}"):
        _ambiguous(client.get(path, headers=AUTH), "plan", [first, plan_id])
    missing = client.get("/v1/plans/plan-none", headers=AUTH)
    assert missing.status_code == 404 and "no plan 'plan-none'" in missing.json()["detail"]
    # a query parameter that names no one plan is bad input: 422 naming `plan`, with the same words
    r = client.post("/v1/runs", params={"plan": "plan-"}, content=small_text(), headers=AUTH | YAML)
    assert r.status_code == 422 and r.json()["errors"][0]["where"] == "plan"
    assert "ambiguous" in r.json()["detail"]


def test_sweeps_by_prefix_and_latest(stored: tuple[TestClient, dict[str, Any]]) -> None:
    client, ids = stored
    first, last = ids["sweeps"]
    assert client.get("/v1/sweeps/latest", headers=AUTH).json()["sweep"]["sweep_id"] == last
    assert client.get(f"/v1/sweeps/{first[:-1]}", headers=AUTH).json()["sweep"]["sweep_id"] == first
    assert client.get(f"/v1/sweeps/{last[:-1]}/report", headers=AUTH).status_code == 200
    for path in ("/v1/sweeps/sw-", "/v1/sweeps/sw-/report"):
        _ambiguous(client.get(path, headers=AUTH), "sweep", [first, last])
    missing = client.get(f"/v1/sweeps/{first}x", headers=AUTH)
    assert missing.status_code == 404 and first in missing.json()["close"]


def test_the_openapi_document_says_which_ids_a_path_takes(client: TestClient) -> None:
    doc = client.get("/openapi.json", headers=AUTH).json()
    seen = set()
    for path, operations in doc["paths"].items():
        for op in operations.values():
            for p in op.get("parameters", []):
                if p["in"] == "path" and p["name"] in ("run_id", "other", "plan_id", "sweep_id"):
                    assert "unique prefix" in p["description"] and "`latest`" in p["description"], path
                    seen.add(p["name"])
    assert seen == {"run_id", "other", "plan_id", "sweep_id"}
