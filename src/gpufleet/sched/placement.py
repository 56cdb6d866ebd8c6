"""Gang placement inside one cluster: pure functions that read a ClusterState and return GPUs per domain.

A job that fits in one NVLink domain goes to one domain: best fit (the fullest domain that still
fits, so whole domains stay whole for big jobs) or first fit (lowest index). A larger job takes
whole nodes in whole domains: inside one spine block where possible (the block with the fewest
whole-free domains that is big enough), else the fewest blocks, or not at all when it requires a
block. Nothing is changed here; the engine applies the returned placement.
"""

from __future__ import annotations

from itertools import islice

from gpufleet.fleet.state import ClusterState

Placement = list[tuple[int, int]]  # (domain, GPUs); domain -1 in a pooled cluster


def place(cs: ClusterState, gpus: int, require: str | None, policy: str = "best-fit") -> Placement | None:
    """Where gpus GPUs would go in this cluster now, or None when they do not fit as required."""
    if gpus > cs.free_total:
        return None
    if cs.pooled:
        return [(-1, gpus)]
    if gpus <= cs.gpus_per_domain:
        d = first_fit_domain(cs, gpus) if policy == "first-fit" else best_fit_domain(cs, gpus)
        return None if d < 0 else [(d, gpus)]
    if require == "domain":
        return None
    return place_whole_domains(cs, gpus, single_block=require == "block")


def best_fit_domain(cs: ClusterState, gpus: int) -> int:
    """The partly free domain with the fewest free GPUs >= gpus, else a whole-free domain; -1 if none."""
    level = cs.best_level(gpus)
    if level == 0:
        return -1
    if level < cs.gpus_per_domain:
        return next(iter(cs.levels[level]))
    return next(iter(cs.whole[fullest_block(cs, 1)]))


def first_fit_domain(cs: ClusterState, gpus: int) -> int:
    """The lowest-index domain with gpus free GPUs; -1 if none (the 'first-fit' policy)."""
    free = cs.free
    for d in range(cs.online):
        if free[d] >= gpus:
            return d
    return -1


def fullest_block(cs: ClusterState, need: int) -> int:
    """The block with the fewest whole-free domains that still has `need`; -1 if none."""
    best, best_count = -1, 1 << 62
    for b, count in enumerate(cs.whole_count):
        if need <= count < best_count:
            best, best_count = b, count
    return best


def place_whole_domains(cs: ClusterState, gpus: int, single_block: bool) -> Placement | None:
    """Whole nodes in whole domains for a job larger than a domain, in as few blocks as possible."""
    g = cs.gpus_per_domain
    node = cs.gpus_per_node
    nodes = -(-gpus // node)
    per_domain_nodes = g // node
    full = nodes // per_domain_nodes
    rest = gpus - full * g  # GPUs on the last, partly used domain (whole nodes of it)
    rest_domain = -1
    need = full
    if rest > 0:
        level = cs.best_level(rest)
        if 0 < level < g:
            rest_domain = next(iter(cs.levels[level]))
        else:
            need += 1
    if need > cs.whole_total:
        return None
    block = fullest_block(cs, need)
    chosen: list[int] = []
    if block >= 0:
        chosen.extend(islice(cs.whole[block], need))
    elif single_block:
        return None
    else:
        order = sorted(range(cs.blocks), key=lambda b: (-cs.whole_count[b], b))
        for b in order:
            take = min(need - len(chosen), cs.whole_count[b])
            chosen.extend(islice(cs.whole[b], take))
            if len(chosen) == need:
                break
    out: Placement = [(d, g) for d in chosen[:full]]
    if rest > 0:
        out.append((rest_domain if rest_domain >= 0 else chosen[full], rest))
    return out


def blocks_used(cs: ClusterState, placement: Placement) -> int:
    return len({d // cs.domains_per_block for d, _ in placement if d >= 0})
