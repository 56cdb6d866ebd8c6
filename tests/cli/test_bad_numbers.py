"""Every numeric option of every command: NaN, infinities and absurd sizes are exit 2 naming the option."""

from __future__ import annotations

import inspect
import json
import math
import typing
from pathlib import Path
from typing import Any

import pytest
import typer
from helpers import run_cli
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.cli import app
from gpufleet.cli.common import NUMBER_BOUNDS

# A valid command line per command that has numeric options; each option is then given bad values.
VALID: dict[tuple[str, ...], list[str]] = {
    ("estimate", "training"): ["--params", "405e9", "--tokens", "15.6e12", "--accelerator", "h100",
                               "--gpus", "16384"],
    ("estimate", "inference"): ["--accelerator", "gb200", "--weekly-users", "1e6"],
    ("deal",): ["--years", "7", "--amount", "38e9", "--product", "aws/u-p6e-gb200x72"],
    ("trace", "fit"): ["{tmp}/missing.csv", "--format", "generic", "-o", "{tmp}/p.yaml"],
    ("finance", "export"): ["-o", "{tmp}/ledger.csv"],
    ("trace", "synth"): ["--params", "philly", "--jobs", "10", "--gpus", "100", "-o", "{tmp}/out.csv"],
}  # fmt: skip


def numeric_options(
    typer_app: typer.Typer, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], str, type]]:
    """(command path, option flag, int or float) for every numeric option, found from the commands."""
    out = []
    infos = [(info, info.name) for info in typer_app.registered_commands]
    if typer_app.registered_callback is not None and prefix:  # the group's own options
        infos.append((typer_app.registered_callback, ""))
    for info, given_name in infos:
        assert info.callback is not None
        func = inspect.unwrap(info.callback)
        name = given_name if given_name is not None else func.__name__.replace("_", "-")
        hints = typing.get_type_hints(func)
        for p in inspect.signature(func).parameters.values():
            decls = [d for d in getattr(p.default, "param_decls", None) or () if d.startswith("--")]
            kinds = {a for a in (*typing.get_args(hints[p.name]), hints[p.name]) if a in (int, float)}
            kinds |= {
                a for arg in typing.get_args(hints[p.name]) for a in typing.get_args(arg) if a in (int, float)
            }
            if decls and kinds:
                path = (*prefix, name) if name else prefix
                out.append((path, max(decls, key=len), float if float in kinds else int))
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None and group.name is not None
        out += numeric_options(group.typer_instance, (*prefix, group.name))
    return out


OPTIONS = numeric_options(app)
BAD_FLOATS = ["nan", "inf", "-inf", "1e300", "-1e300"]
BAD_INTS = [str(2**70), str(-(2**70))]


def test_the_options_were_found() -> None:
    flags = {flag for _, flag, _ in OPTIONS}
    assert {"--gpus", "--price", "--failure-rate", "--weekly-users", "--seed", "--jobs"} <= flags
    assert {("finance", "summary"), ("simulate",), ("deal",), ("trace", "synth")} <= {
        c for c, _, _ in OPTIONS
    }


def _argv(command: tuple[str, ...], option: str, value: str, tmp: Path) -> list[str]:
    base = [a.replace("{tmp}", str(tmp)) for a in VALID.get(command, [])]
    if option in base:  # replace the valid value
        i = base.index(option)
        base = base[:i] + base[i + 2 :]
    return [*command, *base, option, value]


@pytest.mark.parametrize(
    ("command", "option", "kind"), OPTIONS, ids=[" ".join(c) + " " + o for c, o, _ in OPTIONS]
)
def test_absurd_numbers_are_refused_naming_the_option(
    command: tuple[str, ...], option: str, kind: type, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for value in BAD_FLOATS if kind is float else BAD_INTS:
        r = run_cli(*_argv(command, option, value, tmp_path), capsys=capsys)
        assert r.code == 2, (value, r.stdout, r.stderr)
        assert option in r.stderr and "internal error" not in r.stderr and "Traceback" not in r.stderr
        assert list(tmp_path.iterdir()) == []  # nothing written


SYNTH = ["trace", "synth", "--params", "philly", "--jobs", "10"]
TRAINING = ["estimate", "training", *VALID[("estimate", "training")]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*SYNTH, "--gpus", "inf"], "--gpus: expected a finite"),
        ([*SYNTH, "--gpus", "1e-300"], "--gpus: expected at least 1"),
        ([*SYNTH, "--gpus", "1e18"], "--gpus: expected at most"),
        ([*SYNTH, "--gpus", "nan"], "--gpus: expected a finite"),
        (["estimate", "inference", "--accelerator", "gb200", "--weekly-users", "1e30"], "--weekly-users"),
        ([*TRAINING, "--failure-rate", "inf"], "--failure-rate"),
        ([*TRAINING, "--price", "nan"], "--price: expected a finite"),
        ([*TRAINING, "--price", "0"], "--price: expected a positive"),
        (["simulate", "--seed", "-1"], "--seed: expected at least 0"),
    ],
)
def test_named_cases(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = (
        run_cli(*args, "-o", str(tmp_path / "out.csv"), capsys=capsys)
        if args[0] == "trace"
        else run_cli(*args, "--store", str(tmp_path / "s.duckdb"), capsys=capsys)
        if args[0] == "simulate"
        else run_cli(*args, capsys=capsys)
    )
    assert r.code == 2 and message in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_binary_params_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = tmp_path / "p.yaml"
    params.write_bytes(bytes(range(256)) * 8)
    out = tmp_path / "out.csv"
    r = run_cli("trace", "synth", "--params", str(params), "--jobs", "10", "--gpus", "100", "-o", str(out),
                capsys=capsys)  # fmt: skip
    assert r.code == 2 and str(params) in r.stderr and "not UTF-8" in r.stderr
    assert not out.exists()


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"JSON output holds {name}")

    return json.loads(text, parse_constant=refuse)


finite_or_not = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e-12, max_value=1e12),
    st.sampled_from([0.0, -1.0, 1e-300, 1e18, 1e30]),
)


@given(price=finite_or_not, failure_rate=finite_or_not, mfu=finite_or_not, gpus=st.integers(-5, 2**40))
def test_fuzz_estimate_training_is_exit_0_or_2_and_json_is_strict(
    price: float, failure_rate: float, mfu: float, gpus: int
) -> None:
    from gpufleet.cli import main

    args = [*TRAINING, "--gpus", str(gpus), "--price", repr(price), "--failure-rate", repr(failure_rate),
            "--mfu", repr(mfu), "--json"]  # fmt: skip
    with _captured() as out:
        code = main(args)
    stdout, stderr = out()
    assert code in (0, 2), stderr
    assert "internal error" not in stderr
    if code == 0:
        data = _strict_json(stdout)
        assert isinstance(data, dict)
    else:
        assert stderr.startswith(("error: --", "Usage", "Try", "error:"))


@given(users=finite_or_not, tokens=finite_or_not, headroom=finite_or_not)
def test_fuzz_estimate_inference_never_prints_nonsense(users: float, tokens: float, headroom: float) -> None:
    from gpufleet.cli import main

    args = ["estimate", "inference", "--accelerator", "gb200", "--weekly-users", repr(users),
            "--tokens-per-user-per-day", repr(tokens), "--headroom", repr(headroom), "--json"]  # fmt: skip
    with _captured() as out:
        code = main(args)
    stdout, stderr = out()
    assert code in (0, 2), stderr
    if code == 0:
        data = _strict_json(stdout)
        assert all(r["replicas"] >= 0 for r in data.get("hours", []) if "replicas" in r)
        assert data.get("peak_gpus", 0) >= 0


def test_every_bound_is_sane() -> None:
    for flag, b in NUMBER_BOUNDS.items():
        assert flag.startswith("--") and math.isfinite(b.low) and math.isfinite(b.high) and b.low < b.high


class _captured:
    """stdout and stderr of an in-process CLI call (capsys cannot be used inside hypothesis examples)."""

    def __enter__(self) -> Any:
        import contextlib
        import io

        self._out, self._err = io.StringIO(), io.StringIO()
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(contextlib.redirect_stdout(self._out))
        self._stack.enter_context(contextlib.redirect_stderr(self._err))
        return lambda: (self._out.getvalue(), self._err.getvalue())

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
