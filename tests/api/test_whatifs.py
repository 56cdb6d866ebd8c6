"""POST /v1/runs/{id}/whatif: the fluid what-if of a stored run equals `gpufleet whatif --json`; the
estimate is the run moved by the fluid change; stresses and their tornado; refusals name the change."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import SMALL, run_cli

from api.conftest import AUTH, MakeClient
from gpufleet.api.service import STATUS_TTL_S
from gpufleet.pipeline import run_scenario
from gpufleet.risk.metrics import METRICS
from gpufleet.risk.whatif import clamp
from gpufleet.scenario import load_scenario_text
from gpufleet.store import open_store

PRICE = "contracts.aws-main.price_per_gpu_hour_usd*=1.5"


@pytest.fixture
def stored(make_client: MakeClient, tmp_path: Path) -> tuple[TestClient, str, Path]:
    """A client over a store holding one finished run of tests/scenarios/small.yaml (its text kept)."""
    store = tmp_path / "results.duckdb"
    loaded = load_scenario_text(SMALL.read_text(encoding="utf-8"), str(SMALL))
    result = run_scenario(loaded)
    with open_store(store) as s:
        s.save_run(result.meta, result.tables, scenario_text=loaded.text)
    return make_client(store=store), result.meta.run_id, store


def _whatif(client: TestClient, run_id: str, **body: object) -> object:
    return client.post(f"/v1/runs/{run_id}/whatif", json=body, headers=AUTH)


def test_a_fluid_whatif_equals_the_cli_and_moves_the_run_by_the_fluid_change(
    stored: tuple[TestClient, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    client, run_id, store = stored
    r = client.post(f"/v1/runs/{run_id}/whatif", json={"overrides": [PRICE]}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    cli = run_cli("whatif", run_id, "--set", PRICE, "--store", str(store), "--json", capsys=capsys)
    assert cli.code == 0, cli.stderr
    expected = json.loads(cli.stdout)
    assert body["changes"] == expected["changes"] == [PRICE]
    for key in ("run", "fluid_run_scenario", "fluid_changed", "estimate"):
        assert body[key] == pytest.approx(expected[key]), key
    for m in METRICS:  # estimate = run + (fluid changed - fluid run's scenario), clamped
        change = body["fluid_changed"][m] - body["fluid_run_scenario"][m]
        assert body["estimate"][m] == pytest.approx(clamp(m, body["run"][m] + change))
    assert body["fluid_changed"]["spend_usd"] > body["fluid_run_scenario"]["spend_usd"]  # dearer GPUs
    assert "fluid" in body["fluid_error_note"] and body["fluid_error"]


def test_stresses_give_rows_and_a_tornado(stored: tuple[TestClient, str, Path]) -> None:
    client, run_id, _ = stored
    r = client.post(f"/v1/runs/{run_id}/whatif", json={"stress": True}, headers=AUTH)
    assert r.status_code == 200, r.text
    stress = r.json()["stress"]
    assert stress["rows"]
    for metric, bars in stress["tornado"].items():  # the rows' changes, largest effect first
        by_row = {row["stress"]: row["change"][metric] for row in stress["rows"]}
        assert {b["stress"]: b["change"] for b in bars} == by_row
        sizes = [abs(b["change"]) for b in bars]
        assert sizes == sorted(sizes, reverse=True)
    page = client.post(
        f"/v1/runs/{run_id}/whatif", json={"stress": True}, headers=AUTH | {"Accept": "text/html"}
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="tornado"' in page.text and 'src="http' not in page.text


def test_bad_overrides_are_422_naming_the_override(stored: tuple[TestClient, str, Path]) -> None:
    client, run_id, _ = stored
    cases = {
        "no operator here": "overrides[0]",
        "contracts.no-such-contract.price_per_gpu_hour_usd=2": "overrides[1]",
        "contracts.aws-main.price_per_gpu_hour_usd=-3": "overrides[1]",
    }
    for text, where in cases.items():
        body = {"overrides": [PRICE, text] if where.endswith("[1]") else [text]}
        r = client.post(f"/v1/runs/{run_id}/whatif", json=body, headers=AUTH)
        assert r.status_code == 422, text
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert any(e["where"].startswith(where) for e in problem["errors"]), problem
    for bad in ({}, {"overrides": "x=1"}, {"overrides": [PRICE], "extra": 1}):
        assert client.post(f"/v1/runs/{run_id}/whatif", json=bad, headers=AUTH).status_code == 422, bad


def test_unknown_or_unfinished_runs_and_no_token(stored: tuple[TestClient, str, Path]) -> None:
    client, run_id, store = stored
    assert client.post("/v1/runs/none/whatif", json={"overrides": [PRICE]}, headers=AUTH).status_code == 404
    with open_store(store) as s:
        s.begin_run("r-broken", "small", 1, s.list_runs()[0].started)
        s.fail_run("r-broken", "it broke")
    time.sleep(STATUS_TTL_S + 0.1)  # written behind the service's back: its statuses are read this often
    r = client.post("/v1/runs/r-broken/whatif", json={"overrides": [PRICE]}, headers=AUTH)
    assert r.status_code == 409
    assert client.post(f"/v1/runs/{run_id}/whatif", json={"overrides": [PRICE]}).status_code == 401


def test_stresses_run_in_the_worker_pool_taking_a_place(stored: tuple[TestClient, str, Path]) -> None:
    """A stressed what-if takes a place of the pool (429 when none is free, as a run); changes alone are
    answered in a server thread whatever the pool holds; nothing of either is recorded in the store."""
    client, run_id, store = stored
    url = f"/v1/runs/{run_id}/whatif"
    pool = client.app.state.service.pool()
    held = [f"held-{i}" for i in range(pool.capacity)]
    for job in held:
        pool.reserve(job)
    full = client.post(url, json={"stress": True}, headers=AUTH)
    assert full.status_code == 429, full.text
    assert "what-if" in full.json()["detail"] and full.headers["retry-after"]
    assert client.post(url, json={"overrides": [PRICE]}, headers=AUTH).status_code == 200
    for job in held:
        pool.release(job)
    bad = [PRICE, "contracts.no-such.price_per_gpu_hour_usd=2"]
    refused = client.post(url, json={"overrides": bad, "stress": True}, headers=AUTH)
    assert refused.status_code == 422  # refused in the worker, named as a thread names it
    assert any(e["where"].startswith("overrides[1]") for e in refused.json()["errors"])
    ok = client.post(url, json={"overrides": [PRICE], "stress": True}, headers=AUTH)
    assert ok.status_code == 200 and ok.json()["stress"]["rows"]
    assert pool.in_flight() == 0
    with open_store(store, read_only=True) as s:
        assert [st.run_id for st in s.statuses()] == [run_id]
