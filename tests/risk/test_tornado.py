"""The tornado's data: each stress's change per metric, the largest effect on top."""

from __future__ import annotations

from gpufleet.report.tornado import tornado_figure
from gpufleet.risk.metrics import METRICS
from gpufleet.risk.whatif import StressResult, tornado_rows


def _result(name: str, unused: float) -> StressResult:
    change = dict.fromkeys(METRICS, 0.0) | {"unused_commitment_usd": unused}
    return StressResult(name, (), change)


def test_rows_are_sorted_by_the_size_of_the_effect_either_way() -> None:
    rows = tornado_rows([_result("a", 1e9), _result("b", -5e9), _result("c", 2e9)], "unused_commitment_usd")
    assert rows == [("b", -5e9), ("c", 2e9), ("a", 1e9)]


def test_the_figure_draws_the_rows_largest_on_top_in_billions() -> None:
    rows = tornado_rows([_result("a", 1e9), _result("b", -5e9)], "unused_commitment_usd")
    fig = tornado_figure({"unused_commitment_usd": rows}, {})
    bar = fig.data[0]
    assert list(bar.y) == ["a", "b"]  # plotly's first bar is the bottom one: the largest goes last
    assert list(bar.x) == [1.0, -5.0]
