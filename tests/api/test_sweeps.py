"""/v1/sweeps: a submitted sweep runs in the worker pool and its summary is that of its stored samples
(as `gpufleet sweep --json`); list, report; bounds and refusals."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from helpers import SCENARIOS, SMALL

from api.conftest import AUTH, YAML, MakeClient
from gpufleet.store import open_store
from gpufleet.store.sweeps import list_sweeps, load_samples

UNCERTAIN = SCENARIOS / "uncertain.yaml"


def _submit(client: TestClient, text: str, **params: Any) -> Any:
    return client.post("/v1/sweeps", params=params, content=text, headers=AUTH | YAML)


def _wait(client: TestClient, sweep_id: str, limit_s: float = 240.0) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/v1/sweeps/{sweep_id}", headers=AUTH).json()
        if body["status"] not in ("queued", "running"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"sweep {sweep_id} did not end in {limit_s} s")


def test_a_sweep_runs_in_the_pool_and_summarizes_its_stored_samples(
    client: TestClient, tmp_path: Path
) -> None:
    r = _submit(client, UNCERTAIN.read_text(encoding="utf-8"), samples=6, seed=2, fidelity="fluid")
    assert r.status_code == 202, r.text
    sweep_id = r.json()["sweep_id"]
    assert r.headers["location"] == f"/v1/sweeps/{sweep_id}"
    body = _wait(client, sweep_id)
    assert body["status"] == "finished", body
    assert body["progress"]["fraction"] == 1.0
    with open_store(tmp_path / "results.duckdb", read_only=True) as store:
        samples = load_samples(store, sweep_id)
    assert len(samples) == 6
    ok = samples[samples["error"].isna()]
    assert body["samples"]["finished"] == len(ok) and body["samples"]["failed"] == 6 - len(ok)
    spend = ok["spend_usd"].to_numpy()
    q = body["metrics"]["spend_usd"]
    assert q["p50"] == pytest.approx(np.median(spend))
    assert q["p10"] <= q["p50"] <= q["p90"]
    funding = body["probabilities"]["funding_need_above"]
    assert funding["probability"] == pytest.approx(float(np.mean(ok["funding_need_usd"].to_numpy() > 0)))
    higher = client.get(f"/v1/sweeps/{sweep_id}", params={"funding_threshold": 1e18}, headers=AUTH)
    assert higher.status_code == 422  # past the bound
    never = client.get(f"/v1/sweeps/{sweep_id}", params={"funding_threshold": 1e15}, headers=AUTH).json()
    assert never["probabilities"]["funding_need_above"]["probability"] == 0.0
    assert {(s["input"], s["metric"]) for s in body["sensitivity"]} >= {("aws-price", "spend_usd")}
    assert "fluid" in body["fluid_error"]

    listed = client.get("/v1/sweeps", headers=AUTH).json()["sweeps"]
    assert [(s["sweep_id"], s["stored"], s["status"]) for s in listed] == [(sweep_id, 6, "finished")]
    page = client.get(f"/v1/sweeps/{sweep_id}/report", headers=AUTH)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="fan-spend_usd"' in page.text and 'id="tornado-spend_usd"' in page.text
    assert 'src="http' not in page.text  # offline: Plotly embedded


def test_bad_sweeps_are_refused_and_nothing_is_stored(client: TestClient) -> None:
    text = UNCERTAIN.read_text(encoding="utf-8")
    no_section = _submit(client, SMALL.read_text(encoding="utf-8"), samples=2)
    assert no_section.status_code == 422 and "uncertainty" in no_section.json()["detail"]
    for params, where in (
        ({"samples": 0}, "query.samples"),
        ({"samples": 101, "fidelity": "full"}, "samples"),
        ({"samples": 2001}, "query.samples"),
        ({"fidelity": "exact"}, "fidelity"),
    ):
        r = _submit(client, text, **params)
        assert r.status_code == 422, params
        assert [e["field"] or e["where"] for e in r.json()["errors"]] == [where], r.json()
    broken = text.replace("kind: triangular, low: 0.0", "kind: triangular, low: 0.9")  # low above mode
    r = _submit(client, broken, samples=2)
    assert r.status_code == 422 and r.json()["errors"][0]["where"].startswith("<request body>:")
    assert client.get("/v1/sweeps", headers=AUTH).json() == {"sweeps": []}


def test_unknown_sweeps_are_404_and_no_token_401(client: TestClient) -> None:
    for path in ("/v1/sweeps/sw-none", "/v1/sweeps/sw-none/report"):
        r = client.get(path, headers=AUTH)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/sweeps").status_code == 401
    assert client.post("/v1/sweeps", content="name: x", headers=YAML).status_code == 401


def test_sweeps_share_the_pool_with_runs_and_a_stop_interrupts_them(
    make_client: MakeClient, tmp_path: Path
) -> None:
    store = tmp_path / "stop.duckdb"
    client = make_client(store=store, workers=1, queue=1)
    text = UNCERTAIN.read_text(encoding="utf-8")
    running = _submit(client, text, samples=100, fidelity="full").json()["sweep_id"]  # minutes of work
    waiting = _submit(client, text, samples=2).json()["sweep_id"]
    full = client.post("/v1/runs", content=SMALL.read_text(encoding="utf-8"), headers=AUTH | YAML)
    assert full.status_code == 429 and full.headers["retry-after"]  # both places are the sweeps'
    assert client.get("/v1/runs", headers=AUTH).json()["in_flight"] == 2
    client.__exit__(None, None, None)  # the server stops with both in flight
    with open_store(store, read_only=True) as s:
        statuses = {r["sweep_id"]: r["status"] for r in list_sweeps(s).to_dict("records")}
    assert statuses == {running: "interrupted", waiting: "interrupted"}
