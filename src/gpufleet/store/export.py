"""Export a run's tables as Parquet or CSV files, each written whole (temp file, then rename)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd

from gpufleet.errors import InputError
from gpufleet.store.meta import RunMeta
from gpufleet.tables import RunTables

EXPORT_FORMATS: tuple[str, ...] = ("parquet", "csv")


def write_run_files(meta: RunMeta, tables: RunTables, directory: Path, format: str) -> list[Path]:
    """One file per table (`jobs.parquet` ...) plus `run.json`; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, df in tables.items():
        target = directory / f"{name}.{format}"
        atomic_write(target, partial(_write_table, df, format))
        written.append(target)
    target = directory / "run.json"
    atomic_write(target, lambda p: p.write_text(json.dumps(meta.to_dict(), indent=2) + "\n"))
    written.append(target)
    return written


def _write_table(df: pd.DataFrame, format: str, path: Path) -> None:
    if format == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")


def atomic_write(target: Path, write: Callable[[Path], object], make_parent: bool = False) -> None:
    """Write through `write(tmp)` to a temp file beside `target`, then rename: never a half-written file.

    A target that is a folder, or whose folder cannot be made or written, is bad input (the path came
    from the user), not an internal error.
    """
    if target.is_dir():
        raise InputError("is a folder; expected a file path", where=str(target))
    try:
        if make_parent:
            target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except (FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError) as exc:
        raise InputError(f"cannot write here: {exc.strerror}", where=str(target)) from None
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
