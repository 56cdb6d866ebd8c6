"""Options and output helpers shared by the command modules."""

from __future__ import annotations

import functools
import inspect
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console, JustifyMethod
from rich.table import Table

from gpufleet.errors import InputError
from gpufleet.jsontext import to_json

if TYPE_CHECKING:
    import pandas as pd

JSON_OPT = typer.Option(False, "--json", help="Print JSON instead of a table.")
QUIET_OPT = typer.Option(False, "--quiet", "-q", help="Hide progress bars (results are still printed).")
STORE_OPT = typer.Option(Path("gpufleet-results.duckdb"), "--store", help="Results store (DuckDB file).")
SEED_OPT = typer.Option(None, "--seed", help="Override the scenario's seed.")
REPORTS_DIR = Path("reports")  # where a run's HTML report goes unless -o says otherwise


def report_path(run_id: str) -> Path:
    """A run's report by default: reports/RUN_ID.html (`runs delete` removes it with the run)."""
    return REPORTS_DIR / f"{run_id}.html"


def console(stderr: bool = False) -> Console:
    """Rich output as wide as the terminal (COLUMNS when set), else 160 columns (a pipe, a file)."""
    sized = sys.stdout.isatty() or bool(os.environ.get("COLUMNS"))
    return Console(stderr=stderr, soft_wrap=False, width=None if sized else 160)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN as null, timestamps as ISO 8601."""
    import pandas as pd

    out = []
    for rec in df.to_dict("records"):
        row: dict[str, Any] = {}
        for k, v in rec.items():
            if isinstance(v, pd.Timestamp):
                row[str(k)] = v.isoformat()
            elif v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                row[str(k)] = None
            elif hasattr(v, "item"):
                row[str(k)] = v.item()
            else:
                row[str(k)] = v
        out.append(row)
    return out


def print_json(data: Any) -> None:
    """JSON on stdout through the one writer (never NaN or Infinity)."""
    typer.echo(to_json(data))


# ------------------------------------------------------------------------------ numbers on the command line


@dataclass(frozen=True)
class Bounds:
    """The plausible range of a numeric option; `above` makes the low end exclusive (> low)."""

    low: float
    high: float
    above: bool = False

    def problem(self, value: float) -> str | None:
        if not math.isfinite(value):
            return f"expected a finite number, got {value}"
        if self.above and self.low == 0 and value <= 0:
            return f"expected a positive number, got {value:g}"
        if value < self.low or (self.above and value == self.low):
            return f"expected {'more than' if self.above else 'at least'} {self.low:g}, got {value:g}"
        if value > self.high:
            return f"expected at most {self.high:g}, got {value:g}"
        return None


_POSITIVE_COUNT = Bounds(1, 1e8)
# Every numeric option of every command is checked when the command line is parsed (`check_numbers`):
# NaN and infinities always; the range below by option name (the same name means the same thing in
# every command), else the defaults. One place, so a new command gets the checks without code.
NUMBER_BOUNDS: dict[str, Bounds] = {
    "--gpus": _POSITIVE_COUNT,
    "--source-gpus": _POSITIVE_COUNT,
    "--jobs": _POSITIVE_COUNT,
    "--replica-gpus": Bounds(1, 1e6),
    "--size-scale": Bounds(1, 1e6),
    "--params": Bounds(0, 1e16, above=True),
    "--tokens": Bounds(0, 1e17, above=True),
    "--mfu": Bounds(0, 1, above=True),
    "--seq-len": Bounds(1, 1e8),
    "--layers": Bounds(1, 1e6),
    "--hidden": Bounds(1, 1e7),
    "--checkpoint-cost": Bounds(0, 1e7),
    "--checkpoint-interval": Bounds(0, 1e9, above=True),
    "--restart": Bounds(0, 1e7),
    "--failure-rate": Bounds(0, 1),  # 0: a failure-free run
    "--peak-tflops": Bounds(0, 1e7, above=True),
    "--memory-gb": Bounds(0, 1e6, above=True),
    "--power-kw": Bounds(0, 1e3, above=True),
    "--price": Bounds(0, 1e4, above=True),
    "--weekly-users": Bounds(0, 1e11, above=True),
    "--tokens-per-user-per-day": Bounds(0, 1e9, above=True),
    "--tokens-per-s-per-gpu": Bounds(0, 1e9, above=True),
    "--headroom": Bounds(1, 10),
    "--peak-to-mean": Bounds(1, 10),
    "--weekend-factor": Bounds(0, 10, above=True),
    "--amount": Bounds(0, 1e15, above=True),
    "--years": Bounds(0, 100, above=True),
    "--pue": Bounds(1, 3),
    "--load": Bounds(1e-4, 100),
    "--seed": Bounds(0, 2**63 - 1),
}
DEFAULT_FLOAT = Bounds(-1e18, 1e18)
DEFAULT_INT = Bounds(-(2**53), 2**53)


def check_numbers(app: typer.Typer) -> None:
    """Wrap every command of `app` (and its sub-apps) so its inputs are checked before it runs.

    An option's name (its longest flag) picks its bounds; a value out of them is bad input naming the
    option (exit 2). Lists of numbers (an option given several times) are checked one by one. An
    output path (-o, --output, --report) must be writable, checked before any work is done.
    """
    infos: list[Any] = [*app.registered_commands, app.registered_callback]  # a group's own options too
    for info in infos:
        if info is not None and info.callback is not None and not getattr(info.callback, "_checked", False):
            info.callback = _with_number_checks(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            check_numbers(group.typer_instance)


def name_metavars(app: typer.Typer) -> None:
    """Usage lines people read: an argument as its name in capitals (RUN, FILE, not `{run}`), a repeatable
    option as its element type (`<float>`, not `<list[float]>`). A metavar a command sets stays."""
    for info in app.registered_commands:
        if info.callback is None:
            continue
        for p in inspect.signature(info.callback).parameters.values():
            param = p.default
            if getattr(param, "metavar", "") is not None:
                continue
            if isinstance(param, typer.models.ArgumentInfo):
                param.metavar = p.name.upper()
            elif isinstance(param, typer.models.OptionInfo) and (
                m := re.search(r"list\[(\w+)\]", str(p.annotation))  # annotations are text here
            ):
                param.metavar = f"<{m.group(1)}>"
    for group in app.registered_groups:
        if group.typer_instance is not None:
            name_metavars(group.typer_instance)


def _option_name(default: Any) -> str | None:
    decls = [d for d in getattr(default, "param_decls", None) or () if d.startswith("--")]
    return max(decls, key=len) if decls else None


def _with_number_checks(func: Callable[..., Any]) -> Callable[..., Any]:
    params = inspect.signature(func).parameters.values()
    names = {p.name: _option_name(p.default) or f"--{p.name.replace('_', '-')}" for p in params}
    outputs = {
        p.name
        for p in params
        if {"-o", "--output", "--report"} & set(getattr(p.default, "param_decls", ()) or ())
    }

    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for key in outputs:
            path = kwargs.get(key)
            if isinstance(path, Path) and not path.is_dir():  # a folder: the command says if it may be
                _probe(path.parent, path, names[key])
        for key, value in kwargs.items():
            values = value if isinstance(value, list | tuple) else [value]
            for v in values:
                if isinstance(v, bool) or not isinstance(v, int | float):
                    continue
                option = names.get(key, key)
                default = DEFAULT_INT if isinstance(v, int) else DEFAULT_FLOAT
                problem = NUMBER_BOUNDS.get(option, default).problem(float(v))
                if problem:
                    raise InputError(problem, where=option)
        return func(*args, **kwargs)

    checked._checked = True  # type: ignore[attr-defined]
    return checked


# ------------------------------------------------------------------------------ output paths


def check_output_file(path: Path, option: str) -> None:
    """Fail now, before the work, if `path` cannot be written as a file (its folder may be made later)."""
    if path.is_dir():
        raise InputError(f"{path} is a folder; expected a file path", where=option)
    _probe(path.parent, path, option)


def check_output_folder(path: Path, option: str) -> None:
    """Fail now, before the work, if files cannot be written into the folder `path` (made later if new)."""
    if path.exists() and not path.is_dir():
        raise InputError(f"{path} exists and is not a folder", where=option)
    _probe(path, path, option)


def _probe(folder: Path, target: Path, option: str) -> None:
    """Create and remove a temp file in the nearest folder that exists: writable, or bad input."""
    existing = folder if str(folder) else Path(".")
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"cannot write {target}: {existing} is not a folder", where=option)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".gpufleet-probe-", dir=existing)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}", where=option) from None
    os.close(fd)
    os.unlink(tmp)


PROSE_WIDTH = 30  # room a prose column asks for when a table is folded; it wraps in what it gets


def note(text: str) -> None:
    """A line of prose on stdout, wrapped at spaces to the terminal (a table's legend, a total)."""
    console().print(text, markup=False, highlight=False)


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    right: Sequence[str] = (),
    keys: int = 1,
    prose: Sequence[str] = (),
) -> None:
    """A table that fits the terminal: no cell is ever split (ids, dates, figures stay whole).

    When the columns are wider than the terminal, the table is folded: printed in parts of as many
    columns as fit, each part repeating the first `keys` columns (the run id, the contract) so every
    row can still be read. Columns named in `prose` (a reason, a note) wrap at spaces instead.
    """
    out = console()
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max([len(col), *(len(r[i]) for r in cells)]) for i, col in enumerate(columns)]
    widths = [min(w, PROSE_WIDTH) if col in prose else w for w, col in zip(widths, columns, strict=True)]
    for part, idx in enumerate(fold_columns(widths, out.width, keys)):
        suffix = "" if len(idx) == len(columns) else f" (part {part + 1})"
        table = Table(title=title + suffix, title_justify="left", show_lines=False)
        for i in idx:
            col = columns[i]
            justify: JustifyMethod = "right" if col in right else "left"
            if col in prose:
                table.add_column(col, justify=justify, overflow="fold", ratio=1)
            else:
                table.add_column(col, justify=justify, no_wrap=True, min_width=widths[i])
        for r in cells:
            table.add_row(*(r[i] for i in idx))
        out.print(table)


def fold_columns(widths: Sequence[int], room: int, keys: int = 1) -> list[list[int]]:
    """Column indices in parts that each fit `room` characters (rich's box: 3 per column + 1), each part
    led by the first `keys` columns; a single column wider than the room gets a part of its own."""
    keys = min(keys, len(widths))
    lead = list(range(keys))

    def width(idx: list[int]) -> int:
        return sum(widths[i] + 3 for i in idx) + 1

    if width(list(range(len(widths)))) <= room:
        return [list(range(len(widths)))]
    parts: list[list[int]] = []
    current = list(lead)
    for i in range(keys, len(widths)):
        if len(current) > keys and width([*current, i]) > room:
            parts.append(current)
            current = list(lead)
        current.append(i)
    parts.append(current)
    return parts


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
