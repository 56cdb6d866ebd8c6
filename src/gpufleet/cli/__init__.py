"""The `gpufleet` command: one Typer app; each command group lives in its own module here."""

from __future__ import annotations

import importlib
import os

import typer

from gpufleet import __version__
from gpufleet.errors import GpufleetError, InputError

app = typer.Typer(
    name="gpufleet",
    help="Plan, simulate and account a multi-cloud AI compute fleet from one scenario file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def command_group(name: str, help: str) -> typer.Typer:
    """A group of subcommands, `gpufleet NAME ...`, registered on the app (plain help, as the app's)."""
    group = typer.Typer(name=name, help=help, no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(group, name=name)
    return group


# Each module registers its commands on `app` when imported. Keep one module per command group.
_COMMAND_MODULES = [
    "gpufleet.cli.scenario_cmd",
    "gpufleet.cli.catalog_cmd",
    "gpufleet.cli.simulate_cmd",
    "gpufleet.cli.finance_cmd",
    "gpufleet.cli.runs_cmd",
    "gpufleet.cli.estimate_cmd",
    "gpufleet.cli.trace_cmd",
    "gpufleet.cli.plan_cmd",
    "gpufleet.cli.plans_cmd",
    "gpufleet.cli.serve_cmd",
    "gpufleet.cli.whatif_cmd",
    "gpufleet.cli.sweep_cmd",
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gpufleet {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """gpufleet: is there enough compute, where should work run, what does it cost, does it pay off?"""


for _name in _COMMAND_MODULES:
    importlib.import_module(_name)

from gpufleet.cli.common import check_numbers, name_metavars  # noqa: E402  (once every command is registered)

name_metavars(app)  # usage lines with RUN, FILE, <float>
check_numbers(app)  # every numeric option of every command: finite and in its plausible range


def report_error(exc: GpufleetError) -> int:
    """Print an error for a person (every problem on its own line) and return the exit status."""
    if isinstance(exc, InputError):
        n = len(exc.problems)
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        if n > 1:
            typer.echo(f"{n} problems found", err=True)
    else:
        typer.echo(f"error: {exc}", err=True)
    return exc.exit_code


def _interrupted(stored: list[str]) -> int:
    """Ctrl-C: one line saying whether a run was stored (the store itself is never left half-written)."""
    done = f"run stored as {stored[-1]}" if stored else "nothing stored"
    typer.echo(f"interrupted; {done}", err=True)
    return 130


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app; a known error exits 2 (bad input) or 1, never with a traceback."""
    from gpufleet.cli.running import forget_stored, stored_runs

    forget_stored()
    try:
        # without standalone mode, an Exit raised inside a command comes back as its status
        status = app(args=argv, standalone_mode=False)
    except GpufleetError as exc:
        return report_error(exc)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except (typer.Abort, KeyboardInterrupt):
        return _interrupted(stored_runs())
    except Exception as exc:
        # a usage error (unknown option, missing argument) knows how to show itself; click's
        # exceptions and typer's own vendored ones both have show() and exit_code
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        # a bug: a message, never a traceback
        if os.environ.get("GPUFLEET_DEBUG"):
            raise
        typer.echo(
            f"error: internal error: {type(exc).__name__}: {exc} (set GPUFLEET_DEBUG=1 for details)", err=True
        )
        return 1
    if status == 130:  # typer turns Ctrl-C (KeyboardInterrupt) into exit status 130, silently
        return _interrupted(stored_runs())
    return status if isinstance(status, int) else 0
