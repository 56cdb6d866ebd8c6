"""`gpufleet schema`, `validate` and `scenario show|new`: the scenario file and its checks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gpufleet.cli import app
from gpufleet.cli.common import JSON_OPT, STORE_OPT, print_json
from gpufleet.errors import InputError
from gpufleet.scenario import LoadedScenario, builtin_scenario_text, load_scenario_file
from gpufleet.scenario.schema import Scenario

if TYPE_CHECKING:
    from gpufleet.finance.calibration import CalibrationRow

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
    store: Path = STORE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Print a scenario, comments and all, then which contract figures are facts (and their sources)
    and which are assumptions (its contracts' `provenance:`), as YAML comments; for the default
    scenario also its calibration table: the public anchors it takes as inputs, and the checks its
    latest stored run (base case) must reproduce within 15%. --json: those marks and the table."""
    from gpufleet.scenario.load import load_builtin_scenario
    from gpufleet.scenario.provenance import contract_marks, marks_comment

    if name.endswith((".yaml", ".yml")) or Path(name).is_file():
        loaded = load_scenario_file(name)
    else:
        loaded = load_builtin_scenario(name)
    marks = contract_marks(loaded.scenario, loaded.catalog.sources)
    table = calibration_table(loaded, store) if is_calibrated(loaded) else None
    if as_json:
        doc: dict[str, object] = {"scenario": loaded.scenario.name, "figures": [m.to_dict() for m in marks]}
        if table is not None:
            run_id, rows = table
            doc["calibration"] = {"run": run_id, "rows": [r.to_dict() for r in rows]}
        print_json(doc)
        return
    text = loaded.text if loaded.text.endswith("\n") else loaded.text + "\n"
    text += "\n" + marks_comment(marks)
    if table is not None:
        text += calibration_comment(*table, store=store)
    typer.echo(text, nl=False)


def is_calibrated(loaded: LoadedScenario) -> bool:
    """The anchors describe the lab the built-in default models: its table is shown for the default
    and for a copy of it that keeps its name (`scenario new`)."""
    from gpufleet.scenario.load import load_builtin_scenario

    return loaded.scenario.name == load_builtin_scenario("default").scenario.name


def calibration_table(loaded: LoadedScenario, store: Path) -> tuple[str | None, list[CalibrationRow]]:
    """The calibration rows, with the checks' simulated values from the latest stored run of this very
    scenario (same content hash) under its base case, when the store holds one."""
    from gpufleet.catalog import load_anchors
    from gpufleet.finance.calibration import calibration
    from gpufleet.store import open_store

    anchors = load_anchors()
    sources = loaded.catalog.sources
    if store.is_file():
        with open_store(store, read_only=True) as st:
            for meta in reversed(st.list_runs()):
                if meta.content_hash != loaded.content_hash:
                    continue
                tables = st.load_run(meta.run_id)
                case = tables.portfolio.loc[tables.portfolio["run_case"].astype(bool), "scenario"]
                if set(case) <= {loaded.scenario.finance.default_case}:
                    return meta.run_id, calibration(anchors, sources, tables, loaded.scenario)
    return None, calibration(anchors, sources)


def _figure(value: float, unit: str) -> str:
    if unit == "share":
        return f"{100 * value:.1f}%"
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:,.3g}{suffix} {unit}".rstrip()
    return f"{value:,.3g} {unit}".rstrip()


def calibration_comment(run_id: str | None, rows: list[CalibrationRow], store: Path) -> str:
    """The calibration table as a YAML comment block (docs/workloads.md, "Calibration")."""
    from gpufleet.finance.calibration import TOLERANCE_PCT

    lines = ["# Calibration (catalog/data/anchors.yaml). Inputs: public figures the scenario takes:"]
    for r in rows:
        if r.use == "input":
            lines.append(f"#   {r.key} = {_figure(r.value, r.unit)} -> {r.takes} [{r.source}]")
    where = (
        f"run {run_id}"
        if run_id
        else f"no stored run of this scenario in {store}: `gpufleet simulate` fills them"
    )
    lines.append(
        f"# Checks: public figures it is not given, each to be met within {TOLERANCE_PCT:g}% ({where}):"
    )
    for r in rows:
        if r.use != "check":
            continue
        if r.simulated is None or r.gap_pct is None:
            got = "simulated -"
        else:
            got = f"simulated {_figure(r.simulated, r.unit)}, gap {r.gap_pct:+.1f}% " + (
                "ok" if r.within else "OUT OF RANGE"
            )
        lines.append(f"#   {r.key}: public {_figure(r.value, r.unit)}, {got} [{r.source}]")
        lines.append(f"#     {r.note}")
    return "\n".join(lines) + "\n"


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
