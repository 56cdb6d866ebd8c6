"""The engine on real inputs: the default scenario (its first 14 months, full fleet) and a Philly replay."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from helpers import SHARED_DATA

from gpufleet.assemble import prepare, simulate
from gpufleet.scenario import load_scenario
from gpufleet.sim.engine import Engine
from gpufleet.sim.spec import JobSpec, PolicySpec, SimInput, TeamSpec, WorkloadSpec
from gpufleet.tables import SCHEMAS, check_table
from sim.test_invariants import check_run

DATA = SHARED_DATA  # ../shared/data beside the repository


def _default_short():  # type: ignore[no-untyped-def]
    loaded = load_scenario(None)
    sc = loaded.scenario.model_copy(deep=True)
    sc.horizon.end = dt.date(2026, 12, 31)  # the whole fleet as contracted, a shorter window
    return sc, loaded.catalog


def test_default_scenario_invariants() -> None:
    sc, catalog = _default_short()
    inp, _, _, rng = prepare(sc, catalog, sc.seed, {})
    eng = Engine(inp, rng)
    res = eng.run()
    check_run(inp, eng, res)
    assert res.failures > 100  # job-level failure processes ran
    assert res.inf_replicas.sum() > 0


def test_simulate_tables_follow_the_schemas_and_repeat_per_seed() -> None:
    sc, catalog = _default_short()
    sc.horizon.end = dt.date(2026, 3, 31)
    seen: list[float] = []
    a = simulate(sc, catalog, 11, {}, lambda f, label: seen.append(f))
    b = simulate(sc, catalog, 11, {})
    for (name, x), (_, y) in zip(a.items(), b.items(), strict=True):
        assert list(x.columns) == list(SCHEMAS[name])
        check_table(name, x)
        assert x.equals(y), name
    assert seen and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)
    assert len(a.jobs) > 0 and len(a.series) > 0 and len(a.usage) > 0 and len(a.inference) > 0
    assert set(a.jobs.state) <= {"finished", "failed", "queued", "running"}
    c = simulate(sc, catalog, 12, {})
    assert not c.jobs.equals(a.jobs)  # another seed, other draws


def test_philly_replay_invariants_with_failures() -> None:
    path = DATA / "traces" / "philly" / "philly.csv"
    if not path.exists():
        pytest.skip(f"Philly trace not found at {path}")
    from gpufleet.workload.readers import read_trace
    from sim.support import cluster, fleet

    batch = read_trace(path, "philly", workload="philly").take(np.arange(20000))
    days = int((batch.submit_s.max() + batch.duration_s.max()) // 86400) + 2
    f = fleet([cluster("philly", 4, 4, 10, 25, rate=2e-4)], days=days)  # 1,000 GPUs: it queues
    jobs = JobSpec.replay(batch, WorkloadSpec("philly", None, (0,), 30.0, None, None))
    inp = SimInput(f, jobs, (TeamSpec("t", None, True),), (), PolicySpec(queue="priority"), days * 86400.0)
    eng = Engine(inp, np.random.default_rng(5))
    res = eng.run()
    check_run(inp, eng, res)
    assert res.failures > 0 and (res.wait_s > 0).sum() > 100


def test_same_seed_same_tables_across_processes_and_hash_seeds() -> None:
    """Reproducible per seed whatever the interpreter's string-hash seed (no set-order leaks)."""
    import os
    import subprocess
    import sys

    code = (
        "import datetime as dt, hashlib\n"
        "from gpufleet.scenario import load_scenario\n"
        "from gpufleet.assemble import simulate\n"
        "l = load_scenario(None); sc = l.scenario.model_copy(deep=True)\n"
        "sc.horizon.end = dt.date(2026, 1, 31)\n"
        "h = hashlib.sha256()\n"
        "for _, df in simulate(sc, l.catalog, 5, {}).items(): h.update(df.to_csv().encode())\n"
        "print(h.hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1
