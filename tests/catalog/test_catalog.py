"""The built-in catalog: every entry sourced, ids as DESIGN.md says, figures equal to the shared facts."""

from __future__ import annotations

import json

import pytest
import yaml
from helpers import run_cli, shared_data

from gpufleet.catalog import load_builtin_catalog, load_sources
from gpufleet.scenario import load_scenario_text

REQUIRED_ACCELERATORS = {"h100", "h200", "b200", "b300", "gb200", "gb300", "mi300x", "mi355x", "trainium2"}
REQUIRED_PRODUCTS = {
    "aws/p5", "aws/p5en", "aws/p6-b200", "aws/p6-b300", "aws/u-p6e-gb200x36", "aws/u-p6e-gb200x72",
    "aws/u-p6e-gb300x72", "aws/u-trn2x64", "azure/nd-h100-v5", "azure/nd-gb200-v6", "azure/nd-gb300-v6",
    "google/a4x", "oci/bm-gpu-gb200", "oci/bm-gpu-gb300", "coreweave/gb200-nvl72",
}  # fmt: skip
# our id -> the shared facts file's id
FACT_IDS = {
    "h100": "h100_sxm", "h200": "h200_sxm", "b200": "b200_hgx", "b300": "b300_hgx", "gb200": "gb200_gpu",
    "gb300": "gb300_gpu", "mi300x": "mi300x", "mi355x": "mi355x", "trainium2": "trainium2",
}  # fmt: skip


def test_required_ids_present() -> None:
    cat = load_builtin_catalog()
    assert set(cat.accelerators) >= REQUIRED_ACCELERATORS
    assert set(cat.products) >= REQUIRED_PRODUCTS


def test_every_entry_names_known_sources() -> None:
    cat = load_builtin_catalog()
    sources = load_sources()
    entries = [*cat.accelerators.values(), *cat.products.values(), *cat.prices]
    assert entries
    for entry in entries:
        assert entry.sources, entry
        for key in entry.sources:
            assert key in sources, f"{entry} names unknown source {key!r}"
        for figure in entry.notes:
            assert figure in type(entry).model_fields or figure == "price", f"note on unknown figure {figure}"


def test_products_reference_accelerators_and_domains_match() -> None:
    cat = load_builtin_catalog()
    for product in cat.products.values():
        acc = cat.accelerators[product.accelerator]
        assert product.id.startswith(product.provider + "/")
        # an NVL72 product's domain is the accelerator's NVLink domain; HGX servers are one 8-GPU node
        assert product.gpus_per_domain in (acc.nvlink_domain_gpus, acc.nvlink_domain_gpus // 2)


def test_accelerator_figures_equal_shared_facts() -> None:
    facts = yaml.safe_load(shared_data("facts/catalog-reference.yaml").read_text())
    by_id = {a["id"]: a for a in facts["accelerators"]}
    cat = load_builtin_catalog()
    for ours, theirs in FACT_IDS.items():
        fact, acc = by_id[theirs], cat.accelerators[ours]
        assert acc.tflops.bf16 == fact["bf16_dense_tflops"]
        assert acc.tflops.fp8 == fact["fp8_dense_tflops"]
        assert acc.tflops.fp4 == fact["fp4_dense_tflops"]
        assert acc.hbm_tbps == fact["hbm_tbps"]
        if fact.get("power_w"):
            assert acc.power_w == fact["power_w"]


def test_gb200_capacity_block_price_equals_shared_facts() -> None:
    facts = yaml.safe_load(shared_data("facts/catalog-reference.yaml").read_text())
    fact = next(p for p in facts["prices"] if p["sku"] == "u-p6e-gb200x72" and p["kind"] == "capacity_block")
    listed = load_builtin_catalog().list_price("aws/u-p6e-gb200x72")
    assert listed is not None
    assert listed.usd_per_gpu_hour == pytest.approx(fact["usd_per_gpu_hour"])
    assert listed.usd_per_gpu_hour == pytest.approx(fact["usd_per_hour"] / fact["gpus"], rel=1e-3)


def test_products_without_public_price_say_so() -> None:
    cat = load_builtin_catalog()
    for pid in ("aws/u-p6e-gb300x72", "azure/nd-gb300-v6", "google/a4x"):
        assert cat.list_price(pid) is None
        assert "price" in cat.products[pid].notes


def test_scenario_adds_and_overrides_entries() -> None:
    base = load_builtin_catalog()
    text = """
name: overrides
horizon: {start: 2026-01-01, end: 2026-01-31}
catalog:
  products:
    - {id: aws/my-gb300, provider: aws, sku: custom, accelerator: gb300, gpus_per_node: 4,
       nodes_per_domain: 18, domain_it_kw: 140, sources: [vendor quote 2026-05], confidence: estimate}
  prices:
    - {product: aws/u-p6e-gb200x72, region: us-east-dallas-lz, kind: capacity-block, usd_per_gpu_hour: 9.0,
       as_of: 2026-10-01, sources: [AWS console]}
    - {product: aws/my-gb300, region: us, kind: on-demand, usd_per_gpu_hour: 12.0, as_of: 2026-10-01,
       sources: [vendor quote]}
providers: [aws]
sites: [{name: s, provider: aws, region: us-east-1, power_mw: 10}]
clusters:
  - {name: c, site: s, product: aws/my-gb300, blocks: 1, domains_per_block: 4}
  - {name: d, site: s, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 4}
contracts:
  - {name: k, provider: aws, clusters: [c], term: {start: 2026-01-01, end: 2026-12-31}}
  - {name: l, provider: aws, kind: on-demand, clusters: [d], cap_gpus: 72}
"""
    loaded = load_scenario_text(text, "overrides.yaml")
    cat = loaded.catalog
    assert "aws/my-gb300" in cat.products and "aws/my-gb300" not in base.products
    price = cat.list_price("aws/u-p6e-gb200x72")
    assert price is not None and price.usd_per_gpu_hour == 9.0
    assert base.list_price("aws/u-p6e-gb200x72").usd_per_gpu_hour != 9.0  # type: ignore[union-attr]
    own = cat.list_price("aws/my-gb300")
    assert own is not None and own.usd_per_gpu_hour == 12.0


@pytest.mark.parametrize("what", ["accelerators", "products", "prices"])
def test_catalog_cli_json_lists_every_entry(what: str, capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("catalog", what, "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    rows = json.loads(res.stdout)
    cat = load_builtin_catalog()
    expected = {
        "accelerators": len(cat.accelerators),
        "products": len(cat.products),
        "prices": len(cat.prices),
    }
    assert len(rows) == expected[what]
    assert all(r["sources"] and r["source_text"] for r in rows)


def test_catalog_cli_table_mentions_unpriced_products(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("catalog", "prices", capsys=capsys)
    assert res.code == 0
    assert "aws/u-p6e-gb300x72" in res.stdout and "No public price" in res.stdout
