"""Provider choice policies, overflow, team quotas with borrowing reclaimed by preemption."""

from __future__ import annotations

from sim.support import DAY, cluster, fleet, jobs, run, sim_input, workload

from gpufleet.sched.providers import ChoiceParams, ClusterOffer, provider_policy
from gpufleet.sim.engine import NGROUP
from gpufleet.sim.spec import PolicySpec, TeamSpec

OFFERS = [
    ClusterOffer(0, "aws", "committed", True, 3.2),
    ClusterOffer(1, "azure", "committed", False, 2.5),
    ClusterOffer(2, "oci", "committed", True, 3.0),
    ClusterOffer(3, "aws", "capacity-block", False, 10.6),
]


def test_cheapest_orders_by_price() -> None:
    assert provider_policy("cheapest")(OFFERS, {}, ChoiceParams()) == [1, 2, 0, 3]


def test_price_order_prefers_take_or_pay_capacity() -> None:
    assert provider_policy("price-order")(OFFERS, {}, ChoiceParams()) == [2, 0, 1, 3]


def test_diversify_skips_a_provider_at_its_cap() -> None:
    use = {"aws": 60.0, "azure": 30.0, "oci": 10.0}
    order = provider_policy("diversify")(OFFERS, use, ChoiceParams(max_share=0.5))
    assert order == [2, 1]  # aws holds 60% > 50%: skipped; the least-used provider first


def test_pinned_uses_one_provider() -> None:
    assert provider_policy("pinned")(OFFERS, {}, ChoiceParams(provider="aws")) == [0, 3]


def _two_clusters(overflow: bool):  # type: ignore[no-untyped-def]
    cs = [cluster("main", 8, 8, 1, 1, "p0"), cluster("od", 8, 8, 1, 1, "p1")]
    f = fleet(cs, days=1, kinds=["committed", "on-demand"], prices=[2.0, 9.0])
    rows = [(0.0, 100.0, 8, 2), (1.0, 100.0, 8, 2)]
    pol = PolicySpec(failures=False, queue="priority", preemption=False, overflow=overflow)
    return run(sim_input(f, jobs(rows, [workload(clusters=(0, 1))]), pol))[1]


def test_overflow_only_when_allowed() -> None:
    no = _two_clusters(False)
    assert list(no.cluster) == [0, 0] and no.first_start[1] == 100.0
    yes = _two_clusters(True)
    assert list(yes.cluster) == [0, 1] and yes.first_start[1] == 1.0


def test_quota_caps_a_team_and_borrowed_quota_is_reclaimed() -> None:
    c = cluster("c", 8, 8, blocks=1, domains_per_block=4)  # 32 GPUs; each team is entitled to 16
    teams = (TeamSpec("a", 0.5, False), TeamSpec("b", 0.5, True))
    rows = [
        (0.0, 1000.0, 8, 2),  # b
        (0.0, 1000.0, 8, 2),  # b
        (0.0, 1000.0, 8, 2),  # b: borrows a's idle quota
        (0.0, 1000.0, 8, 2),  # b: borrows
        (10.0, 100.0, 8, 2),  # a: under its quota, reclaims one borrowed domain
        (10.0, 100.0, 8, 2),  # a: reclaims another
        (20.0, 100.0, 8, 2),  # a: would exceed its quota: waits although b's jobs could be preempted
    ]
    team = [1, 1, 1, 1, 0, 0, 0]
    pol = PolicySpec(failures=False, preemption=True)
    f = fleet([c], days=1)
    inp = sim_input(f, jobs(rows, [workload(interval=50.0)], teams=team), pol, teams=teams)
    _, res = run(inp)
    assert res.first_start[4] == 10.0 and res.first_start[5] == 10.0
    assert res.preemptions[:4].sum() == 3 and res.preemptions[4:].sum() == 0
    # at 110 a's first two finish; the borrowers queued since 10 (submitted earlier) restart first, and
    # a's third job, within its quota again, reclaims one of them at once
    assert res.first_start[6] == 110.0
    # the borrowers preempted at 10 lost exactly their work since the last 50 s checkpoint: 10 s each;
    # the one reclaimed at 110 had done nothing yet
    assert abs(res.lost_gpu_hours[:4].sum() - 2 * 8 * 10.0 / 3600.0) < 1e-9


def test_only_allowed_clusters_are_used() -> None:
    cs = [cluster("x", 8, 8, 1, 2, "p0"), cluster("y", 8, 8, 1, 2, "p1")]
    rows = [(float(i), 500.0, 8, 2) for i in range(6)]
    pol = PolicySpec(failures=False, queue="priority", preemption=False)
    _, res = run(sim_input(fleet(cs, days=1), jobs(rows, [workload(clusters=(1,))]), pol))
    assert set(res.cluster.tolist()) == {1}
    _, g, d = res.alloc_log.arrays()
    assert not ((g // NGROUP == 0) & (g % NGROUP < 4) & (d != 0)).any()
    assert res.first_start[2] == 500.0 and DAY > 0


def test_a_team_back_within_its_quota_is_not_reclaimed() -> None:
    # 32 GPUs; a and b are entitled to 16 each, c has no quota. a's 16-GPU job starts borrowing (a's
    # 8-GPU job still runs); once that ends at 100, a holds exactly its share: nothing is borrowed.
    # b's 16-GPU job at 200 finds 8 free GPUs and must wait, not preempt a's job.
    c = cluster("c", 8, 8, blocks=1, domains_per_block=4)
    teams = (TeamSpec("a", 0.5, True), TeamSpec("b", 0.5, True), TeamSpec("c", None, True))
    rows = [(0.0, 100.0, 8, 2), (0.0, 10000.0, 16, 2), (0.0, 10000.0, 8, 2), (200.0, 100.0, 16, 2)]
    pol = PolicySpec(failures=False, preemption=True)
    inp = sim_input(fleet([c], days=1), jobs(rows, [workload()], teams=[0, 0, 2, 1]), pol, teams=teams)
    _, res = run(inp)
    assert res.preemptions.sum() == 0
    assert res.end[1] == 10000.0 and res.first_start[3] == 10000.0
    # while a is still above its share (before 100) the same job is reclaimable: b arrives at 50
    rows[3] = (50.0, 100.0, 16, 2)
    inp = sim_input(fleet([c], days=1), jobs(rows, [workload()], teams=[0, 0, 2, 1]), pol, teams=teams)
    _, res = run(inp)
    assert res.preemptions[1] == 1 and res.first_start[3] == 50.0
