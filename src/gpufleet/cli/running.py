"""Running a scenario from a command (with a progress bar) and finding a stored run's scenario."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gpufleet.cli.common import console
from gpufleet.errors import InputError
from gpufleet.scenario import LoadedScenario, load_scenario_file, load_scenario_text

if TYPE_CHECKING:
    from gpufleet.pipeline import RunResult
    from gpufleet.sched.planned import PlanMonth
    from gpufleet.store.store import Store


@contextmanager
def progress_bar(quiet: bool, label: str = "simulating") -> Iterator[Callable[[float, str], None] | None]:
    """A rich progress bar on stderr (elapsed and remaining time), or nothing when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
        console=console(stderr=True), transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(label, total=1.0)

        def update(fraction: float, label: str) -> None:
            bar.update(task, completed=min(max(fraction, 0.0), 1.0), description=label)

        yield update


@contextmanager
def working(quiet: bool, label: str) -> Iterator[None]:
    """A step of unknown length (rendering a report): a spinner and the elapsed time on stderr."""
    if quiet or not sys.stderr.isatty():
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=console(stderr=True), transient=True,
    ) as bar:  # fmt: skip
        bar.add_task(label, total=None)
        yield


def run_with_progress(
    loaded: LoadedScenario, seed: int | None, quiet: bool, plan_months: Sequence[PlanMonth] = ()
) -> RunResult:
    from gpufleet.pipeline import run_scenario

    with progress_bar(quiet) as progress:
        return run_scenario(loaded, seed=seed, progress=progress, plan_months=plan_months)


def check_fits(loaded: LoadedScenario, force: bool) -> None:
    """Refuse (exit 2, with the figures) a run whose estimated memory exceeds what this machine has."""
    from gpufleet.machine import memory_shortfall

    why = None if force else memory_shortfall(loaded)
    if why is not None:
        raise InputError(f"{why}, or pass --force", where=loaded.file)


def stored_runs() -> list[str]:
    """Runs this process stored (the interrupt message says the last one)."""
    return list(_STORED)


_STORED: list[str] = []


def forget_stored() -> None:
    """A new command starts with no run stored (main() calls this; tests run many commands in one process)."""
    _STORED.clear()


def simulate_and_store(
    loaded: LoadedScenario,
    store_path: Path,
    seed: int | None,
    quiet: bool,
    plan_id: str | None = None,
    plan_months: Sequence[PlanMonth] = (),
) -> RunResult:
    """Run a scenario and keep the run, with the scenario's text (and the plan it follows), in the store.
    `plan_months`: the plan's months, which the `plan` provider choice follows.

    The store is opened (checked, migrated, and the run recorded as running) before the run, so a
    wrong store fails in a second, not after the simulation. The store is not held while simulating:
    other processes read and write it meanwhile. A run that fails or is interrupted is recorded as
    failed; one whose process is killed is reported failed by the store (its pid is gone).
    """
    from gpufleet.store import new_run_id, open_store
    from gpufleet.store.store import CommittedInterrupt, record_failure

    started = dt.datetime.now(dt.UTC)
    run_id = new_run_id(started)
    run_seed = loaded.scenario.seed if seed is None else seed
    with open_store(store_path) as store:
        try:
            store.begin_run(run_id, loaded.scenario.name, run_seed, started)
        except CommittedInterrupt:
            store.fail_run(run_id, "interrupted")
            raise
    try:
        result = run_with_progress(loaded, seed, quiet, plan_months)
        result = dataclasses.replace(result, meta=dataclasses.replace(result.meta, run_id=run_id))
        with open_store(store_path) as store:
            try:
                store.save_run(result.meta, result.tables, scenario_text=loaded.text, plan_id=plan_id)
            except CommittedInterrupt:
                _STORED.append(run_id)
                raise
    except BaseException as exc:
        if run_id not in _STORED:
            record_failure(store_path, run_id, exc, wait_s=5.0)
        raise
    _STORED.append(run_id)
    return result


def latest_or_simulate(store_path: Path, seed: int | None, quiet: bool) -> str:
    """DESIGN.md's rule for a command on results given neither a run nor a FILE: the latest stored run
    (named on stderr); the default scenario is simulated and stored only when the store holds no run."""
    import typer

    from gpufleet.scenario import load_scenario
    from gpufleet.store import open_store

    if store_path.exists():
        with open_store(store_path, read_only=True, create=False) as store:
            ids = store.run_ids()
        if ids:
            if seed is not None:
                raise InputError("a stored run has its seed already; --seed is for a FILE", where="--seed")
            typer.echo(
                f"using the latest run in {store_path}: {ids[-1]} (--run ID or a scenario FILE for another)",
                err=True,
            )
            return ids[-1]
    typer.echo(f"{store_path} holds no run yet: simulating the default scenario and storing it", err=True)
    return simulate_and_store(load_scenario(None), store_path, seed, quiet).meta.run_id


def stored_scenario(store: Store, run_id: str, file: Path | None = None) -> LoadedScenario | None:
    """The scenario a stored run ran: FILE when given, else the text the store kept (None if it kept none)."""
    if file is not None:
        return load_scenario_file(file)
    text = store.load_scenario_text(run_id)
    return None if text is None else load_scenario_text(text, f"<scenario of run {run_id}>")
