"""The usage book (commitment-first's usage to date) against the change log's own exact integration."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gpufleet.sim.record import ChangeLog, integrate
from gpufleet.sim.state import NGROUP
from gpufleet.sim.usage import UsageBook
from gpufleet.units import NCLASS, SECONDS_PER_HOUR
from sim.support import DAY, cluster, fleet

PRICES = [2.0, 3.5]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 3 * DAY - 1.0), st.integers(0, 2 * NGROUP - 1), st.integers(1, 8)),
        max_size=60,
    )
)
def test_usage_per_contract_is_the_logged_allocation_priced(rows: list[tuple[float, int, int]]) -> None:
    fl = fleet([cluster("a"), cluster("b")], days=3, prices=PRICES)
    book = UsageBook(fl)
    log = ChangeLog()
    for t, g, n in sorted(rows):  # allocations (levels only grow; integration is linear anyway)
        log.add(t, g, n)
    bounds = np.arange(4) * DAY
    for day in (1, 2, 3):
        book.advance(log, NGROUP, day * DAY)
    per_group = integrate(log, 2 * NGROUP, bounds).sum(axis=1).reshape(2, NGROUP)
    expect = per_group[:, :NCLASS].sum(axis=1) / SECONDS_PER_HOUR * np.array(PRICES)
    assert np.allclose(book.used_term, expect)


def test_the_contract_year_restarts_and_capacity_left_is_priced_from_the_ramp() -> None:
    fl = fleet([cluster("a")], days=4, prices=[2.0])  # 32 GPUs
    ct = replace(fl.contracts[0], min_per_year_usd=1000.0, years=((0, 1, 2), (2, 3, 2)))
    book = UsageBook(replace(fl, contracts=(ct,)))
    log = ChangeLog()
    log.add(0.0, 0, 10)  # 10 GPUs of class 0 all along
    book.advance(log, NGROUP, DAY)
    s1 = book.states(1)[0]
    assert s1.left_usd == 1000.0 - 10 * 24 * 2.0  # the first day's use counted in year 1
    assert s1.capacity_left_usd == 32 * 24 * 2.0  # day 1 only
    assert s1.period_end_day == 1
    book.advance(log, NGROUP, 2 * DAY)
    s2 = book.states(2)[0]
    assert s2.left_usd == 1000.0  # a new contract year: nothing used in it yet
    assert s2.capacity_left_usd == 2 * 32 * 24 * 2.0
    assert book.used_term[0] == 2 * 10 * 24 * 2.0
