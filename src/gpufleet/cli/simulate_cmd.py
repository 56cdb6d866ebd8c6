"""`gpufleet simulate`: run a scenario (default: the built-in one) and print what it shows."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from gpufleet.cli import app
from gpufleet.cli.common import JSON_OPT, QUIET_OPT, SEED_OPT, fmt_num, fmt_usd, print_json, print_table
from gpufleet.fleet.capacity import build_capacity
from gpufleet.fleet.summary import quarterly_capacity
from gpufleet.scenario import load_scenario


@app.command("simulate")
def simulate(
    file: Path | None = typer.Argument(
        None, help="Scenario YAML file (default: the built-in default scenario)."
    ),
    seed: int | None = SEED_OPT,
    as_json: bool = JSON_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Simulate a scenario and print the capacity timeline by provider and quarter."""
    loaded = load_scenario(file)
    s = loaded.scenario
    tl = build_capacity(s, loaded.catalog)
    rows = quarterly_capacity(tl, loaded.catalog)
    if as_json:
        print_json(
            {
                "scenario": s.name,
                "content_hash": loaded.content_hash,
                "capacity_by_quarter": [asdict(r) for r in rows],
            }
        )
        return
    peak = int(tl.gpus.sum(axis=0).max())
    typer.echo(
        f"Scenario '{s.name}' ({loaded.file}), {s.horizon.start} .. {s.horizon.end}; "
        f"peak {peak:,} GPUs online"
    )
    table_rows = [
        (
            r.provider,
            r.quarter,
            fmt_num(r.gpus_online_end),
            fmt_num(r.facility_mw_avg, 1),
            fmt_usd(r.list_value_usd) + ("*" if r.unlisted_gpu_hours else ""),
        )
        for r in rows
    ]
    print_table(
        "Capacity by provider and quarter",
        ["provider", "quarter", "GPUs online (end)", "facility MW (avg)", "list-price value"],
        table_rows,
        right=["GPUs online (end)", "facility MW (avg)", "list-price value"],
    )
    if any(r.unlisted_gpu_hours for r in rows):
        typer.echo(
            "* part of the value is at the contract price: the catalog has no list price for that product"
        )
