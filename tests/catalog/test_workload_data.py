"""The packaged workload data, typed: every figure's source keys exist in sources.yaml, `like` entries
name a figure or a basis, facts name more than our own assumption."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from gpufleet.catalog import (
    load_builtin_stream,
    load_inference_data,
    load_reliability_data,
    load_sources,
    load_training_data,
)


def _source_lists(node: Any, path: str = "") -> Iterator[tuple[str, str, list[str]]]:
    """(where, key, value) of every `sources` or `*_sources` list in a dumped model."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "sources" or str(k).endswith("_sources"):
                yield path, str(k), v
            else:
                yield from _source_lists(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _source_lists(v, f"{path}[{i}]")


def test_every_source_key_of_the_workload_data_is_in_sources_yaml() -> None:
    known = set(load_sources())
    data: list[BaseModel] = [
        load_inference_data(),
        load_training_data(),
        load_reliability_data(),
        load_builtin_stream("philly"),
    ]
    seen = 0
    for d in data:
        for where, key, value in _source_lists(d.model_dump()):
            missing = [s for s in value if s not in known]
            assert not missing, f"{type(d).__name__}{where}: unknown source keys in {key}: {missing}"
            seen += len(value)
    assert seen > 50


def test_every_throughput_entry_names_a_figure_or_a_basis() -> None:
    for model_class, by_acc in load_inference_data().throughput.items():
        for acc, entry in by_acc.items():
            assert entry.sources, f"{model_class}/{acc}"
            if entry.like is not None:
                assert entry.like in by_acc, f"{model_class}/{acc} is like an unknown entry"
                assert entry.basis, f"{model_class}/{acc} needs a basis"
            else:
                assert entry.tokens_per_s_per_gpu and entry.tokens_per_s_per_gpu > 0 and entry.system


def test_every_training_default_carries_a_source_and_a_confidence() -> None:
    data = load_training_data()
    entries: list[tuple[str, list[str], str | None]] = []
    for k, v in data.default_precision.items():
        entries.append((f"default_precision.{k}", v.sources, v.confidence))
    for prec in ("bf16", "fp8", "fp4"):
        s = getattr(data.precision_speedup, prec)
        entries.append((f"precision_speedup.{prec}", s.sources, s.confidence))
    for acc, entry in data.mfu.items():
        if entry.like is not None:
            assert entry.like in data.mfu, f"mfu.{acc} is like an unknown entry"
            entries.append((f"mfu.{acc}", entry.sources, entry.confidence))
        else:
            for prec in ("bf16", "fp8", "fp4"):
                curve = entry.curve(prec)
                if curve is not None:
                    entries.append((f"mfu.{acc}.{prec}", curve.sources, curve.confidence))
                    assert all(0 < p.mfu < 1 and p.gpus > 0 for p in curve.points)
    entries += [(f"moe_references[{i}]", e.sources, e.confidence) for i, e in enumerate(data.moe_references)]
    for where, sources, confidence in entries:
        assert sources and confidence is not None, where
        # an assumption says so, a fact names more than our own assumption
        if confidence != "assumption":
            assert set(sources) - {"gpufleet_assumption"}, where


def test_llama3_mfu_points_equal_the_shared_facts() -> None:
    import yaml
    from helpers import shared_data

    facts = yaml.safe_load(shared_data("facts/catalog-reference.yaml").read_text())
    measured = {
        int(r["run"].split()[3]): r["bf16_mfu"]
        for r in facts["training_mfu"]
        if r["run"].startswith("Llama 3 405B") and "seq 8K" in r["run"]
    }
    curve = load_training_data().mfu["h100"].curve("bf16")
    assert curve is not None
    assert {p.gpus: p.mfu for p in curve.points} == measured == {8192: 0.43, 16384: 0.41}
