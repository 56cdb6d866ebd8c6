"""`policies.queue` names the queue order; the older `mode` and `fair_share` are read as the same name."""

from __future__ import annotations

import pytest
from helpers import SMALL

from gpufleet.errors import InputError
from gpufleet.scenario import load_scenario_text

TEXT = SMALL.read_text()
POLICIES = "policies:\n  placement: best-fit\n"


def _with(lines: str) -> str:
    assert POLICIES in TEXT, "tests/scenarios/small.yaml's policies moved: update this test"
    return TEXT.replace(POLICIES, POLICIES + lines, 1)


@pytest.mark.parametrize(
    ("old", "queue"),
    [
        ("  fair_share: true\n", "fair-share"),
        ("  fair_share: false\n", "priority"),
        ("  mode: normal\n", "fair-share"),
        ("  mode: normal\n  fair_share: false\n", "priority"),
        ("  mode: strict-fifo\n", "strict-fifo"),
        ("  mode: strict-fifo\n  fair_share: false\n", "strict-fifo"),
    ],
)
def test_the_older_fields_read_as_the_queue_they_meant(old: str, queue: str) -> None:
    before = load_scenario_text(_with(old), "old.yaml")
    now = load_scenario_text(_with(f"  queue: {queue}\n"), "new.yaml")
    assert before.scenario.policies.queue == queue
    assert before.scenario == now.scenario
    assert before.content_hash == now.content_hash  # a stored plan still matches the file it was made on


def test_the_default_queue_is_fair_share() -> None:
    assert load_scenario_text(TEXT, "small.yaml").scenario.policies.queue == "fair-share"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("  queue: fifo\n  fair_share: false\n", "`queue` replaces `mode` and `fair_share`"),
        ("  mode: fifo\n", "write `queue: fair-share | priority | fifo | strict-fifo` instead"),
        ("  fair_share: maybe\n", "write `queue: fair-share | priority | fifo | strict-fifo` instead"),
        ("  queue: lifo\n", "queue"),
    ],
)
def test_a_queue_given_twice_or_an_old_value_it_cannot_read_is_refused(lines: str, message: str) -> None:
    with pytest.raises(InputError, match="policies") as err:
        load_scenario_text(_with(lines), "bad.yaml")
    assert message in str(err.value)
    assert "bad.yaml:" in str(err.value)
