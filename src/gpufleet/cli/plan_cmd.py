"""`gpufleet plan`: what to sign and where to run what, from the scenario's candidate options (HiGHS)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from gpufleet.cli import app
from gpufleet.cli.common import (
    JSON_OPT,
    STORE_OPT,
    check_output_file,
    fmt_num,
    fmt_usd,
    print_json,
    print_table,
)
from gpufleet.errors import InputError


def _in_range(value: float, low: float, high: float, option: str) -> None:
    if not math.isfinite(value) or not low < value <= high:
        raise InputError(f"expected a number in ({low:g}, {high:g}], got {value:g}", where=option)


@app.command("plan")
def plan(
    file: Path | None = typer.Argument(None, help="Scenario file; default: the built-in scenario."),
    as_json: bool = JSON_OPT,
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the monthly routing as CSV here."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds HiGHS may spend on each solve."),
    gap: float = typer.Option(0.01, "--gap", help="Relative MIP gap at which a plan is good enough."),
    values: bool = typer.Option(
        True, "--values/--no-values", help="Re-solve with more power per site and without each option."
    ),
    extra_mw: float = typer.Option(1000.0, "--extra-mw", help="The power added per site for its value (MW)."),
    add_capacity: str | None = typer.Option(
        None,
        "--add-capacity",
        metavar="POWER",
        help="What-if: the value of this much more capacity (e.g. 1GW, 500MW) at --provider, spread over "
        "its sites (or --site) and their products, online all horizon.",
    ),
    provider: str | None = typer.Option(None, "--provider", help="--add-capacity: the provider."),
    site: str | None = typer.Option(None, "--site", help="--add-capacity: one site of the provider."),
    base_only: bool = typer.Option(
        False, "--base-only", help="Plan for the base revenue case alone (default: every weighted case)."
    ),
    store_path: Path = STORE_OPT,
    no_store: bool = typer.Option(False, "--no-store", help="Do not keep the plan in the results store."),
) -> None:
    """The capacity plan: options to sign (size, start), routing by quarter, cost PV, unmet demand,
    shadow prices of capacity and power, and the value of one more GW and of each option. The plan is
    kept in the store under its own id (`gpufleet plans`, `simulate --plan ID`)."""
    from gpufleet.plan.record import plan_record
    from gpufleet.plan.run import make_plan, prepare, routing_by_quarter
    from gpufleet.plan.whatif import parse_power_mw, value_of_added_capacity
    from gpufleet.scenario import load_scenario
    from gpufleet.store import open_store

    _in_range(time_limit, 0.0, 3600.0, "--time-limit")
    _in_range(gap, 0.0, 1.0, "--gap")
    _in_range(extra_mw, 0.0, 1e6, "--extra-mw")
    if output is not None:
        check_output_file(output, "-o")
    add_mw = None if add_capacity is None else parse_power_mw(add_capacity)
    if add_mw is not None and provider is None:
        raise InputError("--add-capacity needs --provider", where="--provider")
    if add_mw is None and (provider is not None or site is not None):
        raise InputError("--provider and --site go with --add-capacity", where="--add-capacity")
    loaded = load_scenario(file)
    if not no_store:  # a wrong store fails now, not after the solve
        open_store(store_path).close()
    inputs = prepare(loaded.scenario, loaded.catalog, loaded.source_map, time_limit, gap, not base_only)
    result = make_plan(inputs, values=values, extra_mw=extra_mw)
    added = None
    if add_mw is not None and provider is not None:
        found = value_of_added_capacity(inputs, result.objective_pv_usd, add_mw, provider, site, result.start)
        added = found.to_dict()
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        result.routing.to_csv(output, index=False)
    head: dict[str, Any] = {"scenario": loaded.scenario.name, "extra_mw": extra_mw, "add_capacity": added}
    plan_id = None
    if not no_store:
        record = plan_record(result, loaded.scenario, loaded.catalog, loaded.content_hash, head)
        with open_store(store_path) as store:
            plan_id = store.save_plan(record)
    if as_json:
        print_json({**head, "plan_id": plan_id, "store": None if no_store else str(store_path),
                    **result.to_dict()})  # fmt: skip
        return
    print_plan(result.to_dict(), routing_by_quarter(result.routing), extra_mw)
    if added is not None:
        _print_added(added)
    if output is not None:
        typer.echo(f"routing written to {output}")
    if plan_id is not None:
        typer.echo(f"stored as plan {plan_id} in {store_path} (gpufleet simulate FILE --plan {plan_id})")


def print_plan(d: dict[str, Any], by_quarter: Any, extra_mw: float) -> None:
    """What `gpufleet plan` prints, from its JSON figures (also `plans show`)."""
    n = len(d["cases"])
    over = f" (expected over {n} revenue cases, weighted)" if n > 1 else ""
    typer.echo(
        f"plan: {d['status']}; cost PV {fmt_usd(d['cost_pv_usd'])}, "
        f"objective PV (with the unmet-demand penalty) {fmt_usd(d['objective_pv_usd'])}{over}"
    )
    rows = [
        [
            s["option"],
            s["provider"],
            s["site"],
            s["billing"],
            s["start"],
            fmt_num(s["domains"]),
            fmt_num(s["gpus"]),
        ]
        for s in d["signed"]
    ]
    print_table(
        "Sign",
        ["option", "provider", "site", "billing", "start", "domains", "GPUs"],
        rows,
        ["domains", "GPUs"],
    )
    if not rows:
        typer.echo("(sign nothing: the contracted fleet and the penalty make no option worth it)")
    if not by_quarter.empty:
        pivot = by_quarter.pivot_table(index="class", columns="provider", values="gpu_hours", aggfunc="sum")
        providers = [str(p) for p in pivot.columns]
        print_table(
            "Routing, million GPU-hours",
            ["class", *providers],
            [[str(k), *(fmt_num(v / 1e6, 1) if v == v else "-" for v in row)] for k, row in pivot.iterrows()],
            providers,
        )
        typer.echo("(GPU-hours at each class's reference accelerator; by quarter in --json, by month in -o)")
    unmet = d["unmet_gpu_hours"]
    print_table(
        "Unmet demand", ["class", "GPU-hours"], [[k, fmt_num(v)] for k, v in unmet.items()] or [["-", "0"]]
    )
    print_table(
        "Cash out by year",
        ["year", "cash"],
        [[y, fmt_usd(v)] for y, v in d["cash_by_year_usd"].items()],
        ["cash"],
    )
    shadow, extra = d["power_shadow_usd_per_mw"], d["value_of_extra_power_usd"]
    sites = sorted(set(shadow) | set(extra))
    if sites:
        print_table(
            "Power",
            ["site", "shadow $/MW (LP)", f"value of +{extra_mw:g} MW"],
            [
                [
                    s,
                    fmt_usd(d["power_shadow_usd_per_mw"].get(s)),
                    fmt_usd(d["value_of_extra_power_usd"].get(s)),
                ]
                for s in sites
            ],
            ["shadow $/MW (LP)", f"value of +{extra_mw:g} MW"],
        )
    if d["option_value_usd"]:
        print_table(
            "Value of each option",
            ["option", "value"],
            [[k, fmt_usd(v)] for k, v in d["option_value_usd"].items()],
            ["value"],
        )
    if len(d["cases"]) > 1:
        print_table(
            "Demand cases (options signed once, routing per case)",
            ["case", "weight", "cost PV", "objective PV"],
            [
                [k, f"{c['weight']:.2f}", fmt_usd(c["cost_pv_usd"]), fmt_usd(c["objective_pv_usd"])]
                for k, c in d["cases"].items()
            ],
            ["weight", "cost PV", "objective PV"],
        )
        typer.echo(f"regret of signing for the base case alone: {fmt_usd(d['regret_of_base_plan_usd'])}")
    for note in d["notes"]:
        typer.echo(f"note: {note}")


def _print_added(a: dict[str, Any]) -> None:
    rows = [[b["site"], b["product"], fmt_num(b["domains"]), fmt_num(b["gpus"]), fmt_num(b["mw"], 1)]
            for b in a["added"]]  # fmt: skip
    print_table(
        f"What-if: +{a['mw']:,.0f} MW at {a['provider']}", ["site", "product", "domains", "GPUs", "MW"], rows,
        ["domains", "GPUs", "MW"],
    )  # fmt: skip
    per = a["value_usd_per_gpu_hour"]
    typer.echo(
        "value of the added capacity (objective PV saved, online all horizon, free): "
        + fmt_usd(a["value_usd"])
        + (f" = ${per:,.2f} per GPU-hour it adds" if per is not None else "")
    )
    if 0 < abs(a["value_usd"]) < a["tolerance_usd"]:
        typer.echo(
            f"(within the MIP gap, {fmt_usd(a['tolerance_usd'])} on this objective: solver noise as much as "
            "value; a smaller --gap sharpens it)"
        )
