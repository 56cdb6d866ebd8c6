"""CSV plumbing shared by the trace readers: strict headers, typed columns, errors with file:line."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from gpufleet.errors import InputError, Problem
from gpufleet.scenario.limits import MAX_TRACE_SECONDS

if TYPE_CHECKING:
    import pandas as pd

MAX_PROBLEMS = 10  # problems listed per error; the count of the rest is given
MAX_WHOLE = 2.0**53  # whole numbers above this are not exact in float64


def read_csv_strings(
    path: Path, required: Iterable[str], optional: Iterable[str] = (), fmt: str = ""
) -> pd.DataFrame:
    """All cells as strings (missing -> ""); refuses a missing file, a missing or unknown column, and a
    row with more fields than the header. The frame's index is each row's line in the file, so errors
    name the right line even where blank lines were skipped."""
    import pandas as pd

    where = str(path)
    if not path.is_file():
        raise InputError(f"no such trace file (--format {fmt})" if fmt else "no such file", where=where)
    try:
        with warnings.catch_warnings():
            # index_col=False: a first row longer than the header must not turn into an index
            # (pandas would shift every column silently); it warns, and the warning becomes an error.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skipinitialspace=True,
                index_col=False,
                skip_blank_lines=False,
            )
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty: expected a CSV header line", where=f"{where}:1") from None
    except pd.errors.ParserWarning:
        raise InputError("more fields than the header has columns", where=f"{where}:2") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"not a well-formed CSV file: {exc}", where=where) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not a UTF-8 text file: {exc}", where=where) from None
    # blank lines are read as empty rows (to keep the count of lines) and dropped here
    df.index = pd.RangeIndex(2, len(df) + 2)
    if len(df.columns):
        df = df[(df.astype(str) != "").any(axis=1)]
    req, opt = list(required), list(optional)
    cols = [str(c).strip() for c in df.columns]
    df.columns = pd.Index(cols)
    problems = []
    missing = [c for c in req if c not in cols]
    if missing:
        problems.append(
            Problem(f"{where}:1", "", f"missing column(s) {', '.join(missing)} for --format {fmt}")
        )
    unknown = [c for c in cols if c not in req and c not in opt]
    if unknown:
        allowed = ", ".join(req + opt)
        problems.append(
            Problem(
                f"{where}:1", "", f"unknown column(s) {', '.join(unknown)}; --format {fmt} has: {allowed}"
            )
        )
    if problems:
        raise InputError(problems)
    return df.fillna("")


def _bad(
    where: str, column: str, lines: npt.NDArray[np.int64], values: list[str] | None, what: str
) -> InputError:
    """One problem per bad line (the first MAX_PROBLEMS, then a count), quoting the value when given."""
    shown = lines[:MAX_PROBLEMS]
    problems = [
        Problem(f"{where}:{int(line)}", column, what if values is None else f"{what}, got {values[i]!r}")
        for i, line in enumerate(shown)
    ]
    if len(lines) > MAX_PROBLEMS:
        problems.append(Problem(where, column, f"... and {len(lines) - MAX_PROBLEMS} more rows like these"))
    return InputError(problems)


def bad_rows(
    df: pd.DataFrame, mask: npt.NDArray[np.bool_], where: str, column: str, what: str, quote: bool = True
) -> InputError:
    """The error for the rows where `mask` is true, naming file:line and, with `quote`, the cell."""
    values = df[column].astype(str)[mask].tolist() if quote else None
    return _bad(where, column, line_numbers(df, mask), values, what)


def skip_rows(
    n: int, reasons: Iterable[tuple[str, npt.NDArray[np.bool_]]]
) -> tuple[npt.NDArray[np.bool_], dict[str, int]]:
    """(rows kept, rows skipped by reason): a row is counted once, under the first reason that hits it."""
    keep = np.ones(n, dtype=bool)
    skipped: dict[str, int] = {}
    for reason, mask in reasons:
        hit = mask & keep
        if hit.any():
            skipped[reason] = int(hit.sum())
            keep &= ~hit
    return keep, skipped


def line_numbers(df: pd.DataFrame, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """File line numbers (1-based, header = line 1) of the rows where `mask` is true."""
    lines = np.asarray(df.index, dtype=np.int64)
    return np.asarray(lines[np.asarray(mask, dtype=bool)], dtype=np.int64)


def numbers(
    df: pd.DataFrame,
    column: str,
    where: str,
    allow_empty: bool = False,
    min_value: float | None = 0.0,
    max_value: float | None = None,
) -> npt.NDArray[np.float64]:
    """A column as float64. Empty (unless allowed: NaN), unparsable or out of [min, max] -> InputError."""
    import pandas as pd

    text = df[column].astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    empty = (text == "").to_numpy()
    bad = np.isnan(values) & ~empty
    if bad.any():
        raise _bad(where, column, line_numbers(df, bad), text[bad].tolist(), "expected a number")
    bad = ~np.isfinite(values) & ~np.isnan(values)
    if bad.any():
        raise _bad(where, column, line_numbers(df, bad), text[bad].tolist(), "expected a finite number")
    if empty.any() and not allow_empty:
        raise _bad(where, column, line_numbers(df, empty), [""] * int(empty.sum()), "missing value")
    if min_value is not None:
        low = values < min_value  # NaN compares False
        if low.any():
            raise _bad(
                where, column, line_numbers(df, low), text[low].tolist(), f"expected a value >= {min_value:g}"
            )
    if max_value is not None:
        _at_most(df, values, column, where, max_value)
    return values


def _at_most(df: pd.DataFrame, values: npt.NDArray[np.float64], column: str, where: str, high: float) -> None:
    over = values > high  # NaN compares False
    if over.any():
        text = df[column].astype(str)[over].tolist()
        raise _bad(where, column, line_numbers(df, over), text, f"expected at most {high:g}")


def check_span(
    df: pd.DataFrame,
    seconds: npt.NDArray[np.float64],
    column: str,
    where: str,
    max_span: float = MAX_TRACE_SECONDS,
) -> None:
    """Refuse times farther than `max_span` from the trace's median: one outlier would otherwise make
    every per-minute or per-step array of the run span it (a 1e12 s submit time: gigabytes)."""
    if len(seconds) == 0:
        return
    far = np.abs(seconds - float(np.median(seconds))) > max_span
    if far.any():
        years = max_span / (365.25 * 86_400)
        raise bad_rows(
            df, far, where, column, f"more than {years:g} years from the trace's median time (an outlier?)"
        )


def integers(
    df: pd.DataFrame, column: str, where: str, min_value: float | None = 0.0, max_value: float | None = None
) -> npt.NDArray[np.int64]:
    """A column of whole numbers as int64 (1.0 is fine, 1.5 is not)."""
    values = numbers(df, column, where, min_value=min_value)
    frac = values != np.round(values)
    if frac.any():
        text = df[column].astype(str)[frac].tolist()
        raise _bad(where, column, line_numbers(df, frac), text, "expected a whole number")
    huge = np.abs(values) > MAX_WHOLE  # beyond it int64 overflows (or floats lose whole numbers)
    if huge.any():
        text = df[column].astype(str)[huge].tolist()
        raise _bad(
            where, column, line_numbers(df, huge), text, f"expected a whole number below {MAX_WHOLE:.0e}"
        )
    if max_value is not None:
        _at_most(df, values, column, where, max_value)
    return values.astype(np.int64)


def strings(df: pd.DataFrame, column: str, where: str, allow_empty: bool = False) -> npt.NDArray[np.object_]:
    values = df[column].astype(str).str.strip().to_numpy(dtype=object)
    if not allow_empty:
        empty = values == ""
        if empty.any():
            raise _bad(where, column, line_numbers(df, empty), [""] * int(empty.sum()), "missing value")
    return values


def mapped(keys: npt.NDArray[np.object_], mapping: dict[str, str], default: str) -> npt.NDArray[np.object_]:
    """keys mapped through `mapping`; keys not in it (or empty) get `default`."""
    if not mapping:
        return np.full(len(keys), default, dtype=object)
    uniq, inverse = np.unique(keys.astype(str), return_inverse=True)
    table = np.array([mapping.get(str(k), default) for k in uniq], dtype=object)
    return table[inverse]
