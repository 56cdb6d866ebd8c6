"""The engine's hot modules compiled with mypyc: which ones, building them in place, and the pure-Python path.

`make install` runs `python -m gpufleet.native`, which compiles the modules below next to their
sources (a failed build leaves pure Python and says so). At import, gpufleet/__init__.py keeps the
pure-Python modules when GPUFLEET_PURE_PYTHON=1 (for debugging and the identity test) or when a
compiled module is older than its source (an edit since the last build), so stale code never runs.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent
COMPILED = (
    "gpufleet.fleet.state",
    "gpufleet.sched.backfill",
    "gpufleet.sched.placement",
    "gpufleet.sched.preemption",
    "gpufleet.sched.providers",
    "gpufleet.sched.commitment",
    "gpufleet.sched.planned",
    "gpufleet.sched.policies",
    "gpufleet.sim.record",
    "gpufleet.sim.usage",
    "gpufleet.sim.state",
    "gpufleet.sim.lifecycle",
    "gpufleet.sim.failure_process",
    "gpufleet.sim.failures",
    "gpufleet.sim.autoscale",
    "gpufleet.sim.capacity",
    "gpufleet.sim.cycle",
    "gpufleet.sim.fragmentation",
    "gpufleet.sim.engine",
)
PURE_ENV = "GPUFLEET_PURE_PYTHON"
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def source(module: str) -> Path:
    return ROOT.parent / (module.replace(".", "/") + ".py")


def binary(module: str) -> Path:
    return ROOT.parent / (module.replace(".", "/") + SUFFIX)


def compiled_is_current() -> bool:
    """Every compiled module exists and is newer than its source."""
    for m in COMPILED:
        b = binary(m)
        if not b.exists() or b.stat().st_mtime < source(m).stat().st_mtime:
            return False
    return True


def is_compiled(module: ModuleType) -> bool:
    return str(getattr(module, "__file__", "")).endswith(SUFFIX)


class _PureFinder(importlib.abc.MetaPathFinder):
    """Loads the listed modules from their .py sources even where a compiled one sits beside them."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED:
            return None
        src = source(fullname)
        loader = importlib.machinery.SourceFileLoader(fullname, str(src))
        return importlib.util.spec_from_file_location(fullname, src, loader=loader)


def choose() -> None:
    """Called once from gpufleet/__init__.py: use pure Python when asked, or when a build is stale."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        sys.meta_path.insert(0, _PureFinder())
        return
    if not any(binary(m).exists() for m in COMPILED):
        return
    why = ""
    if not compiled_is_current():
        why = "the compiled engine is older than its sources"
    elif not _runtime_importable():
        why = "mypyc's runtime library of the compiled engine is not on the import path"
    if why:
        print(f"gpufleet: {why}; running pure Python (run `make install` to rebuild)", file=sys.stderr)
        sys.meta_path.insert(0, _PureFinder())


def _runtime_importable() -> bool:
    """The shared library the compiled modules import (src/<hash>__mypyc) can be found."""
    libs = sorted(ROOT.parent.glob(f"*__mypyc{SUFFIX}"))
    return bool(libs) and importlib.util.find_spec(libs[-1].name.split(".")[0]) is not None


def clean(build_dir: bool = False) -> None:
    """Remove the compiled modules (and mypyc's build folder, src/build, when asked)."""
    for m in COMPILED:
        binary(m).unlink(missing_ok=True)
    for p in ROOT.parent.glob(f"*__mypyc{SUFFIX}"):
        p.unlink()
    if build_dir:
        shutil.rmtree(ROOT.parent / "build", ignore_errors=True)


def build() -> int:
    """Compile COMPILED in place with mypyc; on failure remove partial output and warn (exit 0)."""
    clean()
    files = [str(source(m).relative_to(ROOT.parent)) for m in COMPILED]
    cmd = [sys.executable, "-m", "mypyc", *files]
    env = dict(os.environ, MYPYC_OPT_LEVEL=os.environ.get("MYPYC_OPT_LEVEL", "3"))
    out = subprocess.run(cmd, cwd=ROOT.parent, env=env, capture_output=True, text=True, check=False)
    if out.returncode == 0:
        for m in COMPILED:  # unchanged per-module shims are copied with their old times: stamp them now
            if binary(m).exists():
                os.utime(binary(m))
    if out.returncode != 0 or not compiled_is_current():
        clean()
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-15:])
        print(f"warning: compiling the engine with mypyc failed; gpufleet runs as pure Python.\n{tail}")
        return 0
    print(f"compiled {len(COMPILED)} engine modules with mypyc")
    return 0
