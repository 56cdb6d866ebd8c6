"""The workload data files: every figure's source keys exist in sources.yaml; confidences are known."""

from __future__ import annotations

from typing import Any

import pytest

from gpufleet.catalog import read_data_file

FILES = ["training.yaml", "reliability.yaml", "inference.yaml", "synth_philly.yaml"]
CONFIDENCES = {"primary", "secondary", "estimate", "assumption"}


def _walk(node: Any, path: str = "") -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((path, str(k), v))
            out.extend(_walk(v, f"{path}.{k}"))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_walk(v, f"{path}[{i}]"))
    return out


@pytest.mark.parametrize("name", FILES)
def test_sources_and_confidence(name: str) -> None:
    known = set(read_data_file("sources.yaml"))
    seen = 0
    for where, key, value in _walk(read_data_file(name)):
        if key == "sources" or key.endswith("_sources"):
            assert isinstance(value, list) and value, f"{name}{where}: empty {key}"
            missing = [s for s in value if s not in known]
            assert not missing, f"{name}{where}: unknown source keys {missing}"
            seen += 1
        if key == "confidence" or key.endswith("_confidence"):
            assert value in CONFIDENCES, f"{name}{where}: confidence {value!r}"
    assert seen > 0


def test_every_throughput_entry_names_a_figure_or_a_basis() -> None:
    table = read_data_file("inference.yaml")["throughput"]
    for model_class, by_acc in table.items():
        for acc, entry in by_acc.items():
            if "like" in entry:
                assert entry["like"] in by_acc, f"{model_class}/{acc} is like an unknown entry"
                assert entry["basis"], f"{model_class}/{acc} needs a basis"
            else:
                assert entry["tokens_per_s_per_gpu"] > 0 and entry["system"]


def test_every_training_default_carries_a_source_and_a_confidence() -> None:
    data = read_data_file("training.yaml")
    known = set(read_data_file("sources.yaml"))
    entries: list[tuple[str, Any]] = []
    entries += [(f"default_precision.{k}", v) for k, v in data["default_precision"].items()]
    entries += [(f"precision_speedup.{k}", v) for k, v in data["precision_speedup"].items()]
    for acc, entry in data["mfu"].items():
        if "like" in entry:
            assert entry["like"] in data["mfu"], f"mfu.{acc} is like an unknown entry"
            entries.append((f"mfu.{acc}", entry))
        else:
            entries += [(f"mfu.{acc}.{prec}", curve) for prec, curve in entry.items()]
            for curve in entry.values():
                assert all(0 < p["mfu"] < 1 and p["gpus"] > 0 for p in curve["points"])
    entries += [(f"moe_references[{i}]", e) for i, e in enumerate(data["moe_references"])]
    for where, entry in entries:
        assert entry["sources"] and set(entry["sources"]) <= known, where
        assert entry["confidence"] in CONFIDENCES, where
        # an assumption says so, a fact names more than our own assumption
        if entry["confidence"] != "assumption":
            assert set(entry["sources"]) - {"gpufleet_assumption"}, where


def test_llama3_mfu_points_equal_the_shared_facts() -> None:
    import yaml
    from helpers import shared_data

    facts = yaml.safe_load(shared_data("facts/catalog-reference.yaml").read_text())
    measured = {
        int(r["run"].split()[3]): r["bf16_mfu"]
        for r in facts["training_mfu"]
        if r["run"].startswith("Llama 3 405B") and "seq 8K" in r["run"]
    }
    points = read_data_file("training.yaml")["mfu"]["h100"]["bf16"]["points"]
    assert {p["gpus"]: p["mfu"] for p in points} == measured == {8192: 0.43, 16384: 0.41}
