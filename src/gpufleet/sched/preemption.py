"""Preemption: which running jobs to stop so that a higher-priority (or quota-reclaiming) job fits.

Pure: reads a ClusterState and returns victims; the engine stops them (each loses exactly the work
since its last checkpoint and requeues). Victims are chosen, as Kueue does, lowest priority first
and, within a class, the most recently started first (they have the least work to lose).
"""

from __future__ import annotations

from collections.abc import Callable

from gpufleet.fleet.state import ClusterState

VictimRank = Callable[[int], tuple[int, float]]  # job -> (class rank: higher preempted first, start time)


def _domain_victims(
    cs: ClusterState, d: int, need: int, eligible: Callable[[int], bool], rank: VictimRank
) -> list[int] | None:
    """Eligible jobs on domain d to stop, fewest by rank order, so that `need` GPUs are free there."""
    free = int(cs.free[d])
    if free >= need:
        return []
    occ = cs.jobs_on(d)
    cands = [j for j in occ if eligible(j)]
    if free + sum(occ[j] for j in cands) < need:
        return None
    cands.sort(key=lambda j: rank(j), reverse=True)
    out = []
    for j in cands:
        out.append(j)
        free += occ[j]
        if free >= need:
            return out
    return None


def choose_victims(
    cs: ClusterState,
    gpus: int,
    eligible: Callable[[int], bool],
    rank: VictimRank,
    held: Callable[[int], int],
    single_block: bool = False,
) -> list[int] | None:
    """Jobs to preempt in this cluster so that a job of `gpus` GPUs can be placed; None if impossible.

    A job that fits in one domain: the domain needing the fewest preempted GPUs. A larger job: the
    whole domains (free or held only by eligible jobs, none under repair) that are cheapest to clear,
    all in one spine block when the job requires a block (else it still could not start).
    held(job) = GPUs the job holds in all; it is what preempting it costs.
    """
    if cs.pooled:
        return None  # strict-FIFO mode: no topology, no preemption
    g = cs.gpus_per_domain
    if gpus <= g:
        best: list[int] | None = None
        best_cost = 1 << 62
        for d in range(cs.online):
            if g - cs.failed_in[d] < gpus:
                continue
            v = _domain_victims(cs, d, gpus, eligible, rank)
            if v is None:
                continue
            cost = sum(held(j) for j in v)
            if cost < best_cost:
                best, best_cost = v, cost
                if cost == 0:
                    break
        return best
    need = -(-gpus // g)
    options: list[tuple[int, int]] = []
    for d in range(cs.online):
        if cs.failed_in[d]:
            continue
        occ = cs.jobs_on(d)
        if all(eligible(j) for j in occ):
            options.append((g - int(cs.free[d]), d))
    if len(options) < need:
        return None
    options.sort()
    if single_block:
        per_block: dict[int, list[tuple[int, int]]] = {}
        for o in options:
            per_block.setdefault(o[1] // cs.domains_per_block, []).append(o)
        fits = [(sum(x for x, _ in opts[:need]), b) for b, opts in per_block.items() if len(opts) >= need]
        if not fits:
            return None
        options = per_block[min(fits)[1]]
    chosen: set[int] = set()
    for _, d in options[:need]:
        chosen.update(cs.jobs_on(d))
    return sorted(chosen, key=lambda j: rank(j), reverse=True)
