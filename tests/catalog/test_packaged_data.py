"""A malformed packaged data file fails once, at its loader, with an error naming the file and the field
(never a KeyError deep in a workload model); the CLI shows it without a traceback."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

import pytest
import yaml
from helpers import run_cli

import gpufleet.catalog.load as catalog_load
from gpufleet.catalog import (
    PackagedDataError,
    load_builtin_catalog,
    load_builtin_stream,
    load_inference_data,
    load_reliability_data,
    load_sources,
    load_training_data,
)
from gpufleet.workload import reliability, training

Breaker = Callable[[str, Callable[[Any], None]], None]
LOADERS = (load_inference_data, load_training_data, load_reliability_data, load_builtin_stream, load_sources)


def _clear() -> None:
    for f in (*LOADERS, load_builtin_catalog):
        f.cache_clear()  # type: ignore[attr-defined]


def _packaged(name: str) -> Any:
    return yaml.safe_load(resources.files("gpufleet.catalog").joinpath("data", name).read_text("utf-8"))


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> Iterator[Breaker]:
    """broken(name, edit): the packaged file `name` reads as `edit` leaves a copy of it."""
    real = catalog_load._read_data_file
    edits: dict[str, Callable[[Any], None]] = {}

    def read(name: str) -> Any:
        data = real(name)
        if name in edits:
            data = copy.deepcopy(data)
            edits[name](data)
        return data

    def break_file(name: str, edit: Callable[[Any], None]) -> None:
        edits[name] = edit
        _clear()

    monkeypatch.setattr(catalog_load, "_read_data_file", read)
    _clear()
    yield break_file
    _clear()


def _set(path: str, value: Any) -> Callable[[Any], None]:
    def edit(data: Any) -> None:
        *head, last = path.split(".")
        for k in head:
            data = data[int(k)] if isinstance(data, list) else data[k]
        key: int | str = int(last) if isinstance(data, list) else last
        if value is KeyError:
            del data[key]
        else:
            data[key] = value

    return edit


CASES = [
    # (file, dotted path, new value or KeyError to delete it, the field named, words of the message)
    ("training.yaml", "mfu.h100.bf16.points.0.mfu", 1.5, "mfu.h100.bf16.points.0.mfu", "less than 1"),
    ("training.yaml", "default_precision.default", KeyError, "default_precision", "needs a `default` entry"),
    ("training.yaml", "mfu.b300.like", "nowhere", "mfu: b300", "like 'nowhere', which is not in the table"),
    ("reliability.yaml", "restart.floor_s", KeyError, "restart.floor_s", "Field required"),
    ("reliability.yaml", "multipliers.h100.multiplier", "high", "multipliers.h100.multiplier", "number"),
    ("inference.yaml", "throughput.dense-70b.h100.system", None, "throughput.dense-70b.h100", "system"),
    ("inference.yaml", "throughput.dense-405b.b300.like", "gb999", "throughput: dense-405b.b300", "gb999"),
    ("synth_philly.yaml", "sources", [], "sources", "at least 1"),
    ("synth_philly.yaml", "hour_shares.3", -0.1, "hour_shares.3", "greater than or equal to 0"),
    ("training.yaml", "scale.sources", ["no_such_source"], "scale.sources", "not a key of sources.yaml"),
]


@pytest.mark.parametrize(("name", "path", "value", "field", "words"), CASES)
def test_a_malformed_packaged_file_names_the_file_and_the_field(
    broken: Breaker, name: str, path: str, value: Any, field: str, words: str
) -> None:
    assert _packaged(name) is not None  # the file exists as named
    broken(name, _set(path, value))
    load: Callable[[], Any] = {
        "training.yaml": load_training_data,
        "reliability.yaml": load_reliability_data,
        "inference.yaml": load_inference_data,
        "synth_philly.yaml": lambda: load_builtin_stream("philly"),
    }[name]
    with pytest.raises(PackagedDataError) as err:
        load()
    message = str(err.value)
    assert f"catalog/data/{name}: {field}" in message
    assert words in message


def test_the_workload_models_fail_with_the_same_error(
    broken: Breaker,
) -> None:
    broken("reliability.yaml", _set("restart.points", [{"gpus": 100, "seconds": 60}]))
    with pytest.raises(PackagedDataError, match=r"reliability\.yaml: restart\.points: .*at least 2"):
        reliability.restart_overhead_s(1024)
    broken("training.yaml", _set("checkpoint.write_bandwidth_bytes_s", 0))
    with pytest.raises(PackagedDataError, match=r"checkpoint\.write_bandwidth_bytes_s"):
        training.checkpoint_write_s(1e9)


def test_the_cli_shows_it_without_a_traceback(broken: Breaker, capsys: pytest.CaptureFixture[str]) -> None:
    broken("training.yaml", _set("scale.per_doubling", 2.0))
    res = run_cli(
        "estimate", "training", "--params", "70e9", "--tokens", "2e12", "--gpus", "1024",
        "--accelerator", "h100", capsys=capsys,
    )  # fmt: skip
    assert res.code == 1
    assert "catalog/data/training.yaml: scale.per_doubling: Input should be less than or equal to 1" in (
        res.stderr
    )
    assert "Traceback" not in res.stderr + res.stdout


def test_the_shipped_files_load() -> None:
    _clear()
    assert load_training_data().mfu["h100"].curve("bf16") is not None
    assert load_reliability_data().calibration.accelerator == "h100"
    assert "frontier-moe" in load_inference_data().throughput
    assert load_builtin_stream("philly").jobs == 82247
