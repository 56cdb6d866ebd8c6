"""POST /v1/plans: the plan of a posted scenario equals `gpufleet plan --json`; bad input is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import run_cli
from plan.tiny import tiny

from api.conftest import AUTH, YAML


def test_a_posted_plan_equals_the_cli_plan(
    client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tiny().text  # the hand-solvable tiny plan of tests/plan
    r = client.post("/v1/plans", content=text, headers=AUTH | YAML)
    assert r.status_code == 200, r.text
    body = r.json()
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(text)
    cli = run_cli("plan", str(scenario), "--json", "--no-values", capsys=capsys)
    assert cli.code == 0
    expected = json.loads(cli.stdout)
    assert body["scenario"] == expected["scenario"] == "tiny"
    assert body["signed"] == expected["signed"]
    assert body["objective_pv_usd"] == pytest.approx(expected["objective_pv_usd"])
    assert body["status"] == expected["status"]


def test_a_bad_plan_request_is_422_or_refused(client: TestClient) -> None:
    assert client.post("/v1/plans", content="name: [", headers=AUTH | YAML).status_code == 422
    r = client.post("/v1/plans?time_limit=0", content="name: x", headers=AUTH | YAML)
    assert r.status_code == 422
    assert client.post("/v1/plans", content="name: x", headers=YAML).status_code == 401
