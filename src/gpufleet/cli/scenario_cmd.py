"""`gpufleet schema`, `validate` and `scenario show|new`: the scenario file and its checks."""

from __future__ import annotations

from pathlib import Path

import typer

from gpufleet.cli import app
from gpufleet.cli.common import JSON_OPT, print_json
from gpufleet.errors import InputError
from gpufleet.scenario import LoadedScenario, builtin_scenario_text, load_scenario_file
from gpufleet.scenario.schema import Scenario

scenario_app = typer.Typer(help="Built-in scenarios: show one, or copy it to edit.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")


@app.command("schema")
def schema(
    markdown: bool = typer.Option(False, "--markdown", help="Print the field reference of docs/scenario.md."),
) -> None:
    """Print the scenario's JSON Schema, for editors that validate YAML."""
    if markdown:
        from gpufleet.scenario.reference import reference_markdown

        typer.echo(reference_markdown(), nl=False)
        return
    doc = Scenario.model_json_schema()
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "gpufleet scenario"
    print_json(doc)


@app.command("validate")
def validate(file: Path = typer.Argument(..., help="Scenario YAML file."), as_json: bool = JSON_OPT) -> None:
    """Load and cross-check a scenario; every problem on its own line with file:line, exit 2 if any."""
    try:
        loaded = load_scenario_file(file)
    except InputError as exc:
        if as_json:
            print_json(
                {
                    "ok": False,
                    "problems": [
                        {"where": p.where, "field": p.field, "message": p.message} for p in exc.problems
                    ],
                }
            )
            raise typer.Exit(2) from None
        raise
    s = loaded.scenario
    billing = contract_billing(loaded)
    gaps = driver_gaps(loaded)
    if as_json:
        print_json(
            {
                "ok": True,
                "name": s.name,
                "content_hash": loaded.content_hash,
                "billing": billing,
                "driver_gap": gaps,
            }
        )
        return
    typer.echo(
        f"{file}: ok: scenario '{s.name}', {len(s.providers)} providers, {len(s.clusters)} clusters, "
        f"{len(s.contracts)} contracts, {len(s.workloads)} workloads"
    )
    for name, terms in billing.items():
        typer.echo(f"  {name}: {terms}")
    for service, rows in gaps.items():
        years = ", ".join(f"{r['year']}: {r['gap_pct']:+.0f}%" for r in rows)
        typer.echo(f"  {service}: users path vs revenue path ({s.finance.default_case}), tokens: {years}")


def driver_gaps(loaded: LoadedScenario) -> dict[str, list[dict[str, float | int]]]:
    """Per inference that gives both paths: the yearly gap of the users path to the base case's revenue
    path (workload.demand.driver_gap), so the two are compared rather than one silently chosen."""
    from gpufleet.workload.demand import driver_gap

    s = loaded.scenario
    case_name = s.finance.default_case
    case = s.finance.revenue_scenarios.get(case_name) if case_name else None
    out = {}
    for w in s.workloads:
        if w.inference is not None:
            rows = driver_gap(w.inference.demand, s.horizon.start, s.horizon.end, case)
            if rows:
                out[w.inference.name] = rows
    return out


def contract_billing(loaded: LoadedScenario) -> dict[str, str]:
    """Per contract: how it bills, in words and figures (docs/finance.md, "Billing models")."""
    from gpufleet.finance.billing import describe_billing
    from gpufleet.scenario.ramp import resolve_contracts

    s = loaded.scenario
    by_name = {c.name: c for c in s.contracts}
    return {
        rc.name: describe_billing(
            rc.billing, rc.price_per_gpu_hour_usd, by_name[rc.name].commitment, by_name[rc.name].billing
        )
        for rc in resolve_contracts(s, loaded.catalog)
    }


@scenario_app.command("show")
def show(
    name: str = typer.Argument(
        "default", metavar="NAME|FILE", help="Built-in scenario name, or a YAML file."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Print a scenario, comments and all, then which contract figures are facts (and their sources)
    and which are assumptions (its contracts' `provenance:`), as YAML comments; --json: those marks."""
    from gpufleet.scenario.load import load_builtin_scenario
    from gpufleet.scenario.provenance import contract_marks, marks_comment

    if name.endswith((".yaml", ".yml")) or Path(name).is_file():
        loaded = load_scenario_file(name)
    else:
        loaded = load_builtin_scenario(name)
    marks = contract_marks(loaded.scenario, loaded.catalog.sources)
    if as_json:
        print_json({"scenario": loaded.scenario.name, "figures": [m.to_dict() for m in marks]})
        return
    text = loaded.text if loaded.text.endswith("\n") else loaded.text + "\n"
    typer.echo(text + "\n" + marks_comment(marks), nl=False)


@scenario_app.command("new")
def new(
    path: Path = typer.Argument(..., help="Where to write the copy."),
    name: str = typer.Option("default", "--from", help="Built-in scenario to copy."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a copy of a built-in scenario to edit."""
    if path.exists() and not force:
        raise InputError(f"{path} exists; pass --force to overwrite", where=str(path))
    text = builtin_scenario_text(name)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(path)) from None
    typer.echo(f"wrote {path}; check it with: gpufleet validate {path}")
