"""The mypyc-compiled engine and the pure-Python one give identical tables (GPUFLEET_PURE_PYTHON=1)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gpufleet import native

CODE = (
    "import hashlib, sys\n"
    "import gpufleet.native as n, gpufleet.sim.engine as e\n"
    "from gpufleet.scenario import load_scenario\n"
    "from gpufleet.assemble import simulate\n"
    "l = load_scenario(sys.argv[1]); sc = l.scenario\n"
    "h = hashlib.sha256()\n"
    "for name, df in simulate(sc, l.catalog, 3, {}).items(): h.update(name.encode() + df.to_csv().encode())\n"
    "print(n.is_compiled(e), h.hexdigest())\n"
)


def _run(small: str, pure: bool) -> tuple[str, str]:
    env = dict(os.environ, GPUFLEET_PURE_PYTHON="1" if pure else "0")
    out = subprocess.run(
        [sys.executable, "-c", CODE, small], env=env, capture_output=True, text=True, check=True
    )
    compiled, digest = out.stdout.split()
    return compiled, digest


def test_compiled_and_pure_python_give_identical_tables() -> None:
    from helpers import SMALL

    if not native.compiled_is_current():
        pytest.skip("the engine is not compiled here (mypyc build absent or stale): nothing to compare")
    compiled, a = _run(str(SMALL), pure=False)
    pure, b = _run(str(SMALL), pure=True)
    assert (compiled, pure) == ("True", "False")  # each run used the code it should
    assert a == b


def test_pure_python_switch_loads_the_sources() -> None:
    env = dict(os.environ, GPUFLEET_PURE_PYTHON="1")
    code = "import gpufleet.sim.cycle as c, gpufleet.fleet.state as s; print(c.__file__, s.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert all(p.endswith(".py") for p in out.stdout.split())
