"""POST /v1/scenarios/validate: the normalized scenario, or 422 naming each problem's line and field."""

from __future__ import annotations

import json

import yaml
from fastapi.testclient import TestClient
from helpers import SCENARIOS

from api.conftest import AUTH, YAML, small_text
from gpufleet.scenario import load_scenario_file


def test_valid_yaml_gives_the_normalized_scenario(client: TestClient) -> None:
    r = client.post("/v1/scenarios/validate", content=small_text(), headers=AUTH | YAML)
    assert r.status_code == 200
    body = r.json()
    loaded = load_scenario_file(SCENARIOS / "small.yaml")
    assert body["name"] == "small-two-cloud"
    assert body["content_hash"] == loaded.content_hash
    assert body["scenario"] == loaded.scenario.model_dump(mode="json")  # defaults filled in


def test_json_body_reads_the_same_scenario(client: TestClient) -> None:
    data = yaml.safe_load(small_text())
    text = json.dumps(data, default=str, indent=1)
    r = client.post(
        "/v1/scenarios/validate", content=text, headers=AUTH | {"Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["scenario"] == load_scenario_file(SCENARIOS / "small.yaml").scenario.model_dump(
        mode="json"
    )


def test_bad_scenario_is_422_with_line_and_field(client: TestClient) -> None:
    text = small_text().replace("blocks: 4, domains_per_block: 8", "blocks: -4, domains_per_block: 8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "blocks: -4" in t)
    r = client.post("/v1/scenarios/validate", content=text, headers=AUTH | YAML)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert any(e["where"] == f"<request body>:{line}" and "blocks" in e["field"] for e in errors), errors


def test_yaml_syntax_error_names_its_line(client: TestClient) -> None:
    r = client.post(
        "/v1/scenarios/validate", content="name: x\nhorizon: [1, 2\nseed: 3\n", headers=AUTH | YAML
    )
    assert r.status_code == 422
    assert all(e["where"].startswith("<request body>:") for e in r.json()["errors"])


def test_empty_body_and_wrong_media_type(client: TestClient) -> None:
    assert client.post("/v1/scenarios/validate", content=" \n", headers=AUTH | YAML).status_code == 422
    r = client.post(
        "/v1/scenarios/validate", content=small_text(), headers=AUTH | {"Content-Type": "image/png"}
    )
    assert r.status_code == 415
    r = client.post("/v1/scenarios/validate", content=b"\xff\xfe", headers=AUTH | YAML)
    assert r.status_code == 422
