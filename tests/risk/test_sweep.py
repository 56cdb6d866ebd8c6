"""Sweeps: identical stored results on every worker count and backend, resume, failed samples kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import SCENARIOS

from gpufleet.risk import sweep as sweep_module
from gpufleet.risk.driver import Execution, execute, new_sweep, resumed_sweep
from gpufleet.risk.sampling import simulation_seed
from gpufleet.risk.sweep import plan_samples
from gpufleet.scenario import load_scenario
from gpufleet.store import open_store
from gpufleet.store.sweeps import load_samples, load_sweep

UNCERTAIN = SCENARIOS / "uncertain.yaml"
N = 6


def _failing_seed() -> int:
    """A seed whose first N samples draw the price that breaks the scenario once (and others that do not)."""
    loaded = load_scenario(UNCERTAIN)
    section = loaded.scenario.uncertainty
    assert section is not None
    for seed in range(100):
        prices = [s.inputs["aws-price"] for s in plan_samples(section, N, seed)]
        if prices.count(1.5) == 1:
            return seed
    raise AssertionError("no seed draws the failing price once")


SEED = _failing_seed()


def _sweep(store: Path, how: Execution, progress: Any = None) -> pd.DataFrame:
    loaded = load_scenario(UNCERTAIN)
    record = new_sweep(loaded, store, N, SEED, "full")
    execute(record, loaded, store, how, progress)
    with open_store(store, read_only=True) as s:
        return load_samples(s, record.sweep_id)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return _sweep(tmp_path_factory.mktemp("base") / "s.duckdb", Execution(workers=1))


def test_every_sample_is_stored_and_a_failed_one_keeps_its_error(baseline: pd.DataFrame) -> None:
    assert list(baseline["sample"]) == list(range(N))
    failed = baseline[baseline["error"].notna()]
    assert len(failed) == 1
    row = failed.iloc[0]
    assert row["inputs"]["aws-price"] == 1.5
    assert "InputError" in row["error"] and "ramp reaches" in row["error"]
    assert np.isnan(row["spend_usd"])
    ok = baseline[baseline["error"].isna()]
    assert (ok["spend_usd"] > 0).all() and ok["utilization_pct"].between(0, 100).all()


def test_seeds_come_from_spawned_children(baseline: pd.DataFrame) -> None:
    children = np.random.SeedSequence(SEED).spawn(N)
    assert list(baseline["seed"]) == [simulation_seed(c) for c in children]


def test_one_and_two_local_workers_store_identical_results(baseline: pd.DataFrame, tmp_path: Path) -> None:
    two = _sweep(tmp_path / "s.duckdb", Execution(workers=2, chunk_size=1))
    pd.testing.assert_frame_equal(two, baseline)


def test_ray_gives_the_results_of_the_local_pool(baseline: pd.DataFrame, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'gpufleet[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=128 * 1024**2, log_to_driver=False)
    try:
        on_ray = _sweep(tmp_path / "s.duckdb", Execution(backend="ray", workers=2, chunk_size=2))
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(on_ray, baseline)


def test_resume_finishes_an_interrupted_sweep_without_recomputing(
    baseline: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluated: list[int] = []
    full = sweep_module.FIDELITIES["full"]

    def counting(base: Any, loaded: Any, seed: int) -> Any:
        evaluated.append(seed)
        return full(base, loaded, seed)

    monkeypatch.setitem(sweep_module.FIDELITIES, "full", counting)
    store = tmp_path / "s.duckdb"

    def stop_after_two(fraction: float, label: str) -> None:
        if fraction >= 2 / N:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _sweep(store, Execution(workers=1, chunk_size=1), stop_after_two)
    with open_store(store, read_only=True) as s:
        record = load_sweep(s, "latest")
        assert record.status == "interrupted"
        assert len(load_samples(s, record.sweep_id)) == 2
    first = len(evaluated)
    record, loaded = resumed_sweep(store, record.sweep_id, None)  # from the stored scenario text
    execute(record, loaded, store, Execution(workers=1))
    # only the samples not stored yet ran again (a failing sample is refused before its simulation)
    rest = baseline[(baseline["sample"] >= 2) & baseline["error"].isna()]
    assert sorted(evaluated[first:]) == sorted(rest["seed"])
    with open_store(store, read_only=True) as s:
        assert load_sweep(s, record.sweep_id).status == "finished"
        pd.testing.assert_frame_equal(load_samples(s, record.sweep_id), baseline)
