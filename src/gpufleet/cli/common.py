"""Options and output helpers shared by the command modules."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

JSON_OPT = typer.Option(False, "--json", help="Print JSON instead of a table.")
QUIET_OPT = typer.Option(False, "--quiet", "-q", help="Hide progress bars (results are still printed).")
STORE_OPT = typer.Option(Path("gpufleet-results.duckdb"), "--store", help="Results store (DuckDB file).")
SEED_OPT = typer.Option(None, "--seed", help="Override the scenario's seed.")


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, soft_wrap=False, width=None if sys.stdout.isatty() else 160)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def print_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[str] = ()
) -> None:
    table = Table(title=title, title_justify="left", show_lines=False)
    for col in columns:
        table.add_column(col, justify="right" if col in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console().print(table)


def fmt_num(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def fmt_usd(x: float | None) -> str:
    if x is None:
        return "-"
    sign, ax = ("-" if x < 0 else ""), abs(x)
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if ax >= scale:
            return f"{sign}${ax / scale:,.2f}{unit}"
    return f"{sign}${ax:,.2f}"
