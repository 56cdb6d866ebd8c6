"""The report's tables: contracts, training runs, unmet demand, the ledger, cash by year and provider.

Built from finance's own summaries (contract_year_summary, the spend and portfolio tables) and shown
column by column as they come, so a column finance adds appears here without a change: a column's
unit is read from its name (`_usd`, `_pct`, `gpu_hours`, dates).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpufleet.finance.summary import contract_year_summary
from gpufleet.report.context import RunContext
from gpufleet.report.findings import training_runs
from gpufleet.report.units import si_text, usd_text
from gpufleet.tables import RunTables

# Where finance keeps the cash a year costs: the first of these the spend table has.
CASH_COLUMNS: tuple[str, ...] = ("cash_out_usd", "spend_usd")


@dataclass(frozen=True, slots=True)
class ReportTable:
    """One table of the report: a stable id, title, caption and its rows."""

    id: str
    title: str
    caption: str
    frame: pd.DataFrame


def cell_text(column: str, value: object) -> str:
    """A cell as a person reads it, its unit taken from the column's name."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m}" if column.endswith("month") else f"{value:%Y-%m-%d}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | float | np.integer | np.floating):
        x = float(value)
        if "per_gpu_hour" in column:
            return f"${x:,.2f}"
        if column.endswith("_usd"):
            return usd_text(x)
        if column.endswith("_pct"):
            return f"{x:,.1f}%"
        if "gpu_hours" in column or column.endswith("_tokens"):
            return si_text(x)
        if column in ("year", "contract_year"):
            return f"{int(x)}"
        return f"{x:,.0f}" if abs(x) >= 10 or x == int(x) else f"{x:,.2f}"
    return str(value)


def _header(column: str) -> str:
    return column.replace("_usd", " ($)").replace("_pct", " (%)").replace("_", " ")


def frame_html(t: ReportTable) -> str:
    """A table as HTML: one <tr> per row, `data-col` on each cell for readers and tests."""
    df = t.frame
    head = "".join(f'<th data-col="{html.escape(c)}">{html.escape(_header(c))}</th>' for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False, name=None):
        cells = "".join(
            f'<td data-col="{html.escape(c)}">{html.escape(cell_text(c, v))}</td>'
            for c, v in zip(df.columns, rec, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    body = "".join(rows) or f'<tr><td colspan="{len(df.columns)}">none</td></tr>'
    return (
        f'<section class="table" id="tab-{t.id}"><h2>{html.escape(t.title)}</h2>'
        f'<p class="caption">{html.escape(t.caption)}</p><div class="scroll">'
        f'<table class="data" data-table="{t.id}"><tr>{head}</tr>{body}</table></div></section>'
    )


def cash_by_year(spend: pd.DataFrame) -> pd.DataFrame:
    """Calendar years down, providers across, and the total: cash out (spend where finance has no cash)."""
    col = next((c for c in CASH_COLUMNS if c in spend.columns), None)
    if col is None or spend.empty:
        return pd.DataFrame()
    wide = spend.pivot_table(index="year", columns="provider", values=col, aggfunc="sum", fill_value=0.0)
    wide.columns = [f"{p}_usd" for p in wide.columns]
    wide["total_usd"] = wide.sum(axis=1)
    return wide.reset_index()


def funding_by_year(portfolio: pd.DataFrame) -> pd.DataFrame:
    """Per year and revenue scenario: revenue, cash gap and the cumulative funding need."""
    keep = [c for c in portfolio.columns if c not in ("hhi", "power_cost_usd")]
    return portfolio.loc[:, keep].sort_values(["scenario", "year"], kind="stable").reset_index(drop=True)


def report_tables(tables: RunTables, context: RunContext) -> list[ReportTable]:
    """The report's tables, in reading order; a table the run has nothing for is left out."""
    out = []
    if context.contracts is not None and len(context.contracts):
        out.append(
            ReportTable(
                "contracts",
                "Contracts",
                "Each contract as the run resolved it: term, price per GPU-hour (the catalog's list price "
                "where the contract states none), commitment, and GPUs at the ramp's full size (an "
                "on-demand or capacity-block contract: its cap). Provenance: each figure the scenario "
                "marks, as a public fact (with its source) or an assumption.",
                context.contracts,
            )
        )
    runs = training_runs(tables, context)
    if len(runs):
        out.append(
            ReportTable(
                "training",
                "Training runs",
                "Each training run: when it was submitted, started and finished (empty: not by the horizon), "
                "its deadline and the training-time model's estimate, the GPU-hours it held and lost, its "
                "goodput and its interruptions (restarts after failures + preemptions).",
                runs.drop(columns=["work_done_pct"]),
            )
        )
    if len(tables.unmet):
        out.append(
            ReportTable(
                "unmet",
                "Demand not met, by month",
                "Per month and demand (inference service/region, training run, research or best-effort "
                "class) that went partly unmet: GPU-hours asked for, served and unmet (inference: also "
                "tokens; training: days its start slipped; research: the backlog); idle GPU-hours on "
                "contracts it may use while it went unmet, by contract; capacity short = unmet − that "
                "idle. Idle there but unmet: routing, placement, fragmentation or a gang that did not fit.",
                tables.unmet,
            )
        )
    if len(tables.ledger):
        out.append(
            ReportTable(
                "ledger",
                "Ledger by contract and contract year",
                "finance's summary of the ledger: per contract and contract year (0: outside the term), "
                "GPU-hours, what was committed, used and left unused, and what was due.",
                contract_year_summary(tables.ledger),
            )
        )
    cash = cash_by_year(tables.spend)
    if len(cash):
        out.append(
            ReportTable(
                "cash",
                "Cash by year and provider",
                "What each provider is paid in each calendar year, and the total.",
                cash,
            )
        )
    if len(tables.portfolio):
        out.append(
            ReportTable(
                "funding",
                "Revenue and funding need by year",
                "Per revenue scenario and calendar year: spend, revenue, the cash gap (spend − revenue) and "
                "the cumulative funding need.",
                funding_by_year(tables.portfolio),
            )
        )
    return out
