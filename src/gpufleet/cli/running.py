"""Running a scenario from a command (with a progress bar) and finding a stored run's scenario."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gpufleet.cli.common import console
from gpufleet.scenario import LoadedScenario, load_scenario_file, load_scenario_text

if TYPE_CHECKING:
    from gpufleet.pipeline import RunResult
    from gpufleet.store.store import Store


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Callable[[float, str], None] | None]:
    """A rich progress bar on stderr, or nothing when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), console=console(stderr=True), transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("simulating", total=1.0)

        def update(fraction: float, label: str) -> None:
            bar.update(task, completed=min(max(fraction, 0.0), 1.0), description=label)

        yield update


def run_with_progress(loaded: LoadedScenario, seed: int | None, quiet: bool) -> RunResult:
    from gpufleet.pipeline import run_scenario

    with progress_bar(quiet) as progress:
        return run_scenario(loaded, seed=seed, progress=progress)


def simulate_and_store(loaded: LoadedScenario, store_path: Path, seed: int | None, quiet: bool) -> RunResult:
    """Run a scenario and keep the run, with the scenario's text, in the store.

    The store is opened (and its schema version checked) before the run, so a wrong store fails in
    a second, not after the simulation.
    """
    from gpufleet.store import open_store

    with open_store(store_path):
        pass
    result = run_with_progress(loaded, seed, quiet)
    with open_store(store_path) as store:
        store.save_run(result.meta, result.tables, scenario_text=loaded.text)
    return result


def stored_scenario(store: Store, run_id: str, file: Path | None = None) -> LoadedScenario | None:
    """The scenario a stored run ran: FILE when given, else the text the store kept (None if it kept none)."""
    if file is not None:
        return load_scenario_file(file)
    text = store.load_scenario_text(run_id)
    return None if text is None else load_scenario_text(text, f"<scenario of run {run_id}>")
