"""Live fleet state per cluster: free GPUs per NVLink domain, whole-free domains per spine block.

Compact per-cluster lists indexed by domain, never an object per GPU. Domains come online in index
order (a contract's ramp fills a cluster from domain 0 up) and leave from the top. Two indexes keep
best-fit placement O(1): `levels[k]` holds the partly free domains with exactly k free GPUs (a bit
mask says which levels are non-empty) and `whole[b]` holds block b's completely free domains.
A "pooled" cluster (strict-FIFO mode) tracks only its free GPU count, with no topology.
"""

from __future__ import annotations


class ClusterState:
    """One cluster's domains; mutate only through take / give / add_domains / remove_domains."""

    __slots__ = (
        "accelerator",
        "blocks",
        "capacity",
        "domains_per_block",
        "failed",
        "failed_in",
        "free",
        "free_total",
        "gen",
        "gpus_per_domain",
        "gpus_per_node",
        "index",
        "levels",
        "mask",
        "name",
        "occupants",
        "online",
        "pooled",
        "provider",
        "size",
        "whole",
        "whole_count",
        "whole_total",
    )

    def __init__(
        self,
        index: int,
        name: str,
        provider: str,
        accelerator: str,
        gpus_per_domain: int,
        gpus_per_node: int,
        blocks: int,
        domains_per_block: int,
        pooled: bool = False,
    ) -> None:
        self.index = index
        self.name = name
        self.provider = provider
        self.accelerator = accelerator
        self.gpus_per_domain = gpus_per_domain
        self.gpus_per_node = gpus_per_node
        self.blocks = blocks
        self.domains_per_block = domains_per_block
        self.size = blocks * domains_per_block
        self.pooled = pooled
        n = 0 if pooled else self.size
        self.free: list[int] = [0] * n  # free GPUs per domain (excludes failed ones)
        self.failed_in: list[int] = [0] * n  # GPUs out for repair per domain
        self.gen: list[int] = [0] * n  # bumped when a domain leaves, so stale repairs are ignored
        self.occupants: list[dict[int, int]] = [{} for _ in range(n)]  # domain -> {job: GPUs}
        self.levels: list[set[int]] = [set() for _ in range(gpus_per_domain)]
        self.whole: list[set[int]] = [set() for _ in range(blocks)]
        self.whole_count: list[int] = [0] * blocks
        self.mask = 0  # bit k: some partly free domain has k free GPUs; bit G: a whole-free domain exists
        self.whole_total = 0
        self.online = 0  # domains online: indices 0 .. online-1
        self.capacity = 0  # GPUs online
        self.free_total = 0
        self.failed = 0

    # ------------------------------------------------------------------ index upkeep
    def _unlink(self, d: int) -> None:
        f = self.free[d]
        g = self.gpus_per_domain
        if f == g:
            b = d // self.domains_per_block
            self.whole[b].discard(d)
            self.whole_count[b] -= 1
            self.whole_total -= 1
            if self.whole_total == 0:
                self.mask &= ~(1 << g)
        elif f > 0:
            s = self.levels[f]
            s.discard(d)
            if not s:
                self.mask &= ~(1 << f)

    def _link(self, d: int) -> None:
        f = self.free[d]
        g = self.gpus_per_domain
        if f == g:
            b = d // self.domains_per_block
            self.whole[b].add(d)
            self.whole_count[b] += 1
            self.whole_total += 1
            self.mask |= 1 << g
        elif f > 0:
            self.levels[f].add(d)
            self.mask |= 1 << f

    # ------------------------------------------------------------------ allocation
    def take(self, d: int, gpus: int) -> None:
        """Mark gpus of domain d busy (d = -1 in a pooled cluster)."""
        self.free_total -= gpus
        if d < 0:
            return
        self._unlink(d)
        self.free[d] -= gpus
        self._link(d)

    def give(self, d: int, gpus: int) -> None:
        """Return gpus of domain d to the free pool."""
        self.free_total += gpus
        if d < 0:
            return
        self._unlink(d)
        self.free[d] += gpus
        self._link(d)

    def take_all(self, placement: list[tuple[int, int]], job: int) -> int:
        """take() for every (domain, GPUs) of a placement and record the job as their occupant."""
        g = self.gpus_per_domain
        free, occ, whole, count = self.free, self.occupants, self.whole, self.whole_count
        dpb = self.domains_per_block
        total = 0
        for d, x in placement:
            total += x
            if d < 0:
                continue
            if x == g:  # a whole-free domain, taken whole: the common case of gang jobs
                b = d // dpb
                whole[b].discard(d)
                count[b] -= 1
                self.whole_total -= 1
                free[d] = 0
            else:
                self._unlink(d)
                free[d] -= x
                self._link(d)
            o = occ[d]
            o[job] = o.get(job, 0) + x
        if self.whole_total == 0:
            self.mask &= ~(1 << g)
        self.free_total -= total
        return total

    def give_all(self, placement: list[tuple[int, int]], job: int) -> int:
        """give() for every (domain, GPUs) of a placement and forget the job as their occupant."""
        g = self.gpus_per_domain
        free, occ, whole, count = self.free, self.occupants, self.whole, self.whole_count
        dpb = self.domains_per_block
        total = 0
        for d, x in placement:
            total += x
            if d < 0:
                continue
            o = occ[d]
            left = o.get(job, 0) - x
            if left > 0:
                o[job] = left
            else:
                o.pop(job, None)
            if x == g:  # the whole domain comes back free
                b = d // dpb
                whole[b].add(d)
                count[b] += 1
                self.whole_total += 1
                free[d] = g
            else:
                self._unlink(d)
                free[d] += x
                self._link(d)
        if self.whole_total:
            self.mask |= 1 << g
        self.free_total += total
        return total

    def fail(self, d: int, gpus: int) -> None:
        """Take free GPUs of domain d out of service for repair."""
        self.take(d, gpus)
        self.failed += gpus
        if d >= 0:
            self.failed_in[d] += gpus

    def repair(self, d: int, gpus: int) -> None:
        self.failed -= gpus
        if d >= 0:
            self.failed_in[d] -= gpus
        self.give(d, gpus)

    # ------------------------------------------------------------------ capacity
    def add_domains(self, new_online: int) -> None:
        """Bring domains online.online .. new_online-1 into service, all free."""
        g = self.gpus_per_domain
        added = new_online - self.online
        if not self.pooled:
            for d in range(self.online, new_online):
                self.free[d] = g
                self.failed_in[d] = 0
                self._link(d)
        self.capacity += added * g
        self.free_total += added * g
        self.online = new_online

    def remove_domains(self, new_online: int) -> int:
        """Take the top domains out; callers evict their jobs first. Returns the failed GPUs dropped."""
        g = self.gpus_per_domain
        removed = self.online - new_online
        dropped_failed = 0
        if self.pooled:
            self.free_total -= removed * g
        else:
            for d in range(new_online, self.online):
                self._unlink(d)
                self.free_total -= self.free[d]
                dropped_failed += self.failed_in[d]
                self.failed -= self.failed_in[d]
                self.free[d] = 0
                self.failed_in[d] = 0
                self.gen[d] += 1
        self.capacity -= removed * g
        self.online = new_online
        return dropped_failed

    # ------------------------------------------------------------------ queries
    def best_level(self, gpus: int) -> int:
        """Smallest free level >= gpus among partly free or whole domains; 0 when none."""
        m = self.mask >> gpus
        if m == 0:
            return 0
        return gpus + ((m & -m).bit_length() - 1)

    def check(self) -> None:
        """Recompute every index from `free` and compare (tests)."""
        if self.pooled:
            assert 0 <= self.free_total <= self.capacity
            return
        g = self.gpus_per_domain
        assert self.capacity == self.online * g
        assert self.free_total == sum(self.free[: self.online])
        assert self.failed == sum(self.failed_in[: self.online])
        for d in range(self.online):
            f = self.free[d]
            assert 0 <= f <= g
            used = sum(self.occupants[d].values())
            assert f + used + self.failed_in[d] == g, (d, f, used, self.failed_in[d])
            if f == g:
                assert d in self.whole[d // self.domains_per_block]
            elif f > 0:
                assert d in self.levels[f]
        assert self.whole_total == sum(len(s) for s in self.whole) == sum(self.whole_count)
