"""Public anchors (catalog/data/anchors.yaml): sourced, and the default scenario's inputs follow them."""

from __future__ import annotations

import pytest

from gpufleet.catalog import load_anchors, load_sources
from gpufleet.scenario import load_builtin_scenario

ANCHORS = {a.key: a.model_dump() for a in load_anchors()}


def test_every_anchor_names_known_sources_and_a_use() -> None:
    sources = load_sources()
    for key, a in ANCHORS.items():
        assert a["use"] in ("input", "check"), key
        assert a["sources"] and all(s in sources for s in a["sources"]), key
        assert a["value"] > 0 and a["note"], key


def test_the_default_base_case_passes_through_the_revenue_anchors() -> None:
    s = load_builtin_scenario().scenario
    base = s.finance.revenue_scenarios[s.finance.default_case or ""]
    for year in (2025, 2026, 2028, 2030):
        assert base.usd_in_year(year, s.horizon.start.year) == pytest.approx(
            ANCHORS[f"revenue_{year}_usd"]["value"]
        )
    for name in ("bear", "bull"):  # every case starts from the 2025 anchor
        case = s.finance.revenue_scenarios[name]
        assert case.usd_in_year(2025, 2025) == pytest.approx(ANCHORS["revenue_2025_usd"]["value"])


def test_the_default_inference_starts_from_the_user_and_api_anchors() -> None:
    s = load_builtin_scenario().scenario
    demand = {w.inference.name: w.inference.demand for w in s.workloads if w.inference is not None}
    assert demand["chat"].weekly_users == ANCHORS["weekly_users_2025_10"]["value"]
    api = demand["api"]
    assert api.weekly_users is not None and api.tokens_per_user_per_day is not None
    per_minute = api.weekly_users * api.tokens_per_user_per_day / 1440
    assert per_minute == pytest.approx(ANCHORS["api_tokens_per_minute_2025_10"]["value"])
