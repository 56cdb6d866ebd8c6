"""The tornado chart takes any labelled low/high effects; the widest swing is drawn on top."""

from __future__ import annotations

from gpufleet.report.risk_charts import fan, tornado


def test_tornado_orders_by_swing_and_keeps_each_bar_from_the_base() -> None:
    fig = tornado(["a", "b", "c"], [-1.0, -5.0, 0.0], [2.0, 1.0, 0.5], base=0.0)
    low, high = fig.data
    # plotly draws the first category at the bottom: the widest swing (b: 6) comes last, on top
    assert list(low.y) == ["c", "a", "b"] and list(high.y) == ["c", "a", "b"]
    assert list(low.x) == [0.0, -1.0, -5.0] and list(high.x) == [0.5, 2.0, 1.0]
    shifted = tornado(["a"], [90.0], [130.0], base=100.0)
    assert list(shifted.data[0].x) == [-10.0] and shifted.data[0].base == 100.0


def test_fan_shades_p10_to_p90_around_the_median() -> None:
    fig = fan(["2026", "2027"], {"p10": [1.0, 2.0], "p50": [2.0, 3.0], "p90": [4.0, 5.0]}, "usd")
    p90, p10, p50 = fig.data
    assert p10.fill == "tonexty" and list(p90.y) == [4.0, 5.0] and list(p50.y) == [2.0, 3.0]
