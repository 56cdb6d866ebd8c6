"""The shared constants agree with the names they stand for."""

from __future__ import annotations

from gpufleet.tables import PRIORITY_CLASSES
from gpufleet.units import (
    BEST_EFFORT,
    HOURS_PER_DAY,
    INFERENCE,
    NCLASS,
    RESEARCH,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    TRAINING,
)


def test_class_indexes_follow_the_priority_classes() -> None:
    assert len(PRIORITY_CLASSES) == NCLASS
    named = {INFERENCE: "inference", TRAINING: "training", RESEARCH: "research", BEST_EFFORT: "best-effort"}
    assert [named[i] for i in range(NCLASS)] == list(PRIORITY_CLASSES)


def test_seconds() -> None:
    assert SECONDS_PER_DAY == 24 * SECONDS_PER_HOUR == 86400.0
    assert HOURS_PER_DAY * SECONDS_PER_HOUR == SECONDS_PER_DAY
