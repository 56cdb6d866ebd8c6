"""Deltas in `compare`: a difference that rounds to zero is shown as zero and coloured neither way."""

from __future__ import annotations

from gpufleet.report.headline import delta_tone, fmt_delta


def test_a_delta_that_rounds_to_zero_is_neutral() -> None:
    # utilization is better higher; 50.00 -> 49.98 is -0.02 pp, shown with one decimal: zero
    assert fmt_delta("utilization_pct", 50.0, 49.98) == "0.0 pp"
    assert delta_tone("utilization_pct", 50.0, 49.98) == 0
    assert fmt_delta("utilization_pct", 50.0, 50.0) == "0.0 pp"


def test_a_real_delta_keeps_its_sign_and_colour() -> None:
    assert fmt_delta("utilization_pct", 50.0, 52.0) == "+2.0 pp"
    assert delta_tone("utilization_pct", 50.0, 52.0) == 1  # higher utilization: better
    assert fmt_delta("idle_pct", 10.0, 12.5) == "+2.5 pp"
    assert delta_tone("idle_pct", 10.0, 12.5) == -1  # more idle: worse
    assert delta_tone("idle_pct", None, 12.5) == 0
