"""The topology rules moved out of the engine, alone on hand-built clusters: the spare domain for a
failed node and the inference replica slots."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gpufleet.fleet.state import ClusterState, Placement
from gpufleet.sched.placement import replica_slots, spare_domain


def _cluster(blocks: int = 2, dpb: int = 3, g: int = 8) -> ClusterState:
    cs = ClusterState(0, "c", "p", "h100", g, 4, blocks, dpb)
    cs.add_domains(blocks * dpb)
    return cs


def test_spare_domain_stays_inside_the_required_level() -> None:
    cs = _cluster()
    job = Placement(parts=[(1, 4)])  # the failed job sits on domain 1 (block 0)
    cs.take_all(Placement(parts=[(1, 4)]), 7)
    cs.take_all(Placement(parts=[(0, 6), (2, 6)]), 8)  # block 0's other domains keep 2 free each
    # its own domain has 4 free: a node of 4 fits there
    assert spare_domain(cs, "domain", job, 4) == 1
    cs.take_all(Placement(parts=[(1, 2)]), 9)  # now only 2 free on domain 1
    assert spare_domain(cs, "domain", job, 4) == -1
    # within its block: no domain of block 0 has 4 free, so none, although block 1 is empty
    assert spare_domain(cs, "block", job, 4) == -1
    assert spare_domain(cs, "block", job, 2) in (0, 1, 2)  # the fullest that fits, in block 0
    # no requirement: best fit anywhere (the emptiest block's domains are whole-free)
    assert spare_domain(cs, None, job, 4) >= 3


def test_replica_slots_take_whole_domains_from_the_fullest_blocks_and_change_nothing() -> None:
    cs = _cluster(blocks=2, dpb=3)
    cs.take_all(Placement(parts=[(0, 8)]), 1)  # block 0 has two whole-free domains, block 1 three
    free_before = cs.free.copy()
    p = replica_slots(cs, 8, 3)
    assert len(p.whole) == 3
    assert sorted(d // 3 for d in p.whole) == [0, 0, 1]  # block 0's two first, then one of block 1
    assert cs.free == free_before and cs.whole_total == 5  # nothing taken yet
    cs.take_all(p, 99)
    cs.check()


def test_replica_slots_smaller_than_a_domain_go_best_fit_one_by_one() -> None:
    cs = _cluster(blocks=1, dpb=2)
    cs.take_all(Placement(parts=[(0, 4)]), 1)  # domain 0 has 4 free, domain 1 is whole
    p = replica_slots(cs, 4, 3)
    assert p.parts == [(0, 4), (1, 4), (1, 4)]  # the partly used domain first
    assert int(cs.free[0]) == 4 and int(cs.free[1]) == 8


def test_room_bounds_what_placement_can_fit() -> None:
    """room() = whole-free domains + the fullest shared one: placement fits nothing bigger, and
    (no block requirement) fits exactly that."""
    from gpufleet.fleet.state import ClusterState, Placement
    from gpufleet.sched.placement import best_fit

    cs = ClusterState(0, "c", "p", "h100", 8, 8, 2, 3)
    cs.add_domains(6)
    cs.take_all(Placement(parts=[(0, 5)]), 1)  # domain 0: 3 free
    cs.take_all(Placement(parts=[(1, 7)]), 2)  # domain 1: 1 free
    cs.take_all(Placement(whole=[3], chunks=[(1, 1)]), 3)  # domain 3 (its block stack's tail) held whole
    cs.check()
    assert cs.room() == 3 * 8 + 3  # domains 2, 4, 5 whole-free, domain 0 the fullest shared
    assert best_fit(cs, cs.room(), None, "cluster") is not None
    assert best_fit(cs, cs.room() + 1, None, "cluster") is None
    assert cs.free_total == cs.room() + 1  # free by count, yet one GPU short by topology


def test_best_fit_takes_the_lowest_index_of_the_fullest_domains() -> None:
    """Among equally full domains the lowest index goes first (the high ones leave first when
    capacity shrinks), whatever order they became that full in."""
    from gpufleet.sched.placement import best_fit

    cs = _cluster(blocks=2, dpb=3)
    for d in (4, 1, 5, 2):  # four domains left with 3 free each, the low ones last
        cs.take_all(Placement(parts=[(d, 5)]), 10 + d)
    p = best_fit(cs, 2, None)
    assert p is not None and p.parts == [(1, 2)]
    cs.take_all(p, 20)  # domain 1 now has 1 free: the next 3-GPU job goes to domain 2
    p = best_fit(cs, 3, None)
    assert p is not None and p.parts == [(2, 3)]


@settings(max_examples=60, deadline=None)
@given(
    g=st.sampled_from([8, 72, 130]),  # one, two and three words of levels
    ops=st.lists(st.tuples(st.integers(0, 139), st.integers(1, 130), st.booleans()), max_size=120),
)
def test_level_indexes_agree_with_a_scan_of_the_domains(g: int, ops: list[tuple[int, int, bool]]) -> None:
    """The level bitmaps (words of WORD domains, several words a level for a cluster of 140
    domains) against a scan of `free`: best_level, lowest_at, room, and check() after each change."""
    cs = ClusterState(0, "c", "p", "gb200", g, 4, 2, 70)
    cs.add_domains(140)
    held: list[tuple[int, Placement]] = []
    for job, (d, x, take) in enumerate(ops):
        x = min(x, g)
        if take and cs.free[d] >= x:
            p = Placement(parts=[(d, x)])
            cs.take_all(p, job)
            held.append((job, p))
        elif not take and held:
            other, p = held.pop(d % len(held))
            cs.give_all(p, other)
        cs.check()
        for level in range(1, g + 1):
            fits = [cs.free[e] for e in range(140) if cs.free[e] >= level]
            assert cs.best_level(level) == (min(fits) if fits else 0)
        for level in range(1, g):
            at = [e for e in range(140) if cs.free[e] == level]
            assert cs.lowest_at(level) == (at[0] if at else -1)
        partly = [cs.free[e] for e in range(140) if 0 < cs.free[e] < g]
        assert cs.room() == cs.whole_total * g + max(partly, default=0)
