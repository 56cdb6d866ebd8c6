"""Scenario schema: round-trips, the default scenario, derived ramps, and random valid/broken scenarios."""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import SMALL, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from gpufleet.catalog import load_builtin_catalog
from gpufleet.errors import InputError
from gpufleet.fleet.capacity import build_capacity
from gpufleet.scenario import (
    builtin_scenario_text,
    load_builtin_scenario,
    load_scenario_file,
    load_scenario_text,
)
from gpufleet.scenario.schema import Scenario

# ------------------------------------------------------------------------------------------ round trips


def test_model_round_trip_is_identity() -> None:
    loaded = load_scenario_file(SMALL)
    dumped = loaded.scenario.model_dump(mode="json")
    again = Scenario.model_validate(dumped)
    assert again == loaded.scenario


def test_yaml_round_trip_keeps_content_hash() -> None:
    loaded = load_scenario_file(SMALL)
    text = yaml.safe_dump(loaded.scenario.model_dump(mode="json"), sort_keys=False)
    again = load_scenario_text(text, "roundtrip.yaml")
    assert again.scenario == loaded.scenario
    assert again.content_hash == loaded.content_hash


def test_content_hash_ignores_comments_but_not_values() -> None:
    text = SMALL.read_text()
    a = load_scenario_text(text, "a.yaml").content_hash
    b = load_scenario_text("# a comment\n" + text, "b.yaml").content_hash
    c = load_scenario_text(text.replace("seed: 7", "seed: 8"), "c.yaml").content_hash
    assert a == b != c


def test_json_schema_covers_every_top_level_field(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    res = run_cli("schema", capsys=capsys)
    assert res.code == 0
    doc = json.loads(res.stdout)
    assert set(doc["properties"]) == set(Scenario.model_fields)
    assert set(doc["required"]) == {"name", "horizon", "providers", "sites", "clusters", "contracts"}
    assert doc["additionalProperties"] is False


# ------------------------------------------------------------------------------------- default scenario


def test_default_scenario_validates_and_is_full_size() -> None:
    loaded = load_builtin_scenario()
    s = loaded.scenario
    assert {"aws", "azure", "oci", "coreweave"} <= set(s.providers)
    tl = build_capacity(s, loaded.catalog)
    peak = int(tl.gpus.sum(axis=0).max())
    assert peak > 3_000_000  # full size: millions of GPUs, never shrunk


def test_default_fleet_follows_deal_amounts_and_prices() -> None:
    """Each derived contract's full size = amount / (ramp-weighted hours x price x GPUs per domain), where
    ramp-weighted hours = the sum, day by day over the term, of the share online that day x 24 h
    (computed here day by day, not by the code's step sums)."""
    raw = yaml.safe_load(builtin_scenario_text())
    loaded = load_builtin_scenario()
    cat = load_builtin_catalog()
    clusters = {c["name"]: c for c in raw["clusters"]}
    tl = build_capacity(loaded.scenario, loaded.catalog)
    for c in raw["contracts"]:
        if not isinstance(c.get("ramp"), dict):
            continue
        start, end = c["term"]["start"], c["term"]["end"]
        shares = sorted((st["date"], st["share"]) for st in c["ramp"]["schedule"])
        hours = 0.0
        day_ = start
        while day_ <= end:
            hours += 24 * max((sh for d, sh in shares if d <= day_), default=0.0)
            day_ += dt.timedelta(days=1)
        gpd = cat.products[clusters[c["clusters"][0]]["product"]].gpus_per_domain
        amount, price = float(c["commitment"]["total_usd"]), float(c["price_per_gpu_hour_usd"])
        full = math.floor(amount / (hours * price * gpd))
        last_share = c["ramp"]["schedule"][-1]["share"]
        day = tl.day_index(c["ramp"]["schedule"][-1]["date"])
        idx = [tl.clusters.index(n) for n in c["clusters"]]
        assert int(tl.domains[idx, day].sum()) == round(full * last_share), c["name"]
    # the AWS deal: $38B over 7 years, "hundreds of thousands" of GPUs (public fact)
    aws = sum(int(tl.gpus[i].max()) for i, p in enumerate(tl.providers) if p == "aws")
    assert 150_000 < aws < 400_000


def test_default_scenario_marks_facts_and_assumptions() -> None:
    text = builtin_scenario_text()
    assert text.count("FACT") >= 8 and text.count("ASSUMPTION") >= 10


# --------------------------------------------------------------------------- random valid scenarios

PRODUCTS = ["aws/u-p6e-gb200x72", "aws/p5", "aws/p6-b200"]


@st.composite
def valid_scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], list[int]]:
    start = draw(st.dates(dt.date(2025, 1, 1), dt.date(2030, 1, 1)))
    days = draw(st.integers(1, 400))
    end = start + dt.timedelta(days=days - 1)
    n = draw(st.integers(1, 4))
    clusters, contracts, sizes = [], [], []
    for i in range(n):
        product = draw(st.sampled_from(PRODUCTS))
        blocks, per_block = draw(st.integers(1, 6)), draw(st.integers(1, 16))
        clusters.append(
            {
                "name": f"c{i}",
                "site": "s0",
                "product": product,
                "blocks": blocks,
                "domains_per_block": per_block,
            }
        )
        online = draw(st.integers(0, blocks * per_block))
        sizes.append(online)
        contracts.append(
            {
                "name": f"k{i}",
                "provider": "aws",
                "clusters": [f"c{i}"],
                "term": {"start": start.isoformat(), "end": end.isoformat()},
                "price_per_gpu_hour_usd": draw(st.floats(0.5, 20)),
                "ramp": [{"date": start.isoformat(), "domains": online}],
            }
        )
    data = {
        "name": "random",
        "horizon": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "step": draw(st.sampled_from(["1h", "6h", "1d", "1w"])),
        },
        "seed": draw(st.integers(0, 2**31)),
        "providers": ["aws"],
        "sites": [{"name": "s0", "provider": "aws", "region": "us-east-1", "power_mw": 1e6}],
        "clusters": clusters,
        "contracts": contracts,
    }
    return data, sizes


@settings(max_examples=40, deadline=None)
@given(valid_scenarios())
def test_random_valid_scenarios_load(case: tuple[dict[str, Any], list[int]]) -> None:
    data, online = case
    loaded = load_scenario_text(yaml.safe_dump(data), "random.yaml")
    tl = build_capacity(loaded.scenario, loaded.catalog)
    assert [int(tl.domains[i, 0]) for i in range(len(online))] == online


# ------------------------------------------------------------- random breaking mutations of the default


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = [(path, node)]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _required_keys(path: tuple[Any, ...]) -> set[str]:
    from gpufleet.scenario.load import _unwrap  # the same walker the did-you-mean hints use

    current: list[Any] = [Scenario]
    for part in path:
        nxt: list[Any] = []
        for tp in current:
            if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
                if part in tp.model_fields:
                    nxt += _unwrap(tp.model_fields[part].annotation)
            elif getattr(tp, "__origin__", None) is list and isinstance(part, int):
                nxt += _unwrap(tp.__args__[0])
            elif getattr(tp, "__origin__", None) is dict and isinstance(part, str):
                nxt += _unwrap(tp.__args__[1])
        current = nxt
    models = [tp for tp in current if isinstance(tp, type) and issubclass(tp, BaseModel)]
    return (
        {f for m in models[:1] for f, info in m.model_fields.items() if info.is_required()}
        if models
        else set()
    )


DEFAULT = yaml.safe_load(builtin_scenario_text())
ALL_PATHS = _paths(DEFAULT)
REFS = [
    p
    for p, v in ALL_PATHS
    if p and p[-1] in ("site", "team", "product", "accelerator") and isinstance(v, str)
]
REFS += [
    p
    for p, v in ALL_PATHS
    if len(p) >= 2 and p[-2] == "clusters" and isinstance(p[-1], int) and p[0] == "contracts"
]
POSITIVE = [
    p
    for p, v in ALL_PATHS
    if p
    and isinstance(v, int | float)
    and not isinstance(v, bool)
    and v > 0
    and str(p[-1]).endswith(
        ("_usd", "_mw", "gpus", "blocks", "params", "tokens", "users", "domains_per_block")
    )
]
DATES = [p for p, v in ALL_PATHS if isinstance(v, dt.date)]
MAPPINGS = [p for p, v in ALL_PATHS if isinstance(v, dict)]
LEAVES = [p for p, v in ALL_PATHS if p and isinstance(v, str | int | float) and not isinstance(v, bool)]


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


REQUIRED = [(*p, k) for p in MAPPINGS for k in sorted(_required_keys(p)) if k in _get(DEFAULT, p)]


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    data = copy.deepcopy(DEFAULT)
    kind = draw(st.sampled_from(["delete", "type", "negative", "date", "unknown", "dangling"]))
    if kind == "delete":
        path = draw(st.sampled_from(REQUIRED))
        del _get(data, path[:-1])[path[-1]]
    elif kind == "type":
        _set(data, draw(st.sampled_from(LEAVES)), {"not": "a scalar"})
    elif kind == "negative":
        path = draw(st.sampled_from(POSITIVE))
        _set(data, path, -abs(_get(data, path)))
    elif kind == "date":
        _set(
            data, draw(st.sampled_from(DATES)), draw(st.sampled_from(["2026-02-30", "2027-13-01", "someday"]))
        )
    elif kind == "unknown":
        path = draw(st.sampled_from(MAPPINGS))
        _get(data, path)["bogus_key_x"] = 1
    else:
        _set(data, draw(st.sampled_from(REFS)), "nonexistent-x")
    return kind, data


def test_mutation_pools_are_not_empty() -> None:
    for pool in (REQUIRED, LEAVES, POSITIVE, DATES, MAPPINGS, REFS):
        assert len(pool) >= 5


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutations())
def test_random_breaking_mutations_exit_2_with_file_line(
    case: tuple[str, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kind, data = case
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
    res = run_cli("validate", str(path), capsys=capsys)
    assert res.code == 2, f"{kind}: {res.stdout} {res.stderr}"
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert errors
    for line in errors:
        assert re.match(rf"^error: {re.escape(str(path))}:\d+: ", line), line


def test_input_error_lists_every_problem() -> None:
    text = SMALL.read_text().replace("team: frontier\n", "team: nobody\n").replace("gpus: 576", "gpus: -1")
    with pytest.raises(InputError) as info:
        load_scenario_text(text, "x.yaml")
    assert len(info.value.problems) >= 1
    assert any("greater than 0" in p.message for p in info.value.problems)
