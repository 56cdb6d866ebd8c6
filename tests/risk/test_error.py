"""The packaged fluid error: the worst gap per metric over the scenarios the model was not tuned on."""

from __future__ import annotations

from gpufleet.risk.error import fluid_error, fluid_error_json, fluid_error_note
from gpufleet.risk.metrics import METRICS


def test_the_worst_gap_is_the_largest_over_untuned_cases_only() -> None:
    err = fluid_error()
    assert err.scenarios and all("tuned" not in s for s in err.scenarios)
    untuned = [c for c in err.cases if not c.get("tuned")]
    assert len(untuned) == len(err.scenarios) < len(err.cases)
    for e in err.metrics:
        gaps = []
        for c in untuned:
            v = c["metrics"][e.metric]
            gap = v["fluid"] - v["full"]
            pct = e.metric.endswith("_pct")
            gaps.append(abs(gap) if pct else (abs(gap) / abs(v["full"]) if v["full"] else 0.0))
        mine = abs(e.worst_gap) if e.metric.endswith("_pct") else abs(e.worst_rel_pct or 0.0) / 100.0
        assert abs(mine - max(gaps)) < 1e-12, e.metric


def test_the_note_and_json_name_every_metric() -> None:
    note = fluid_error_note()
    assert all(m in note for m in METRICS)
    assert set(fluid_error_json()["worst_gap"]) == set(METRICS)
