"""`validate` lists schema errors and cross-check errors at once where the schema leaves enough to check."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SMALL, run_cli

BAD_BLOCKS = (
    "  - {name: aws-pool, site: aws-east, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 4}",
    "  - {name: aws-pool, site: aws-east, product: aws/u-p6e-gb200x72, blocks: 0, domains_per_block: 4}",
)
BAD_SITE = (
    "  - {name: azure-gb300, site: azure-central,",
    "  - {name: azure-gb300, site: azure-centrl,",
)


def _write(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = SMALL.read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "two-kinds.yaml"
    path.write_text(text)
    return path


def _line(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_schema_and_cross_check_problems_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, BAD_BLOCKS, BAD_SITE)
    res = run_cli("validate", str(path), capsys=capsys)
    assert res.code == 2
    errors = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2, res.stderr
    # the schema's: the refused cluster, at its line; the cross-check's: the unknown site, at its line
    assert f"{path}:{_line(path, 'blocks: 0')}" in errors[0] and "blocks" in errors[0]
    assert f"{path}:{_line(path, 'azure-centrl')}" in errors[1] and "unknown site 'azure-centrl'" in errors[1]
    assert "clusters[2]" in errors[1]  # the original index, not the one in the shortened list
    # the contract naming the refused cluster is not also told that the cluster is unknown
    assert "aws-pool" not in res.stderr.split("\n", 1)[1]


def test_an_error_outside_the_lists_leaves_the_schema_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, BAD_SITE, ("horizon: {start: 2026-01-01,", "horizon: {start: 2026-13-01,"))
    res = run_cli("validate", str(path), capsys=capsys)
    assert res.code == 2
    assert "horizon" in res.stderr and "azure-centrl" not in res.stderr
