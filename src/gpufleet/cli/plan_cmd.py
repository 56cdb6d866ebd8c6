"""`gpufleet plan`: what to sign and where to run what, from the scenario's candidate options (HiGHS)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from gpufleet.cli import app
from gpufleet.cli.common import JSON_OPT, STORE_OPT, check_output_file, print_json
from gpufleet.cli.plan_print import print_added, print_plan
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
        print_added(added)
    if output is not None:
        typer.echo(f"routing written to {output}")
    if plan_id is not None:
        typer.echo(f"stored as plan {plan_id} in {store_path} (gpufleet simulate FILE --plan {plan_id})")
