"""`gpufleet catalog`: the built-in accelerators, products and price snapshots."""

from __future__ import annotations

import typer

from gpufleet.catalog import load_builtin_catalog
from gpufleet.cli import app
from gpufleet.cli.common import JSON_OPT, fmt_num, print_json, print_table

catalog_app = typer.Typer(
    help="Built-in catalog: accelerators, products and prices, each with its source.", no_args_is_help=True
)
app.add_typer(catalog_app, name="catalog")


def _src(sources: list[str], sources_text: dict[str, str]) -> list[str]:
    return [sources_text.get(s, s) for s in sources]


@catalog_app.command("accelerators")
def accelerators(as_json: bool = JSON_OPT) -> None:
    """Accelerators: dense peak TFLOP/s by precision, HBM, power, NVLink domain size."""
    cat = load_builtin_catalog()
    if as_json:
        print_json(
            [
                a.model_dump(mode="json") | {"source_text": _src(a.sources, cat.sources)}
                for a in cat.accelerators.values()
            ]
        )
        return
    rows = [
        (
            a.id,
            a.name,
            fmt_num(a.tflops.bf16),
            fmt_num(a.tflops.fp8),
            fmt_num(a.tflops.fp4),
            fmt_num(a.hbm_gb),
            f"{a.hbm_tbps:g}",
            fmt_num(a.power_w),
            a.nvlink_domain_gpus,
            a.confidence,
            ", ".join(a.sources),
        )
        for a in cat.accelerators.values()
    ]
    cols = [
        "id",
        "name",
        "BF16 TF",
        "FP8 TF",
        "FP4 TF",
        "HBM GB",
        "HBM TB/s",
        "W",
        "domain",
        "confidence",
        "sources",
    ]
    print_table(
        "Accelerators (dense peak)",
        cols,
        rows,
        right=["BF16 TF", "FP8 TF", "FP4 TF", "HBM GB", "HBM TB/s", "W", "domain"],
    )


@catalog_app.command("products")
def products(as_json: bool = JSON_OPT) -> None:
    """Products: what providers sell, as domains of nodes of GPUs."""
    cat = load_builtin_catalog()
    if as_json:
        print_json(
            [
                p.model_dump(mode="json")
                | {"gpus_per_domain": p.gpus_per_domain, "source_text": _src(p.sources, cat.sources)}
                for p in cat.products.values()
            ]
        )
        return
    rows = []
    for p in cat.products.values():
        listed = cat.list_price(p.id)
        price = f"{listed.usd_per_gpu_hour:.2f} ({listed.kind})" if listed else "none: contract must give one"
        rows.append(
            (
                p.id,
                p.sku,
                p.accelerator,
                p.gpus_per_node,
                p.nodes_per_domain,
                p.gpus_per_domain,
                f"{p.domain_it_kw:g}",
                price,
                ", ".join(p.sources),
            )
        )
    cols = [
        "id",
        "sku",
        "accel",
        "GPUs/node",
        "nodes/domain",
        "GPUs/domain",
        "domain kW",
        "list $/GPU-h",
        "sources",
    ]
    print_table("Products", cols, rows, right=["GPUs/node", "nodes/domain", "GPUs/domain", "domain kW"])


@catalog_app.command("prices")
def prices(as_json: bool = JSON_OPT) -> None:
    """Price snapshots in $ per GPU-hour, with kind, region and as-of date."""
    cat = load_builtin_catalog()
    if as_json:
        print_json(
            [p.model_dump(mode="json") | {"source_text": _src(p.sources, cat.sources)} for p in cat.prices]
        )
        return
    rows = [
        (
            p.product,
            p.region,
            p.kind,
            f"{p.usd_per_gpu_hour:.3f}",
            p.as_of,
            p.confidence,
            ", ".join(p.sources),
        )
        for p in cat.prices
    ]
    unpriced = [pid for pid in cat.products if not cat.prices_for(pid)]
    print_table(
        "Price snapshots ($ per GPU-hour)",
        ["product", "region", "kind", "$/GPU-h", "as of", "confidence", "sources"],
        rows,
        right=["$/GPU-h"],
    )
    if unpriced:
        typer.echo(f"No public price (a contract must give one): {', '.join(unpriced)}")
