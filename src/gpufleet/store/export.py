"""Export a run's tables as Parquet or CSV files, each written whole (temp file, then rename)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd

from gpufleet.files import atomic_write
from gpufleet.jsontext import to_json
from gpufleet.store.meta import RunMeta
from gpufleet.tables import RunTables

EXPORT_FORMATS: tuple[str, ...] = ("parquet", "csv")


def write_run_files(
    meta: RunMeta,
    tables: RunTables,
    directory: Path,
    format: str,
    progress: Callable[[float, str], None] | None = None,
) -> list[Path]:
    """One file per table (`jobs.parquet` ...) plus `run.json`; returns the paths written.

    `progress(fraction, label)` is told after each table, the fraction by rows written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    frames = list(tables.items())
    total = max(1, sum(len(df) for _, df in frames))
    done = 0
    for name, df in frames:
        if progress is not None:
            progress(done / total, f"writing {name}.{format}")
        target = directory / f"{name}.{format}"
        atomic_write(target, partial(_write_table, df, format))
        written.append(target)
        done += len(df)
    target = directory / "run.json"
    atomic_write(target, lambda p: p.write_text(to_json(meta.to_dict()) + "\n"))
    written.append(target)
    return written


def _write_table(df: pd.DataFrame, format: str, path: Path) -> None:
    if format == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
