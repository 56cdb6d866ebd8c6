"""GET /v1/catalog/*, POST /v1/estimate/training and POST /v1/deal: the models behind the CLI's commands."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.conftest import AUTH
from gpufleet.catalog import load_builtin_catalog


@pytest.mark.parametrize("kind", ["accelerators", "products", "prices"])
def test_catalog(client: TestClient, kind: str) -> None:
    cat = load_builtin_catalog()
    r = client.get(f"/v1/catalog/{kind}", headers=AUTH)
    assert r.status_code == 200
    rows = r.json()
    if kind == "accelerators":
        assert [a["id"] for a in rows] == list(cat.accelerators)
    elif kind == "products":
        assert [p["id"] for p in rows] == list(cat.products)
        assert all(p["gpus_per_domain"] == p["gpus_per_node"] * p["nodes_per_domain"] for p in rows)
    else:
        assert len(rows) == len(cat.prices)
    assert all(row["source_text"] for row in rows)


def test_unknown_catalog_is_404(client: TestClient) -> None:
    assert client.get("/v1/catalog/gpus", headers=AUTH).status_code == 404


def test_training_estimate_llama3(client: TestClient) -> None:
    """DESIGN.md: 6 N D = 3.8e25 FLOPs; ~67 days on 16,384 H100 at ~400 TFLOP/s, 70-75 with goodput."""
    body = {"params": 405e9, "tokens": 15.6e12, "accelerator": "h100", "gpus": 16384, "mfu": 0.40,
            "precision": "bf16", "price_per_gpu_hour_usd": 2.0}  # fmt: skip
    r = client.post("/v1/estimate/training", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["flops"] == pytest.approx(6 * 405e9 * 15.6e12, rel=1e-9)
    assert 60 < e["compute_days"] < 75
    assert e["compute_days"] < e["expected_wall_days"] < 1.15 * e["compute_days"]
    assert e["expected_cost_usd"] == pytest.approx(e["expected_gpu_hours"] * 2.0)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"gpus": 0}, "gpus"), ({"accelerator": "h999"}, "accelerator"), ({"colour": "red"}, "colour")],
)
def test_training_estimate_bad_input_is_422(
    client: TestClient, change: dict[str, object], field: str
) -> None:
    body = {"params": 405e9, "tokens": 15.6e12, "accelerator": "h100", "gpus": 16384} | change
    r = client.post("/v1/estimate/training", json=body, headers=AUTH)
    assert r.status_code == 422
    assert any(field in e["field"] for e in r.json()["errors"]), r.json()


def test_deal_gpus_from_amount_and_price(client: TestClient) -> None:
    body = {"product": "aws/u-p6e-gb200x72", "years": 4, "amount_usd": 38e9, "prices": [5.0]}
    r = client.post("/v1/deal", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    at5 = next(p for p in r.json()["points"] if p["price_per_gpu_hour_usd"] == 5.0)
    assert at5["gpus"] == pytest.approx(38e9 / (4 * 8760 * 5.0))


@pytest.mark.parametrize(
    "body",
    [
        {"product": "aws/nope", "years": 4, "amount_usd": 1e9},
        {"product": "aws/u-p6e-gb200x72", "years": 4},
        {"product": "aws/u-p6e-gb200x72", "years": -1, "amount_usd": 1e9},
        {"product": "aws/u-p6e-gb200x72", "years": 4, "amount_usd": 1e9, "prices": [-2]},
    ],
)
def test_deal_bad_input_is_422(client: TestClient, body: dict[str, object]) -> None:
    assert client.post("/v1/deal", json=body, headers=AUTH).status_code == 422
