"""Gang placement inside one cluster: pure functions that read a ClusterState and return a Placement.

A job that fits in one NVLink domain goes to one domain: best fit (the fullest domain that still
fits, so whole domains stay whole for big jobs) or first fit (lowest index). A larger job takes whole
domains, its remainder on one shared domain: when it prefers a block (or a domain), inside one spine
block where possible (the block with the fewest whole-free domains that is big enough), else the
fewest blocks; when it prefers nothing finer than the cluster, the most fragmented blocks first; not
at all when it requires a block it cannot get. Also the topology rules of failures (a spare domain)
and inference (replica slots). Nothing is changed here; the engine applies the returned placement.
"""

from __future__ import annotations

from gpufleet.fleet.state import ClusterState, Placement


def best_fit(
    cs: ClusterState, gpus: int, require: str | None, prefer: str | None = "block"
) -> Placement | None:
    """Best fit: a small job on the fullest domain that still fits; a large one in as few blocks as
    possible when it prefers (or requires) a block or a domain, else filling the fullest blocks first
    (see place_whole_domains). None when it does not fit as required."""
    if gpus > cs.free_total:
        return None
    if cs.pooled:
        return Placement(parts=[(-1, gpus)])
    g = cs.gpus_per_domain
    if gpus <= g:
        level = cs.best_level(gpus)
        if level == 0:
            return None
        if level < g:
            return Placement(parts=[(cs.lowest_at(level), gpus)])
        b = fullest_block(cs, 1)
        d = cs.whole[b][-1]
        if gpus == g:
            return Placement(whole=[d], chunks=[(b, 1)])
        return Placement(parts=[(d, gpus)])
    return _large(cs, gpus, require, prefer)


def first_fit(
    cs: ClusterState, gpus: int, require: str | None, prefer: str | None = "block"
) -> Placement | None:
    """First fit: a small job on the lowest-index domain with room; a large one as best fit does."""
    if gpus > cs.free_total:
        return None
    if cs.pooled:
        return Placement(parts=[(-1, gpus)])
    if gpus <= cs.gpus_per_domain:
        d = first_fit_domain(cs, gpus)
        return None if d < 0 else Placement(parts=[(d, gpus)])
    return _large(cs, gpus, require, prefer)


def _large(cs: ClusterState, gpus: int, require: str | None, prefer: str | None) -> Placement | None:
    if require == "domain":
        return None
    local = require == "block" or prefer in ("block", "domain")
    return place_whole_domains(cs, gpus, single_block=require == "block", local=local)


def place(
    cs: ClusterState, gpus: int, require: str | None, policy: str = "best-fit", prefer: str | None = "block"
) -> Placement | None:
    """Where gpus GPUs would go in this cluster now under the named placement policy, or None."""
    return (
        best_fit(cs, gpus, require, prefer) if policy == "best-fit" else first_fit(cs, gpus, require, prefer)
    )


def best_fit_domain(cs: ClusterState, gpus: int) -> int:
    """The partly free domain with the fewest free GPUs >= gpus, else a whole-free domain; -1 if none."""
    level = cs.best_level(gpus)
    if level == 0:
        return -1
    if level < cs.gpus_per_domain:
        return cs.lowest_at(level)
    return cs.whole[fullest_block(cs, 1)][-1]


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
    for b, stack in enumerate(cs.whole):
        count = len(stack)
        if need <= count < best_count:
            best, best_count = b, count
            if count == need:
                break  # none can be fuller
    return best


def place_whole_domains(
    cs: ClusterState, gpus: int, single_block: bool, local: bool = True
) -> Placement | None:
    """Whole domains for a job larger than a domain; the remainder (fewer GPUs than a domain) on one
    best-fit shared domain. `local` (the job prefers a block or a domain): in one block where
    possible, else in as few blocks as possible, the biggest first. Not local (topology.prefer is
    cluster or none): the blocks with the fewest whole-free domains first, filling fragments and
    keeping whole blocks for the jobs that want them."""
    g = cs.gpus_per_domain
    full = gpus // g
    rest = gpus - full * g  # GPUs on one shared domain (a job gets exactly the GPUs it asks for)
    if single_block and rest > 0:
        return _place_in_one_block(cs, full, rest)
    rest_domain = -1
    need = full
    if rest > 0:
        level = cs.best_level(rest)
        if 0 < level < g:
            rest_domain = cs.lowest_at(level)
        else:
            need += 1
    if need > cs.whole_total:
        return None
    block = fullest_block(cs, need) if local or single_block else -1
    chunks: list[tuple[int, int]] = []
    if block >= 0:
        chunks.append((block, need))
    elif single_block:
        return None
    else:
        sign = -1 if local else 1
        order = sorted((sign * len(stack), b) for b, stack in enumerate(cs.whole) if stack)
        left = need
        for _, b in order:
            take = min(left, len(cs.whole[b]))
            if take:
                chunks.append((b, take))
                left -= take
            if left == 0:
                break
    domains: list[int] = []
    for b, k in chunks:
        stack = cs.whole[b]
        domains.extend(stack[len(stack) - k :])
    if rest > 0 and rest_domain < 0:
        # the rest goes on the deepest domain of the last chunk: shared, not whole; take() lifts it
        # off its stack by identity after the chunk tails above it are cut
        b, k = chunks[-1]
        rest_domain = domains.pop(len(domains) - k)
        chunks[-1] = (b, k - 1)
    parts = [(rest_domain, rest)] if rest > 0 else []
    return Placement(whole=domains, parts=parts, chunks=chunks)


def _place_in_one_block(cs: ClusterState, full: int, rest: int) -> Placement | None:
    """A job that requires one block and has a remainder: its whole domains and its shared domain
    (best fit, else one more whole domain) in the same block, the fullest block that has room."""
    g = cs.gpus_per_domain
    dpb = cs.domains_per_block
    best: tuple[int, int, int] | None = None  # (whole-free domains, block, shared domain or -1)
    for b, stack in enumerate(cs.whole):
        n = len(stack)
        if n < full or (best is not None and n >= best[0]):
            continue
        shared = _fullest(cs, b * dpb, min((b + 1) * dpb, cs.online), rest, g)
        if shared >= 0:
            best = (n, b, shared)
        elif n > full:
            best = (n, b, -1)
    if best is None:
        return None
    _, b, rest_domain = best
    need = full if rest_domain >= 0 else full + 1
    stack = cs.whole[b]
    domains = stack[len(stack) - need :]
    if rest_domain < 0:
        # the deepest of them is shared, not whole: take() lifts it off its stack by identity
        rest_domain = domains.pop(0)
        need -= 1
    return Placement(whole=domains, parts=[(rest_domain, rest)], chunks=[(b, need)])


def blocks_used(cs: ClusterState, placement: Placement) -> int:
    return len({d // cs.domains_per_block for d in placement.domains() if d >= 0})


def stranded_gpus(cs: ClusterState, smallest_need: int) -> int:
    """Free GPUs no waiting job can use: those in domains with fewer free GPUs than the smallest
    waiting job needs (capped at a domain: a bigger job needs whole domains, so partly free ones
    strand their GPUs too). 0 when nothing waits."""
    if cs.pooled or smallest_need <= 0 or smallest_need >= 1 << 62:
        return 0
    threshold = min(smallest_need, cs.gpus_per_domain)
    free = cs.free
    total = 0
    for d in range(cs.online):
        f = free[d]
        if f < threshold:
            total += f
    return total


def spare_domain(cs: ClusterState, require: str | None, placement: Placement, need: int) -> int:
    """A domain with `need` free GPUs to replace a failed node of the job at `placement`, at the level
    the job requires (its own domain, or its block; else best fit anywhere in the cluster); -1 when
    there is none and the job must requeue."""
    if cs.pooled:
        return -1
    if require != "domain" and require != "block":
        return best_fit_domain(cs, need)
    d = placement.whole[0] if placement.whole else placement.parts[0][0]
    if require == "domain":
        return d if cs.free[d] >= need else -1
    dpb = cs.domains_per_block
    lo = d // dpb * dpb
    return _fullest(cs, lo, min(lo + dpb, cs.online), need, cs.gpus_per_domain + 1)


def _fullest(cs: ClusterState, lo: int, hi: int, need: int, below: int) -> int:
    """The first domain in lo..hi-1 with the fewest free GPUs that are at least `need` and fewer
    than `below`; -1 if none."""
    free = cs.free
    best, best_free = -1, below
    for d in range(lo, hi):
        f = free[d]
        if need <= f < best_free:
            best, best_free = d, f
    return best


def replica_slots(cs: ClusterState, g: int, want: int) -> Placement:
    """Up to `want` inference replica slots of g GPUs: whole domains from the blocks with the fewest
    free first (the big blocks stay whole for gang jobs), or best-fit domains for replicas smaller
    than one. Leaves the cluster as it found it."""
    if cs.pooled:
        k = min(want, cs.free_total // g)
        return Placement(parts=[(-1, g)] * k)
    if g == cs.gpus_per_domain:
        order = sorted((len(stack), b) for b, stack in enumerate(cs.whole) if stack)
        chunks: list[tuple[int, int]] = []
        domains: list[int] = []
        for n_free, b in order:
            take = min(want - len(domains), n_free)
            stack = cs.whole[b]
            domains.extend(stack[len(stack) - take :])
            chunks.append((b, take))
            if len(domains) >= want:
                break
        return Placement(whole=domains, chunks=chunks)
    # smaller replicas: best fit, one by one, each held while the next is sought
    parts: list[tuple[int, int]] = []
    while len(parts) < want:
        d = best_fit_domain(cs, g)
        if d < 0:
            break
        cs.take(d, g)
        parts.append((d, g))
    for d, x in parts:
        cs.give(d, x)
    return Placement(parts=parts)
