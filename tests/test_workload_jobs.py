"""JobBatch: sorting, shifting, concatenation and length checks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.workload.jobs import JobBatch, concat

times = st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=0, max_size=50)


@given(times)
def test_build_sorts_by_submit_and_keeps_rows_together(submits: list[float]) -> None:
    n = len(submits)
    durations = np.arange(n, dtype=float) + 1.0
    teams = [f"t{i}" for i in range(n)]
    b = JobBatch.build(submits, durations, np.ones(n, dtype=np.int64), teams, "research")
    assert len(b) == n
    assert np.all(np.diff(b.submit_s) >= 0)
    # row i's duration i+1 still travels with team t{i} and submit submits[i]
    for s, d, t in zip(b.submit_s, b.duration_s, b.team, strict=True):
        i = int(d) - 1
        assert t == f"t{i}"
        assert s == submits[i]


def test_unsorted_or_ragged_batches_are_refused() -> None:
    one = np.ones(2)
    with pytest.raises(ValueError, match="sorted"):
        JobBatch(
            np.array([2.0, 1.0]),
            one,
            np.ones(2, np.int64),
            np.array(["a", "b"], object),
            np.array(["research"] * 2, object),
        )
    with pytest.raises(ValueError, match="rows"):
        JobBatch(
            np.array([1.0, 2.0]),
            np.ones(3),
            np.ones(2, np.int64),
            np.array(["a", "b"], object),
            np.array(["research"] * 2, object),
        )


def test_shifted_moves_submits_and_origin() -> None:
    origin = dt.datetime(2017, 10, 3, 5, 0, tzinfo=dt.UTC)
    b = JobBatch.build([0.0, 10.0], [5.0, 5.0], [1, 2], "a", "research", origin=origin, skipped={"x": 3})
    s = b.shifted(100.0)
    assert s.submit_s.tolist() == [100.0, 110.0]
    assert s.origin == origin - dt.timedelta(seconds=100)
    assert s.skipped == {"x": 3}
    assert b.submit_s.tolist() == [0.0, 10.0]  # the original is untouched


def test_concat_merges_sorted_and_adds_counts() -> None:
    a = JobBatch.build([0.0, 50.0], [1.0, 1.0], [1, 1], "a", "research", workload="w", skipped={"x": 1})
    b = JobBatch.build([25.0], [2.0], [4], "b", "training", workload="v", skipped={"x": 2, "y": 1})
    c = concat([a, b])
    assert c.submit_s.tolist() == [0.0, 25.0, 50.0]
    assert c.team.tolist() == ["a", "b", "a"]
    assert c.gpus.tolist() == [1, 4, 1]
    assert c.skipped == {"x": 3, "y": 1}
    assert c.workload == "w"
    assert len(concat([])) == 0
    assert c.gpu_hours() == pytest.approx((1 + 8 + 1) / 3600)
