"""The topology rules moved out of the engine, alone on hand-built clusters: the spare domain for a
failed node and the inference replica slots."""

from __future__ import annotations

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
