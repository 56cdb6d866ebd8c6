"""Every broken scenario in tests/scenarios/broken: exit 2, its expected message, file:line, no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import SCENARIOS, run_cli

BROKEN = sorted((SCENARIOS / "broken").glob("*.yaml"))


def expected_message(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# expect: "):
            return line.removeprefix("# expect: ")
    raise AssertionError(f"{path} lacks an '# expect:' line")


def test_corpus_is_large_enough() -> None:
    assert len(BROKEN) >= 20


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_scenario_is_refused_with_its_message(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("validate", str(path), capsys=capsys)
    assert res.code == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert expected_message(path) in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if not re.fullmatch(r"\d+ problems found", ln)]
    assert lines
    located = re.compile(rf"^error: {re.escape(str(path))}:\d+: ")
    for line in lines:
        assert located.match(line), f"not located as file:line: {line!r}"


def test_all_problems_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (SCENARIOS / "small.yaml").read_text()
    text = text.replace("blocks: 4, domains_per_block: 8}", "blocks: four, domains_per_block: 8}")
    text = text.replace("providers: [aws, azure]", "providers: [aws, azure]\nfleet_size: 3")
    text = text.replace("step: 1d}", "step: daily}")
    bad = tmp_path / "three.yaml"
    bad.write_text(text)
    res = run_cli("validate", str(bad), capsys=capsys)
    assert res.code == 2
    assert "3 problems found" in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    numbers = [int(re.match(r"error: [^:]+:(\d+):", ln).group(1)) for ln in lines]  # type: ignore[union-attr]
    assert numbers == sorted(numbers), "problems are listed in file order"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"", "a scenario is a YAML mapping"),
    ],
)
def test_unreadable_files(
    tmp_path: Path, content: bytes | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.yaml"
    if content is not None:
        path.write_bytes(content)
    res = run_cli("validate", str(path), capsys=capsys)
    assert res.code == 2
    assert message in res.stderr and str(path) in res.stderr


def test_folder_instead_of_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli("validate", str(tmp_path), capsys=capsys)
    assert res.code == 2 and "is a folder" in res.stderr
