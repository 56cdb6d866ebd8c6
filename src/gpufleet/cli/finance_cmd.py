"""`gpufleet deal`, `gpufleet finance` and `gpufleet finance export`: deal arithmetic, the ledger and
portfolio of a run, and its cost rows in the FOCUS format."""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from typer.core import TyperGroup

from gpufleet.cli import app
from gpufleet.cli.common import (
    JSON_OPT,
    QUIET_OPT,
    SEED_OPT,
    STORE_OPT,
    fmt_num,
    fmt_usd,
    note,
    print_json,
    print_table,
    records,
)
from gpufleet.cli.running import latest_or_simulate, simulate_and_store, stored_scenario
from gpufleet.errors import InputError, Problem
from gpufleet.finance.deal import DEFAULT_PUE, HOURS_PER_YEAR, evaluate_deal
from gpufleet.scenario import LoadedScenario, load_scenario
from gpufleet.tables import RunTables

EXPORT_FORMATS = ("csv", "parquet")

# ------------------------------------------------------------------------------------------ deal


def _positive(value: float | None, option: str) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError([Problem(option, "", f"must be a positive number, got {value:g}")])


@app.command("deal")
def deal(
    amount: float | None = typer.Option(None, "--amount", help="Dollars committed over the term, e.g. 38e9."),
    years: float = typer.Option(..., "--years", help="Term of the deal in years."),
    product: str = typer.Option(..., "--product", help="Catalog product, provider/sku."),
    price: list[float] = typer.Option(
        [], "--price", help="Price per GPU-hour (repeatable). Default: list price and a range."
    ),
    gpus: float | None = typer.Option(
        None, "--gpus", help="A GPU count: the price it implies (with --amount) or what it costs (without)."
    ),
    pue: float = typer.Option(DEFAULT_PUE, "--pue", help="Facility PUE for the power figure."),
    as_json: bool = JSON_OPT,
) -> None:
    """What a deal buys: GPUs, racks, facility MW and GPU-hours a year at each price (8,760 h a year)."""
    from gpufleet.catalog import load_builtin_catalog

    for value, option in ((amount, "--amount"), (years, "--years"), (gpus, "--gpus")):
        _positive(value, option)
    for p in price:
        _positive(p, "--price")
    if not (math.isfinite(pue) and 1.0 <= pue <= 3.0):
        raise InputError([Problem("--pue", "", f"must be between 1.0 and 3.0, got {pue:g}")])
    if amount is None and gpus is None:
        raise InputError([Problem("--amount", "", "give --amount, --gpus, or both")])
    catalog = load_builtin_catalog()
    if product not in catalog.products:
        close = difflib.get_close_matches(product, list(catalog.products), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InputError([Problem("--product", "", f"unknown product {product!r}{hint}")])
    result = evaluate_deal(catalog, product, years, amount, tuple(price), gpus, pue)
    if as_json:
        print_json(result.to_dict() | {"hours_per_year": HOURS_PER_YEAR})
        return
    what = f"{fmt_usd(amount)} over {years:g} years ({fmt_usd(amount / years)} a year)" if amount else ""
    if gpus is not None and amount is None:
        what = f"{gpus:,.0f} GPUs for {years:g} years"
    listed = (
        f"list price ${result.list_price_usd:g} ({result.list_price_kind})"
        if result.list_price_usd
        else "no list price in the catalog"
    )
    typer.echo(
        f"{what} on {product}: {result.accelerator}, {result.gpus_per_rack} GPUs and "
        f"{result.rack_it_kw:g} kW IT per rack, PUE {pue:g}; {listed}"
    )
    rows = [
        (
            f"${p.price_per_gpu_hour_usd:,.2f}",
            p.label,
            fmt_num(p.gpus),
            fmt_num(p.racks),
            fmt_num(p.facility_mw, 1),
            fmt_num(p.gpu_hours_per_year / 1e6, 1),
            fmt_usd(p.usd_per_year),
            fmt_usd(p.amount_usd),
        )
        for p in result.points
    ]
    cols = ["$/GPU-h", "basis", "GPUs", "racks", "facility MW", "M GPU-h/yr", "$/yr", "total"]
    print_table(
        "Deal arithmetic: GPUs = amount / (years x 8,760 h x price)", cols, rows, right=[*cols[2:], cols[0]]
    )


# --------------------------------------------------------------------------------------- finance


class _SummaryByDefault(TyperGroup):
    """`gpufleet finance [FILE]` runs the `summary` command; `gpufleet finance export ...` the export."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] != "--help"):
            args = ["summary", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage(ctx.command_path, "[FILE] [--run ID] [OPTIONS] | export -o PATH [OPTIONS]")

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """`finance --help` shows the options of `finance [FILE]` (--run, --json ...), then the commands."""
        summary = self.commands["summary"]
        records = [r for p in summary.get_params(ctx) if (r := p.get_help_record(ctx)) is not None]
        with formatter.section("Options of `gpufleet finance [FILE]` (the ledger and portfolio)"):
            formatter.write_dl(records)
        self.format_commands(ctx, formatter)


finance_app = typer.Typer(
    cls=_SummaryByDefault,
    help="Contracts and money: the ledger by contract and year, the portfolio, and a FOCUS export.",
)
app.add_typer(finance_app, name="finance")

FILE_ARG = typer.Argument(
    None,
    metavar="FILE",
    help="Scenario YAML file to simulate and store first. Default: the latest stored run "
    "(the default scenario is simulated only when the store holds no run).",
)
RUN_OPT = typer.Option(
    None, "--run", metavar="ID", help="A stored run: id, unique prefix or 'latest' (with FILE: its scenario)."
)


def _run_tables(
    file: Path | None, run: str | None, store: Path, seed: int | None, quiet: bool
) -> tuple[RunTables, LoadedScenario | None, str]:
    """The run's tables with finance filled in, the scenario when known, and the run id.

    --run reads a stored run (its scenario: FILE when given, else the text the store kept); FILE alone
    is simulated and stored; neither: the latest stored run, or the default scenario simulated and
    stored when the store has none (DESIGN.md, CLI conventions). The run named is always in the store.
    """
    from gpufleet.finance import compute_finance
    from gpufleet.store import open_store

    if run is None:
        if file is None:
            run = latest_or_simulate(store, seed, quiet)
        else:
            run = simulate_and_store(load_scenario(file), store, seed, quiet).meta.run_id
            file = None  # the store kept its text
    elif seed is not None:
        raise InputError([Problem("--seed", "", "a stored run has its seed already; --seed is for a FILE")])
    with open_store(store, read_only=True, create=False) as st:
        run_id = st.resolve(run)
        tables = st.load_run(run_id)
        kept = stored_scenario(st, run_id, file)
    if tables.ledger.empty and not tables.usage.empty:
        if kept is None:
            raise InputError(
                [Problem("--run", "", f"run {run_id} has no ledger: give the scenario FILE it ran")]
            )
        tables = compute_finance(tables, kept.scenario, kept.catalog)
    return tables, kept, run_id


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:,.1f}%"


def _num(x: float, digits: int = 0) -> str:
    return "-" if math.isnan(x) else fmt_num(x, digits)


@finance_app.command("summary")
def summary(
    file: Path | None = FILE_ARG,
    run: str | None = RUN_OPT,
    store: Path = STORE_OPT,
    seed: int | None = SEED_OPT,
    as_json: bool = JSON_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Ledger by contract and contract year (used and unused commitment) and the portfolio by year."""
    from gpufleet.finance.summary import (
        cash_and_cost_by_year,
        contract_year_summary,
        funding_peaks,
        unused_split,
    )

    tables, loaded, run_id = _run_tables(file, run, store, seed, quiet)
    by_year = contract_year_summary(tables.ledger)
    cash = cash_and_cost_by_year(tables.spend)
    peaks = funding_peaks(tables.portfolio)
    split = unused_split(tables.ledger)
    if as_json:
        print_json(
            {
                "run_id": run_id,
                "scenario": loaded.scenario.name if loaded else None,
                "contracts_by_year": records(by_year),
                "spend": records(tables.spend),
                "cash_and_cost_by_year": records(cash),
                "portfolio": records(tables.portfolio),
                "funding_peaks": records(peaks),
                "unused_commitment": split,
            }
        )
        return
    name = f"'{loaded.scenario.name}' " if loaded else ""
    note(f"Finance of run {run_id} {name}(contract years run from each term's start)")
    # a pool no workload may use, never used nor billed, is one line under the table, not a row a year
    unusable, used = by_year["gpu_hours_unusable"] > 0, by_year["gpu_hours_used"] > 0
    idle_pool = unusable & ~used & (by_year["cost_due_usd"] == 0)
    quiet_pools = sorted(set(by_year.loc[idle_pool, "contract"].astype(str)))
    by_year = by_year[~by_year["contract"].astype(str).isin(quiet_pools)]
    rows = [
        (
            str(r["contract"]),
            str(r["billing"]),
            str(r["contract_year"]) if int(r["contract_year"]) > 0 else "-",
            f"{r['first_month']:%Y-%m}..{r['last_month']:%Y-%m}",
            fmt_num(float(r["gpu_hours_used"]) / 1e6, 1),
            "unusable" if float(r["gpu_hours_unusable"]) > 0 else _pct(float(r["utilization_pct"])),
            fmt_usd(float(r["committed_usd"])),
            fmt_usd(float(r["unused_commitment_usd"])),
            fmt_usd(float(r["structural_unused_usd"])),
            fmt_usd(float(r["demand_unused_usd"])),
            fmt_usd(float(r["cost_due_usd"])),
            fmt_usd(float(r["accrued_cost_usd"])),
            fmt_usd(float(r["overflow_cost_usd"])),
            fmt_usd(float(r["power_cost_usd"])),
        )
        for r in by_year.to_dict("records")
    ]
    cols = [
        "contract",
        "billing",
        "year",
        "months",
        "M GPU-h used",
        "util",
        "committed",
        "unused",
        "structural",
        "demand",
        "cash",
        "cost",
        "overflow",
        "power",
    ]
    print_table("Ledger by contract and contract year", cols, rows, right=cols[4:], keys=3)
    note(
        "unused = structural (the capacity delivered, priced, could never reach the commitment) + demand "
        "(capacity there, not used); paid under take-or-pay. cash: billed (invoice month); cost: accrued. "
        "--json adds used commitment and burn behind plan"
    )
    for pool in quiet_pools:
        note(f"{pool}: no workload may use it; never used nor billed in its term (not counted online)")
    note(
        f"Unused commitment over the horizon: {fmt_usd(split['unused_commitment_usd'])} = structural "
        f"{fmt_usd(split['structural_unused_usd'])} + demand {fmt_usd(split['demand_unused_usd'])}"
    )
    moved = float(by_year["undelivered_usd"].sum()) if len(by_year) else 0.0
    if moved > 0:
        credits = float(by_year["service_credit_usd"].sum())
        note(
            f"Capacity planned but not delivered (slips, provider events): {fmt_usd(moved)} at contract "
            f"prices, not billed; service credits {fmt_usd(credits)}"
        )
    if not cash.empty:
        providers = [p for p in dict.fromkeys(cash["provider"].astype(str)) if p != "total"] + ["total"]
        figures = {
            (int(r["year"]), str(r["provider"])): (float(r["cash_out_usd"]), float(r["accrued_cost_usd"]))
            for r in cash.to_dict("records")
        }
        cash_rows = []
        for y in sorted({year for year, _ in figures}):
            cells = []
            for p in providers:
                got = figures.get((y, p))
                cells += [fmt_usd(got[0]), fmt_usd(got[1])] if got else ["-", "-"]
            cash_rows.append((str(y), *cells))
        heads = [f"{p} {k}" for p in providers for k in ("cash", "cost")]
        print_table(
            "Cash out and accrued cost by provider and year", ["year", *heads], cash_rows, right=heads
        )
    port_rows = [
        (
            str(r["scenario"]),
            str(r["year"]),
            fmt_usd(float(r["spend_usd"])),
            fmt_usd(float(r["accrued_cost_usd"])),
            fmt_usd(float(r["power_cost_usd"])),
            _num(float(r["hhi"])),
            fmt_usd(float(r["revenue_usd"])),
            _pct(float(r["inference_gross_margin_pct"])),
            fmt_usd(float(r["cash_gap_usd"])),
            fmt_usd(float(r["cumulative_funding_need_usd"])),
            _num(float(r["years_of_revenue_to_cover"]), 1),
        )
        for r in tables.portfolio.to_dict("records")
    ]
    pcols = [
        "scenario",
        "year",
        "cash out",
        "cost",
        "power",
        "HHI",
        "revenue",
        "inference margin",
        "cash gap",
        "funding need",
        "yrs of revenue to cover",
    ]
    print_table("Portfolio by year and revenue scenario", pcols, port_rows, right=pcols[2:], keys=2)
    note("cash gap = cash out + power - revenue; funding need = the most the running sum has reached")
    for r in peaks.to_dict("records"):
        year = r["peak_year"]
        when = "(never: revenue covers it)" if year is None or pd.isna(year) else f"by the end of {int(year)}"
        note(f"Peak funding need ({r['scenario']}): {fmt_usd(float(r['peak_funding_need_usd']))} {when}")


def _format_of(fmt: str | None, output: Path) -> str:
    if fmt is None:
        return "parquet" if output.suffix.lower() in (".parquet", ".pq") else "csv"
    if fmt not in EXPORT_FORMATS:
        raise InputError([Problem("--format", "", f"unknown format {fmt!r}; expected csv or parquet")])
    return fmt


def write_focus(frame: pd.DataFrame, output: Path, fmt: str) -> None:
    """Write the cost rows whole (temp file, then rename): nothing half-written is ever left."""
    from gpufleet.files import atomic_write

    if fmt == "parquet":
        atomic_write(output, lambda p: frame.to_parquet(p, index=False))
    else:
        atomic_write(output, lambda p: frame.to_csv(p, index=False, date_format="%Y-%m-%dT%H:%M:%SZ"))


@finance_app.command("export")
def export(
    file: Path | None = FILE_ARG,
    output: Path = typer.Option(..., "-o", "--output", help="File to write."),
    fmt: str | None = typer.Option(
        None, "--format", help="csv or parquet (default: from -o's suffix, else csv)."
    ),
    run: str | None = RUN_OPT,
    store: Path = STORE_OPT,
    seed: int | None = SEED_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Cost rows in the FOCUS 1.2 format: one per contract, month and charge kind."""
    from gpufleet.finance.focus import build_focus

    kind = _format_of(fmt, output)
    if not output.parent.is_dir():  # before any run is simulated: the file is written into a folder as is
        raise InputError("cannot write here: No such file or directory", where=str(output))
    tables, loaded, run_id = _run_tables(file, run, store, seed, quiet)
    if loaded is None:
        raise InputError(
            [Problem("--run", "", f"give the scenario FILE that run {run_id} ran: FOCUS rows need it")]
        )
    frame = build_focus(tables.ledger, loaded.scenario, loaded.catalog)
    write_focus(frame, output, kind)
    typer.echo(f"wrote {len(frame):,} FOCUS 1.2 cost rows of run {run_id} to {output} ({kind})")
