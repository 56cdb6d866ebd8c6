"""A scenario posted as JSON (escapes for characters beyond U+FFFF) reads as the same text as YAML;
a lone surrogate escape is bad input naming its line, never a crash (found by schemathesis on the API)."""

from __future__ import annotations

import json

import pytest
import yaml
from helpers import SMALL
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.scenario import load_scenario_text
from gpufleet.scenario.source import parse_yaml


@given(st.lists(st.text(st.characters(exclude_categories=["Cs", "Cc"])), max_size=4))
def test_json_text_parses_to_the_value_it_encodes(value: list[str]) -> None:
    """json.dumps (ASCII escapes, surrogate pairs included) read back by the scenario parser is `value`."""
    data, _ = parse_yaml(json.dumps({"v": value}), "<json>")
    assert data == {"v": value}


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ud83dx"])
def test_a_lone_surrogate_is_refused_at_its_line(escape: str) -> None:
    text = 'name: ok\nnotes:\n  team: "a' + escape + '"\n'
    with pytest.raises(InputError) as err:
        parse_yaml(text, "<body>")
    [problem] = err.value.problems
    assert problem.where == "<body>:3" and "lone surrogate" in problem.message


def test_a_json_scenario_with_an_emoji_region_loads_like_its_yaml() -> None:
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["sites"][0]["region"] = "campus \U0001f680"
    loaded = load_scenario_text(json.dumps(data, default=str), "<json>")  # dates as text
    assert loaded.scenario.sites[0].region == "campus \U0001f680"
