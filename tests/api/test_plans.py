"""/v1/plans: a posted plan equals `gpufleet plan --json` and is kept; list, show, report and compare read
the store as `plans list|show|report` and `compare PLAN RUN` do; a run may follow a plan; errors."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from cli.test_simulate_plan import RESEARCH as WORKLOAD  # 900 GPUs of research on 720: signs 3 domains
from fastapi.testclient import TestClient
from helpers import run_cli
from plan.tiny import tiny

from api.conftest import AUTH, YAML, MakeClient
from gpufleet.store import open_store


def _post(client: TestClient, text: str, **params: Any) -> Any:
    return client.post("/v1/plans", params={"values": False} | params, content=text, headers=AUTH | YAML)


def test_a_posted_plan_equals_the_cli_plan_and_is_stored(
    client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tiny().text  # the hand-solvable tiny plan of tests/plan
    r = _post(client, text)
    assert r.status_code == 201, r.text
    body = r.json()
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(text)
    cli_store = tmp_path / "cli.duckdb"  # never the working directory's store
    cli = run_cli("plan", str(scenario), "--json", "--no-values", "--store", str(cli_store), capsys=capsys)
    assert cli.code == 0
    expected = json.loads(cli.stdout)
    assert body["scenario"] == expected["scenario"] == "tiny"
    assert body["signed"] == expected["signed"]
    assert body["objective_pv_usd"] == pytest.approx(expected["objective_pv_usd"])
    assert body["status"] == expected["status"]
    plan_id = body["plan_id"]
    assert r.headers["location"] == f"/v1/plans/{plan_id}"
    with open_store(tmp_path / "results.duckdb", read_only=True) as store:  # the client's store
        assert store.plan_ids() == [plan_id]
        kept = store.load_plan(plan_id)
    assert kept.meta.cost_pv_usd == pytest.approx(body["cost_pv_usd"])


def test_list_show_and_report_read_the_stored_plan(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/v1/plans", headers=AUTH).json() == {"plans": []}
    first = _post(client, tiny().text).json()["plan_id"]
    second = _post(client, tiny(power_mw=50.0).text).json()["plan_id"]
    listed = client.get("/v1/plans", headers=AUTH).json()["plans"]
    assert [p["plan_id"] for p in listed] == [first, second]  # oldest first
    with open_store(tmp_path / "results.duckdb", read_only=True) as store:
        stored = store.load_plan(second)
    shown = client.get(f"/v1/plans/{second}", headers=AUTH).json()
    assert shown["plan_id"] == second and shown["scenario_name"] == "tiny"
    assert shown["signed"] == stored.figures["signed"]
    assert shown["power_shadow_usd_per_mw"] == stored.figures["power_shadow_usd_per_mw"]
    assert len(shown["allocation"]) == len(stored.allocation) and shown["runs_followed"] == []
    page = client.get(f"/v1/plans/{second}/report", headers=AUTH)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert second in page.text and 'data-table="signed"' in page.text
    assert 'src="http' not in page.text  # offline


def test_unknown_plans_are_404_and_bad_requests_422_or_401(client: TestClient) -> None:
    for path in ("/v1/plans/plan-none", "/v1/plans/plan-none/report", "/v1/plans/plan-none/compare/x"):
        r = client.get(path, headers=AUTH)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/problem+json")
    assert client.post("/v1/plans", content="name: [", headers=AUTH | YAML).status_code == 422
    r = client.post("/v1/plans?time_limit=0", content="name: x", headers=AUTH | YAML)
    assert r.status_code == 422
    for method, path in (("POST", "/v1/plans"), ("GET", "/v1/plans"), ("GET", "/v1/plans/plan-none")):
        assert client.request(method, path, content="name: x", headers=YAML).status_code == 401


def test_a_plan_whose_solves_could_outlast_the_request_is_refused(make_client: MakeClient) -> None:
    client = make_client(request_timeout_s=10.0)
    r = _post(client, tiny().text, values=True, time_limit=5)  # 1 solve + 1 site + 1 option, 5 s each
    assert r.status_code == 422
    assert r.json()["errors"][0]["where"] == "time_limit"
    assert "3 solves" in r.json()["detail"]
    assert _post(client, tiny().text, values=True, time_limit=2).status_code == 201  # 6 s of 9 allowed


def _wait(client: TestClient, run_id: str, limit_s: float = 240.0) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/v1/runs/{run_id}", headers=AUTH).json()
        if body["status"] in ("finished", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not end in {limit_s} s")


def test_a_run_follows_a_stored_plan_and_compares_with_it(
    client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tiny(workloads=WORKLOAD).text
    plan_id = _post(client, text).json()["plan_id"]
    r = client.post("/v1/runs", params={"plan": plan_id, "seed": 3}, content=text, headers=AUTH | YAML)
    assert r.status_code == 202, r.text
    run_id = r.json()["run_id"]
    run = _wait(client, run_id)
    assert run["status"] == "finished", run
    assert run["plan_id"] == plan_id
    assert client.get(f"/v1/plans/{plan_id}", headers=AUTH).json()["runs_followed"] == [run_id]
    compared = client.get(f"/v1/plans/{plan_id}/compare/{run_id}", headers=AUTH)
    assert compared.status_code == 200, compared.text
    body = compared.json()
    cli = run_cli("compare", plan_id, run_id, "--json", "--store", str(tmp_path / "results.duckdb"),
                  capsys=capsys)  # fmt: skip
    assert cli.code == 0, cli.stderr
    assert body["by_contract_quarter"] == json.loads(cli.stdout)["by_contract_quarter"]
    assert body["run_followed_plan"] == plan_id
    by_contract = {row["contract"]: row for row in body["by_contract"]}
    assert by_contract["more"]["simulated_gpu_hours"] > 0  # the signed option ran as a contract
    for name, row in by_contract.items():  # the totals are the sums of the quarters
        quarters = [q for q in body["by_contract_quarter"] if q["contract"] == name]
        assert row["planned_cash_usd"] == pytest.approx(sum(q["planned_cash_usd"] for q in quarters))
    page = client.get(f"/v1/plans/{plan_id}/report", params={"run": run_id}, headers=AUTH)
    assert page.status_code == 200 and 'data-table="versus"' in page.text


def test_a_run_with_an_unknown_or_foreign_plan_is_422(client: TestClient) -> None:
    text = tiny(workloads=WORKLOAD).text
    r = client.post("/v1/runs", params={"plan": "plan-none"}, content=text, headers=AUTH | YAML)
    assert r.status_code == 422 and r.json()["errors"][0]["where"] == "plan"
    plan_id = _post(client, tiny(power_mw=50.0, workloads=WORKLOAD).text).json()["plan_id"]
    r = client.post("/v1/runs", params={"plan": plan_id}, content=text, headers=AUTH | YAML)
    assert r.status_code == 422 and "hash" in r.json()["detail"]
    assert client.get("/v1/runs", headers=AUTH).json()["runs"] == []  # nothing queued
