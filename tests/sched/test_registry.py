"""Each policy of the registry alone, on hand-built cluster states (no engine run)."""

from __future__ import annotations

import math

import pytest

from gpufleet.fleet.state import ClusterState, Placement
from gpufleet.sched.placement import blocks_used
from gpufleet.sched.policies import (
    BACKFILL,
    PLACEMENT,
    PROVIDERS,
    QUEUE_ORDERS,
    VICTIMS,
    resolve,
)
from gpufleet.sched.providers import ChoiceParams, ClusterOffer


def _cluster(blocks: int = 2, dpb: int = 4, g: int = 8) -> ClusterState:
    cs = ClusterState(0, "c", "p", "h100", g, g, blocks, dpb)
    cs.add_domains(blocks * dpb)
    return cs


def _hold(cs: ClusterState, job: int, parts: list[tuple[int, int]]) -> None:
    cs.take_all(Placement(parts=parts), job)


def test_best_fit_takes_the_fullest_domain_first_fit_the_lowest() -> None:
    cs = _cluster(blocks=1, dpb=3)
    _hold(cs, 1, [(1, 6)])  # domain 1 has 2 free, domains 0 and 2 have 8
    assert PLACEMENT["best-fit"](cs, 2, None).parts == [(1, 2)]  # type: ignore[union-attr]
    assert PLACEMENT["first-fit"](cs, 2, None).parts == [(0, 2)]  # type: ignore[union-attr]
    assert PLACEMENT["best-fit"](cs, 9, "domain") is None  # more than a domain, a domain required


def test_prefer_block_keeps_a_big_job_in_one_block_prefer_cluster_fills_fragments() -> None:
    # block 0: three domains partly used, one whole-free; block 1: four whole-free domains
    for prefer, blocks, whole_left_in_block_1 in (("block", 1, 2), ("domain", 1, 2), ("cluster", 2, 3)):
        cs = _cluster()
        for d in range(3):
            _hold(cs, 10 + d, [(d, 4)])
        p = PLACEMENT["best-fit"](cs, 16, None, prefer)
        assert p is not None and p.gpus(8) == 16
        assert blocks_used(cs, p) == blocks, prefer
        cs.take_all(p, 99)
        cs.check()
        assert len(cs.whole[1]) == whole_left_in_block_1, prefer


def test_prefer_does_not_bend_a_required_block() -> None:
    cs = _cluster()
    for d in range(3):
        _hold(cs, 10 + d, [(d, 4)])
    p = PLACEMENT["best-fit"](cs, 16, "block", "cluster")
    assert p is not None and blocks_used(cs, p) == 1


def test_no_backfill_reserves_nothing_and_easy_reserves_the_soonest_cluster() -> None:
    ends_a = [(50.0, 1, 8), (80.0, 2, 8)]
    ends_b = [(30.0, 3, 16)]
    clusters = [(0, 0, ends_a, False), (1, 4, ends_b, False)]
    assert BACKFILL["none"].reserve(10.0, 16, iter(clusters)) is None
    res = BACKFILL["easy"].reserve(10.0, 16, iter(clusters))
    assert res is not None
    # cluster 1 has 4 free + 16 at 30 = 20 >= 16: shadow 30 with 4 spare; cluster 0 only at 80
    assert (res.cluster, res.shadow_s, res.extra_gpus) == (1, 30.0, 4)
    assert res.allows(1, 4, 1000.0) and not res.allows(1, 5, 1000.0) and res.allows(1, 5, 30.0)


def test_easy_under_topology_gives_no_spare_gpus_and_waits_for_the_next_end() -> None:
    ends = [(50.0, 1, 8)]
    res = BACKFILL["easy"].reserve(10.0, 8, iter([(0, 8, ends, True)]))
    # enough GPUs free by count now, but the head could not be placed: the next end, no spare
    assert res is not None and (res.shadow_s, res.extra_gpus) == (50.0, 0)
    never = BACKFILL["easy"].reserve(10.0, 64, iter([(0, 8, ends, True)]))
    assert never is not None and math.isinf(never.shadow_s) and never.allows(0, 64, 1e9)


def test_victims_lowest_class_then_newest_first_on_the_cheapest_domain() -> None:
    cs = _cluster(blocks=1, dpb=2)
    _hold(cs, 1, [(0, 4)])
    _hold(cs, 2, [(0, 4)])
    _hold(cs, 3, [(1, 8)])
    rank = {1: (3, 0.0), 2: (3, 5.0), 3: (2, 1.0)}  # (class rank: higher goes first, start time)
    held = {1: 4, 2: 4, 3: 8}
    choose = VICTIMS["lowest-class-newest-first"]
    # 4 GPUs: on domain 0, the newest of the lowest class (job 2) is enough
    assert choose(cs, 4, lambda j: True, rank.__getitem__, held.__getitem__) == [2]
    # only job 3 eligible: domain 1 is cleared
    assert choose(cs, 8, lambda j: j == 3, rank.__getitem__, held.__getitem__) == [3]
    # nothing eligible: impossible
    assert choose(cs, 4, lambda j: False, rank.__getitem__, held.__getitem__) is None


OFFERS = [
    ClusterOffer(0, "aws", "on-demand", False, 5.0),
    ClusterOffer(1, "azure", "committed", True, 3.0),
    ClusterOffer(2, "oracle", "committed", False, 2.0),
]


def test_provider_choices_order_offers_and_only_diversify_depends_on_the_team() -> None:
    params = ChoiceParams(max_share=0.5, provider="aws")
    assert PROVIDERS["cheapest"](()).order(OFFERS, {}, params) == [2, 1, 0]
    assert PROVIDERS["price-order"](()).order(OFFERS, {}, params) == [1, 2, 0]
    assert PROVIDERS["pinned"](()).order(OFFERS, {}, params) == [0]
    assert PROVIDERS["diversify"](()).order(OFFERS, {"oracle": 10.0, "aws": 1.0}, params) == [1, 0]
    assert [n for n, p in PROVIDERS.items() if p(()).per_team] == ["diversify"]


def test_queue_orders_and_resolution() -> None:
    shares = [0.5, None]
    assert QUEUE_ORDERS["fair-share"]((0, 1, 2, 3)).shares(shares) == [0.5, math.inf]
    assert QUEUE_ORDERS["priority"]((0, 1, 2, 3)).shares(shares) == [math.inf, math.inf]
    p = resolve("strict-fifo", (0, 2, 1, 3), "easy", "first-fit", "cheapest")
    assert p.queue.pooled and p.queue.classes == (0, 2, 1, 3)
    assert p.backfill is BACKFILL["none"]  # strict FIFO never backfills
    assert p.placement is PLACEMENT["first-fit"]
    with pytest.raises(KeyError, match="unknown placement policy 'worst-fit'"):
        resolve("fair-share", (0, 1, 2, 3), "easy", "worst-fit", "cheapest")


def test_fifo_merges_the_classes_by_submit_time_priority_keeps_them_apart() -> None:
    submit = [0.0, 5.0, 1.0, 3.0, 2.0, 3.0]  # by job
    queues = [[2, 5], [4, 1], [], [3]]  # each class's jobs in FIFO order
    fifo = QUEUE_ORDERS["fifo"]((1, 0, 2, 3))
    lanes = fifo.lanes([iter(queues[k]) for k in fifo.classes], submit)
    # one lane by submit time; the tie at 3.0 goes to the class scanned first (class 1 has none)
    assert [list(lane) for lane in lanes] == [[2, 4, 5, 3, 1]]
    prio = QUEUE_ORDERS["priority"]((1, 0, 2, 3))
    lanes = prio.lanes([iter(queues[k]) for k in prio.classes], submit)
    assert [list(lane) for lane in lanes] == [[4, 1], [2, 5], [], [3]]
    p = resolve("fifo", (0, 1, 2, 3), "easy", "best-fit", "cheapest")
    assert p.queue.merged and not p.queue.pooled and p.backfill is BACKFILL["easy"]
    assert p.queue.shares([0.5]) == [math.inf]  # one queue: no team quotas
    with pytest.raises(KeyError, match="unknown queue order policy 'lifo'"):
        resolve("lifo", (0, 1, 2, 3), "easy", "best-fit", "cheapest")
