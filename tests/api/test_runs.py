"""/v1/runs: a run submitted, queued in the store, run by a worker process, polled to finished; its
tables paged as JSON and whole as CSV and Parquet; its report; 429 when the pool is full; delete."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.conftest import AUTH, TOKEN, YAML, MakeClient, small_text
from gpufleet.api.app import create_app
from gpufleet.api.settings import Settings
from gpufleet.report import stored_context, summarize
from gpufleet.store import open_store

POLL_LIMIT_S = 240.0


def submit(client: TestClient, text: str | None = None, **params: Any) -> Any:
    return client.post("/v1/runs", content=text or small_text(), headers=AUTH | YAML, params=params)


def wait_done(client: TestClient, run_id: str) -> dict[str, Any]:
    """Poll until the run is finished or failed (bounded), as a client would."""
    end = time.monotonic() + POLL_LIMIT_S
    seen = set()
    while time.monotonic() < end:
        body: dict[str, Any] = client.get(f"/v1/runs/{run_id}", headers=AUTH).json()
        seen.add(body["status"])
        if body["status"] in ("finished", "failed"):
            body["seen"] = seen
            return body
        assert 0.0 <= body["progress"]["fraction"] <= 1.0
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} not done after {POLL_LIMIT_S} s")


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app over one store with one finished run, shared by the read tests below."""
    store = tmp_path_factory.mktemp("runs") / "results.duckdb"
    with TestClient(create_app(Settings(store=store, token=TOKEN, workers=1, queue=0))) as client:
        r = submit(client, seed=11)
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        assert r.headers["location"] == f"/v1/runs/{run_id}"
        full = submit(client)  # the one place is taken by the first run
        done = wait_done(client, run_id)
        yield client, store, run_id, done, full


def test_run_finishes_with_headline_and_findings_from_the_store(finished: Any) -> None:
    client, store, run_id, done, _ = finished
    assert done["status"] == "finished", done
    assert done["seed"] == 11 and done["run"]["seed"] == 11
    assert done["progress"]["fraction"] == 1.0
    with open_store(store, read_only=True) as s:
        found, head = summarize(s.load_run(run_id), stored_context(s, run_id))
        sizes = {name: len(df) for name, df in s.load_run(run_id).items()}
    assert [f["text"] for f in done["findings"]] == [f.text for f in found]
    assert done["headline"]["jobs_finished"] == head["jobs_finished"]
    shown = {h["key"]: h for h in done["headline_text"]}
    assert set(shown) == set(head)
    assert shown["jobs_finished"]["text"] == f"{head['jobs_finished']:,.0f}"
    assert done["tables"] == sizes and sizes["jobs"] > 0
    for name, link in done["links"]["tables"].items():
        assert client.get(link, params={"limit": 1}, headers=AUTH).json()["total"] == sizes[name]
    listed = client.get("/v1/runs", headers=AUTH).json()["runs"]
    assert [r["run_id"] for r in listed] == [run_id] and listed[0]["status"] == "finished"


def test_pool_full_is_429_with_retry_after(finished: Any) -> None:
    full = finished[4]
    assert full.status_code == 429
    assert int(full.headers["retry-after"]) > 0
    assert full.json()["status"] == 429


def test_tables_paginate_as_json(finished: Any) -> None:
    client, store, run_id, _, _ = finished
    with open_store(store, read_only=True) as s:
        jobs = s.load_run(run_id).jobs
    ids: list[int] = []
    url: str | None = f"/v1/runs/{run_id}/tables/jobs?limit=5000"
    pages = 0
    while url:
        page = client.get(url, headers=AUTH).json()
        assert page["total"] == len(jobs) and page["columns"] == list(jobs.columns)
        ids += [row["id"] for row in page["rows"]]
        url = page["next"]
        pages += 1
    assert pages == -(-len(jobs) // 5000)
    assert ids == jobs["id"].tolist()
    one = client.get(f"/v1/runs/{run_id}/tables/jobs", params={"offset": 3, "limit": 2}, headers=AUTH).json()
    assert [r["id"] for r in one["rows"]] == jobs["id"].iloc[3:5].tolist()


def test_a_page_equals_the_slice_of_the_whole_table(finished: Any) -> None:
    """Every table, pages at odd offsets (the last one short, one past the end empty): the rows are
    those of the whole table read from the store, sliced."""
    client, store, run_id, _, _ = finished
    with open_store(store, read_only=True) as s:
        run = s.load_run(run_id)
    for name, whole in run.items():
        for offset, limit in ((0, 1), (3, 7), (max(0, len(whole) - 2), 5), (len(whole) + 4, 3)):
            r = client.get(
                f"/v1/runs/{run_id}/tables/{name}", params={"offset": offset, "limit": limit}, headers=AUTH
            )
            assert r.status_code == 200, r.text
            page = r.json()
            want = whole.iloc[offset : offset + limit]
            rows = want.to_json(orient="records", date_format="iso", date_unit="us")
            assert page["rows"] == json.loads(rows), (name, offset, limit)
            assert page["total"] == len(whole) and page["columns"] == list(whole.columns)
            assert (page["next"] is None) == (offset + limit >= len(whole))


def test_tables_as_csv_and_parquet(finished: Any) -> None:
    client, store, run_id, _, _ = finished
    with open_store(store, read_only=True) as s:
        ledger = s.load_run(run_id).ledger
    r = client.get(f"/v1/runs/{run_id}/tables/ledger", headers=AUTH | {"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    csv = pd.read_csv(io.StringIO(r.text))
    assert list(csv.columns) == list(ledger.columns) and len(csv) == len(ledger)
    r = client.get(
        f"/v1/runs/{run_id}/tables/ledger", headers=AUTH | {"Accept": "application/vnd.apache.parquet"}
    )
    assert r.status_code == 200
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(r.content)), ledger)


def test_table_and_run_4xx(finished: Any) -> None:
    client, _, run_id, _, _ = finished
    assert client.get(f"/v1/runs/{run_id}/tables/nope", headers=AUTH).status_code == 404
    assert client.get("/v1/runs/no-such-run", headers=AUTH).status_code == 404
    assert client.get("/v1/runs/no-such-run/report", headers=AUTH).status_code == 404
    bad = client.get(f"/v1/runs/{run_id}/tables/jobs", params={"limit": 0}, headers=AUTH)
    assert bad.status_code == 422
    assert (
        client.get(f"/v1/runs/{run_id}/tables/jobs", headers=AUTH | {"Accept": "image/png"}).status_code
        == 406
    )


def test_report_is_the_runs_html(finished: Any) -> None:
    client, _, run_id, _, _ = finished
    r = client.get(f"/v1/runs/{run_id}/report", headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert run_id in r.text
    assert "Plotly.newPlot" in r.text


def test_bad_scenario_is_not_queued(client: TestClient) -> None:
    r = submit(client, text="name: x\n")
    assert r.status_code == 422
    assert client.get("/v1/runs", headers=AUTH).json()["runs"] == []


def test_queued_then_cancelled_running_not_deletable_finished_deleted(make_client: MakeClient) -> None:
    client = make_client(workers=1, queue=1)
    first = submit(client).json()["run_id"]
    second = submit(client).json()["run_id"]  # waits for the one worker
    assert client.get(f"/v1/runs/{second}", headers=AUTH).json()["status"] == "queued"
    assert client.delete(f"/v1/runs/{second}", headers=AUTH).status_code == 204
    assert client.get(f"/v1/runs/{second}", headers=AUTH).status_code == 404
    end = time.monotonic() + POLL_LIMIT_S
    while client.get(f"/v1/runs/{first}", headers=AUTH).json()["status"] == "queued":
        assert time.monotonic() < end
        time.sleep(0.05)
    if client.get(f"/v1/runs/{first}", headers=AUTH).json()["status"] == "running":
        assert client.delete(f"/v1/runs/{first}", headers=AUTH).status_code == 409
    assert wait_done(client, first)["status"] == "finished"
    assert client.delete(f"/v1/runs/{first}", headers=AUTH).status_code == 204
    assert client.get(f"/v1/runs/{first}", headers=AUTH).status_code == 404
    assert client.get("/v1/runs", headers=AUTH).json()["runs"] == []


_STALE = """
import datetime as dt, sys
from gpufleet.store import open_store
with open_store(sys.argv[1]) as s:
    now = dt.datetime.now(dt.UTC)
    s.queue_run("20260101-000000-aaaaaa", "left-queued", 1, now)
    s.begin_run("20260101-000000-bbbbbb", "left-running", 1, now)
"""


def test_restart_marks_runs_left_in_flight_failed(make_client: MakeClient, tmp_path: Path) -> None:
    store = tmp_path / "results.duckdb"
    with open_store(store):
        pass
    subprocess.run([sys.executable, "-c", _STALE, str(store)], check=True, timeout=60)  # then it exits
    client = make_client(store=store)
    runs = {r["run_id"]: r for r in client.get("/v1/runs", headers=AUTH).json()["runs"]}
    assert runs["20260101-000000-aaaaaa"]["status"] == "failed"
    assert "before the run started" in runs["20260101-000000-aaaaaa"]["message"]
    assert runs["20260101-000000-bbbbbb"]["status"] == "failed"
    with open_store(store, read_only=True) as s:  # written so in the store, not only read so
        assert {st.run_id: st.status for st in s.statuses()} == {
            "20260101-000000-aaaaaa": "failed",
            "20260101-000000-bbbbbb": "failed",
        }
    assert client.delete("/v1/runs/20260101-000000-aaaaaa", headers=AUTH).status_code == 204


def test_server_stop_fails_the_runs_in_flight(make_client: MakeClient, tmp_path: Path) -> None:
    store = tmp_path / "stop.duckdb"
    client = make_client(store=store, workers=1, queue=1)
    run_ids = [submit(client).json()["run_id"] for _ in range(2)]
    client.__exit__(None, None, None)  # the server stops with both in flight
    with open_store(store, read_only=True) as s:
        statuses = {st.run_id: st for st in s.statuses()}
    for run_id in run_ids:
        assert statuses[run_id].status in ("failed", "finished")
    assert statuses[run_ids[1]].status == "failed"


def test_compare_a_run_with_itself(finished: Any) -> None:
    client, _, run_id, done, _ = finished
    r = client.get(f"/v1/runs/{run_id}/compare/{run_id}", headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Plotly.newPlot" in r.text
    js = client.get(
        f"/v1/runs/{run_id}/compare/{run_id}", headers=AUTH | {"Accept": "application/json"}
    ).json()
    assert set(js) == set(done["headline"])
    for key, row in js.items():
        assert row["a"] == row["b"] == done["headline"][key]
        assert row["delta"] in (0, None)
    assert client.get(f"/v1/runs/{run_id}/compare/nope", headers=AUTH).status_code == 404


def test_a_run_that_would_not_fit_memory_is_422_and_not_queued(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As simulate without --force: the estimate against what this machine has, named in the answer."""
    from gpufleet import machine
    from gpufleet.scenario import load_scenario_text
    from gpufleet.scenario.limits import estimate, fmt_bytes

    loaded = load_scenario_text(small_text(), "small")
    need = estimate(loaded.scenario, loaded.catalog).memory_bytes
    monkeypatch.setattr(machine, "available_memory_bytes", lambda: need / 4)
    client = make_client(store=tmp_path / "fit.duckdb")
    r = submit(client)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    [err] = r.json()["errors"]
    assert err["where"] == "<request body>"
    assert fmt_bytes(need) in err["message"] and fmt_bytes(need / 4) in err["message"]
    assert "memory" in err["message"]
    assert client.get("/v1/runs", headers=AUTH).json() == {"runs": [], "in_flight": 0}  # nothing queued
