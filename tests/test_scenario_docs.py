"""docs/scenario.md documents every field of the scenario, and its reference matches the schema."""

from __future__ import annotations

from pathlib import Path

from gpufleet.scenario.reference import all_models, field_meaning, reference_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "scenario.md"


def test_every_field_has_a_meaning() -> None:
    missing = [
        f"{m.__name__}.{name}" for m in all_models() for name in m.model_fields if not field_meaning(m, name)
    ]
    assert not missing, f"fields without a description: {missing}"


def test_docs_reference_is_current() -> None:
    text = DOC.read_text()
    assert reference_markdown() in text, "regenerate: gpufleet schema --markdown (see docs/scenario.md)"


def test_docs_example_is_the_tested_small_scenario() -> None:
    small = (Path(__file__).parent / "scenarios" / "small.yaml").read_text()
    assert small in DOC.read_text()
