"""A contract's provenance: each figure a public fact (with its source) or an assumption, as data that
round-trips, is checked with file:line, and is read by `scenario show` and the report's contracts table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import SMALL, run_cli

from gpufleet.report.context import contract_table
from gpufleet.scenario import load_builtin_scenario, load_scenario_file
from gpufleet.scenario.schema import Scenario

MARKS = """    provenance:
      price_per_gpu_hour_usd: {kind: assumption, note: negotiated}
      commitment.total_usd: {kind: fact, source: ec2_cb_pricing, note: the deal amount}
      ramp: {kind: assumption}
"""


def _with_marks(tmp_path: Path, marks: str = MARKS) -> Path:
    """small.yaml with `marks` added to its first contract (aws-main), after its ramp."""
    text = SMALL.read_text()
    anchor = "        - {date: 2026-02-01, share: 1.0}\n"
    assert text.count(anchor) == 1
    path = tmp_path / "marked.yaml"
    path.write_text(text.replace(anchor, anchor + marks))
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_provenance_round_trips(tmp_path: Path) -> None:
    path = _with_marks(tmp_path)
    loaded = load_scenario_file(path)
    marks = loaded.scenario.contracts[0].provenance
    assert list(marks) == ["price_per_gpu_hour_usd", "commitment.total_usd", "ramp"]
    assert marks["commitment.total_usd"].kind == "fact"
    assert marks["commitment.total_usd"].source == "ec2_cb_pricing"
    assert marks["ramp"].kind == "assumption" and marks["ramp"].source is None
    # dumped and read back: the same scenario, provenance and all
    again = Scenario.model_validate(yaml.safe_load(yaml.safe_dump(loaded.scenario.model_dump(mode="json"))))
    assert again == loaded.scenario
    # provenance is about the figures, like a comment: the run's content hash does not change
    assert loaded.content_hash == load_scenario_file(SMALL).content_hash


@pytest.mark.parametrize(
    ("marks", "needle", "message"),
    [
        (
            "    provenance:\n      price_per_gpu_hour: {kind: assumption}\n",
            "price_per_gpu_hour:",
            "'price_per_gpu_hour' is not a field of a contract",
        ),
        (
            "    provenance:\n      commitment.total: {kind: assumption}\n",
            "commitment.total:",
            "'commitment.total' is not a field of commitment",
        ),
        (
            "    provenance:\n      term: {kind: fact}\n",
            "term: {kind: fact}",
            "a fact needs its source",
        ),
        (
            "    provenance:\n      term: {kind: rumour, source: x}\n",
            "rumour",
            "'fact' or 'assumption'",
        ),
    ],
)
def test_bad_provenance_is_exit_2_with_file_and_line(
    tmp_path: Path, marks: str, needle: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _with_marks(tmp_path, marks)
    res = run_cli("validate", str(path), capsys=capsys)
    assert res.code == 2
    assert f"{path}:{_line_of(path, needle)}" in res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_scenario_show_marks_each_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _with_marks(tmp_path)
    res = run_cli("scenario", "show", str(path), "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    figures = {(f["contract"], f["figure"]): f for f in json.loads(res.stdout)["figures"]}
    assert set(figures) == {("aws-main", "price_per_gpu_hour_usd"), ("aws-main", "commitment.total_usd"),
                            ("aws-main", "ramp")}  # fmt: skip
    assert figures[("aws-main", "price_per_gpu_hour_usd")]["value"] == "3"
    assert figures[("aws-main", "commitment.total_usd")]["value"] == "100,000,000"
    # a catalog source key is shown with the catalog's text for it
    assert figures[("aws-main", "commitment.total_usd")]["source"].startswith("ec2_cb_pricing: https://")
    res = run_cli("scenario", "show", str(path), capsys=capsys)
    assert "#   aws-main price_per_gpu_hour_usd = 3: ASSUMPTION (negotiated)" in res.stdout


def test_report_contracts_table_reads_the_marks(tmp_path: Path) -> None:
    loaded = load_scenario_file(_with_marks(tmp_path))
    table = contract_table(loaded.scenario, loaded.catalog).set_index("contract")
    text = table.loc["aws-main", "provenance"]
    assert "price_per_gpu_hour_usd: assumption (negotiated)" in text
    assert "commitment.total_usd: fact (ec2_cb_pricing: https://" in text
    assert table.loc["aws-blocks", "provenance"] == "not marked"


def test_default_scenario_marks_every_contracts_deal_figures() -> None:
    """The default's contracts carry their marks as data (from the comments that stated them)."""
    s = load_builtin_scenario().scenario
    for c in s.contracts:
        assert c.provenance, c.name
        assert all(p.kind == "assumption" or p.source for p in c.provenance.values()), c.name
        if c.kind == "committed":
            marked = {"price_per_gpu_hour_usd", "term", "billing", "ramp"}
            assert marked | ({"commitment.total_usd"} if c.commitment else set()) <= set(c.provenance), c.name
    facts = {(c.name, f) for c in s.contracts for f, p in c.provenance.items() if p.kind == "fact"}
    # the public deal amounts the comments mark FACT
    assert {("oci-stargate", "commitment.total_usd"), ("coreweave", "commitment.total_usd")} <= facts
