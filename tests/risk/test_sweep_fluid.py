"""A fluid sweep: each sample's metrics are those of a fresh fluid model of its changed scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SCENARIOS

from gpufleet.risk.driver import Execution, execute, new_sweep
from gpufleet.risk.metrics import METRICS
from gpufleet.risk.sweep import input_paths
from gpufleet.scenario import load_scenario
from gpufleet.scenario.overrides import Editable, Override
from gpufleet.store import open_store
from gpufleet.store.sweeps import load_samples

fluid = pytest.importorskip("gpufleet.risk.fluid", reason="the fluid model (risk/fluid.py) is not in yet")


def test_fluid_samples_match_a_fresh_model_of_each_changed_scenario(tmp_path: Path) -> None:
    loaded = load_scenario(SCENARIOS / "uncertain.yaml")
    store = tmp_path / "s.duckdb"
    record = new_sweep(loaded, store, 8, 3, "fluid")
    execute(record, loaded, store, Execution(workers=1))
    with open_store(store, read_only=True) as s:
        samples = load_samples(s, record.sweep_id)
    ok = samples[samples["error"].isna()]
    assert len(ok) >= 6
    editable, paths = Editable.of(loaded), input_paths(loaded)
    for _, row in ok.iterrows():
        changed = editable.apply([Override(p.path, p.op, row["inputs"][p.name], p.where) for p in paths])
        expected = fluid.fluid_metrics(changed)  # a new model each time: nothing kept between samples
        for m in METRICS:
            assert row[m] == pytest.approx(expected[m], rel=1e-9, abs=1e-9), m
        assert sum(row["yearly"]["spend_usd"].values()) == pytest.approx(row["spend_usd"])
