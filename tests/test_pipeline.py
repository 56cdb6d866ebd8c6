"""The pipeline reads every file a run needs, relative to the scenario: traces and stream parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SMALL, run_cli

from gpufleet.errors import InputError
from gpufleet.scenario import load_scenario
from gpufleet.workload.readers.params_file import save_params
from gpufleet.workload.synthetic import builtin_params

SYNTHETIC = "      synthetic: {source: philly, jobs_per_day: 200, size_scale: 8}"


def _scenario_with_params_file(root: Path) -> Path:
    """s/scenario.yaml whose research stream draws from s/params.yaml (a copy of the shipped fit)."""
    folder = root / "s"
    folder.mkdir()
    p = builtin_params("philly")
    save_params(p, folder / "params.yaml")
    text = SMALL.read_text().replace("end: 2026-03-31", "end: 2026-01-20")
    assert SYNTHETIC in text
    text = text.replace(SYNTHETIC, "      synthetic: {source: params.yaml, jobs_per_day: 200, size_scale: 8}")
    (folder / "scenario.yaml").write_text(text)
    return folder / "scenario.yaml"


def test_a_parameters_file_beside_the_scenario_is_found_from_another_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _scenario_with_params_file(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    res = run_cli("validate", "../s/scenario.yaml", capsys=capsys)
    assert res.code == 0, res.stderr
    store = str(tmp_path / "runs.duckdb")
    res = run_cli("simulate", "../s/scenario.yaml", "--store", store, "--no-report", "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["run"]["run_id"]


def test_the_same_stream_from_the_file_and_from_the_built_in_draws_the_same_jobs(tmp_path: Path) -> None:
    from gpufleet.pipeline import read_stream_params, run_scenario

    path = _scenario_with_params_file(tmp_path)
    loaded = load_scenario(path)
    params = read_stream_params(loaded)
    assert set(params) == {"research-jobs"}
    from_file = run_scenario(loaded).tables.jobs
    builtin = load_scenario(path)
    for w in builtin.scenario.workloads:
        if w.stream is not None and w.stream.synthetic is not None:
            w.stream.synthetic.source = "philly"
    assert from_file.equals(run_scenario(builtin).tables.jobs)


def test_simulating_without_the_edge_names_the_unread_file(tmp_path: Path) -> None:
    from gpufleet.assemble import simulate

    loaded = load_scenario(_scenario_with_params_file(tmp_path))
    with pytest.raises(InputError, match=r"params\.yaml"):
        simulate(loaded.scenario, loaded.catalog, 1, {})
