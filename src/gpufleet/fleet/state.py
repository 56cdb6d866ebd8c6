"""Live fleet state per cluster: free GPUs per NVLink domain, whole-free domains per spine block.

Per-cluster lists indexed by domain (free GPUs, the job holding a domain whole), never an object per
GPU; plain lists of small ints, which the compiled engine reads and writes natively. Domains come
online in index order (a contract's ramp fills a cluster from domain 0 up) and leave from the top.
Two indexes keep placement O(1) per decision: a bitmap per level k of the partly free domains with
exactly k free GPUs (bit masks say which levels and which words of a level are non-empty, so the
lowest-index domain of a level is two bit scans away; words of WORD bits stay small ints, which
compiled code handles natively) and `whole[b]`, a stack of block b's completely free domains. A
gang job holding whole domains takes them from the stacks' tails in one slice per block and marks
them (`owner`) in one compiled loop; only partly used domains keep a {job: GPUs} occupant map. A
"pooled" cluster (strict-FIFO mode) tracks only its free GPU count, with no topology.
"""

from __future__ import annotations

from typing import Final, cast

WORD: Final = 62  # bits per bitmap word: a word below 2**62 is a short int in compiled code


def _lowest_bit(x: int) -> int:
    """The index of x's lowest set bit (x > 0)."""
    return (x & -x).bit_length() - 1


class Placement:
    """Where one job's GPUs are: whole domains, and (domain, GPUs) parts of shared domains.

    `chunks` says which tails of which blocks' whole-free stacks `whole` was cut from; it is only
    meaningful until the placement is applied.
    """

    __slots__ = ("chunks", "parts", "whole")

    def __init__(
        self,
        whole: list[int] | None = None,
        parts: list[tuple[int, int]] | None = None,
        chunks: list[tuple[int, int]] | None = None,
    ) -> None:
        self.whole = whole if whole is not None else []
        self.parts = parts if parts is not None else []
        self.chunks = chunks if chunks is not None else []

    def gpus(self, gpus_per_domain: int) -> int:
        return len(self.whole) * gpus_per_domain + sum(x for _, x in self.parts)

    def domains(self) -> list[int]:
        return self.whole + [d for d, _ in self.parts]


class ClusterState:
    """One cluster's domains; mutate only through its methods."""

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
        "level_any",
        "level_mask",
        "level_words",
        "name",
        "occupants",
        "online",
        "owner",
        "pooled",
        "provider",
        "size",
        "top",
        "whole",
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
        # plain lists: compiled code reads and writes their items natively (numpy scalars are slow)
        self.free: list[int] = [0] * n  # free GPUs (failed excluded)
        self.owner: list[int] = [-1] * n  # job holding it whole
        self.failed_in: list[int] = [0] * n  # GPUs out for repair per domain
        self.gen: list[int] = [0] * n  # bumped when a domain leaves, so stale repairs are ignored
        self.occupants: list[dict[int, int]] = [{} for _ in range(n)]  # shared domains: {job: GPUs}
        # partly free domains by free GPUs: level_words[k][w] bit i is domain w * WORD + i;
        # level_any[k] bit w: word w of level k is non-zero; level_mask[k // WORD] bit k % WORD:
        # level k has a domain
        words = (n + WORD - 1) // WORD
        self.level_words: list[list[int]] = [[0] * words for _ in range(gpus_per_domain)]
        self.level_any: list[int] = [0] * gpus_per_domain
        self.level_mask: list[int] = [0] * (gpus_per_domain // WORD + 1)
        self.whole: list[list[int]] = [[] for _ in range(blocks)]  # stacks of whole-free domains
        self.whole_total = 0
        self.top = 0  # the highest level of a partly free domain (0: none), kept for room()
        self.online = 0  # domains online: indices 0 .. online-1
        self.capacity = 0  # GPUs online
        self.free_total = 0
        self.failed = 0

    # ------------------------------------------------------------------ index upkeep
    def _unlink(self, d: int, f: int) -> None:
        g = self.gpus_per_domain
        if f == g:
            stack = self.whole[d // self.domains_per_block]
            if stack[-1] == d:  # placement takes from the top: no search
                stack.pop()
            else:
                stack.remove(d)
            self.whole_total -= 1
        elif f > 0:
            words = self.level_words[f]
            w = d // WORD
            x = words[w] & ~(1 << (d - w * WORD))
            words[w] = x
            if x == 0:
                left = self.level_any[f] & ~(1 << w)
                self.level_any[f] = left
                if left == 0:  # the level is empty now
                    lw = f // WORD
                    self.level_mask[lw] &= ~(1 << (f - lw * WORD))
                    if f == self.top:
                        self.top = self._highest_level()

    def _link(self, d: int, f: int) -> None:
        g = self.gpus_per_domain
        if f == g:
            self.whole[d // self.domains_per_block].append(d)
            self.whole_total += 1
        elif f > 0:
            w = d // WORD
            self.level_words[f][w] |= 1 << (d - w * WORD)
            self.level_any[f] |= 1 << w
            lw = f // WORD
            self.level_mask[lw] |= 1 << (f - lw * WORD)
            if f > self.top:
                self.top = f

    # ------------------------------------------------------------------ single domains
    def take(self, d: int, gpus: int) -> None:
        """Mark gpus of domain d busy (d = -1 in a pooled cluster)."""
        self.free_total -= gpus
        if d < 0:
            return
        f = self.free[d]
        self._unlink(d, f)
        self.free[d] = f - gpus
        self._link(d, f - gpus)

    def give(self, d: int, gpus: int) -> None:
        """Return gpus of domain d to the free pool."""
        self.free_total += gpus
        if d < 0:
            return
        f = self.free[d]
        self._unlink(d, f)
        self.free[d] = f + gpus
        self._link(d, f + gpus)

    # ------------------------------------------------------------------ placements
    def take_all(self, p: Placement, job: int) -> int:
        """Apply a placement: whole domains cut from the stacks' tails in bulk, parts one by one."""
        g = self.gpus_per_domain
        whole = self.whole
        for b, k in p.chunks:
            del whole[b][len(whole[b]) - k :]
        if p.whole:
            self.whole_total -= len(p.whole)
            self._mark(p.whole, 0, job)
        p.chunks = []
        total = len(p.whole) * g
        occ = self.occupants
        for d, x in p.parts:
            total += x
            if d < 0:
                continue
            self.take(d, x)
            self.free_total += x  # take() counted it; the total is settled below
            o = occ[d]
            o[job] = o.get(job, 0) + x
        self.free_total -= total
        return total

    def _mark(self, domains: list[int], free: int, owner: int) -> None:
        """Set free GPUs and owner of whole domains. The values are boxed once, not per domain (a
        job id is a Python int object: compiled code would allocate one for every store)."""
        fr = cast("list[object]", self.free)
        ow = cast("list[object]", self.owner)
        f: object = free
        o: object = owner
        for d in domains:
            fr[d] = f
            ow[d] = o

    def give_all(self, p: Placement, job: int) -> int:
        """Undo a placement: its whole domains go back on their blocks' stacks, its parts back free."""
        g = self.gpus_per_domain
        dpb = self.domains_per_block
        whole = self.whole
        if p.whole:
            for d in p.whole:
                whole[d // dpb].append(d)
            self.whole_total += len(p.whole)
            self._mark(p.whole, g, -1)
        total = len(p.whole) * g
        occ = self.occupants
        for d, x in p.parts:
            total += x
            if d < 0:
                continue
            o = occ[d]
            left = o.get(job, 0) - x
            if left > 0:
                o[job] = left
            else:
                o.pop(job, None)
            self.give(d, x)
            self.free_total -= x
        self.free_total += total
        return total

    def jobs_on(self, d: int) -> dict[int, int]:
        """{job: GPUs} on domain d (whole holder or sharers)."""
        o = self.owner[d]
        if o >= 0:
            return {o: self.gpus_per_domain}
        return self.occupants[d]

    # ------------------------------------------------------------------ failures
    def fail(self, d: int, gpus: int) -> None:
        """Take free GPUs of domain d out of service for repair."""
        self.take(d, gpus)
        self.failed += gpus
        if d >= 0:
            self.failed_in[d] += gpus

    def fail_held(self, p: Placement, job: int, at: int, node: int) -> tuple[int, int]:
        """A node of a running job fails: its GPUs go from the job to repair. Returns (domain, GPUs)."""
        g = self.gpus_per_domain
        if p.whole and (at % (len(p.whole) + len(p.parts)) < len(p.whole) or not p.parts):
            i = at % len(p.whole)
            d = p.whole[i]
            p.whole[i] = p.whole[-1]
            p.whole.pop()
            self.owner[d] = -1
            bad = min(node, g)
            self.occupants[d][job] = g - bad
            if g > bad:
                p.parts.append((d, g - bad))
        else:
            i = at % len(p.parts)
            d, x = p.parts[i]
            bad = min(node, x)
            if x > bad:
                p.parts[i] = (d, x - bad)
            else:
                p.parts[i] = p.parts[-1]
                p.parts.pop()
            if d >= 0:  # the job may hold other parts of the same domain: count down, not forget
                o = self.occupants[d]
                left = o.get(job, 0) - bad
                if left > 0:
                    o[job] = left
                else:
                    o.pop(job, None)
        if d >= 0 and not self.occupants[d].get(job, 1):
            del self.occupants[d][job]
        self.failed += bad
        if d >= 0:
            self.failed_in[d] += bad
        return d, bad

    def repair(self, d: int, gpus: int) -> None:
        self.failed -= gpus
        if d >= 0:
            self.failed_in[d] -= gpus
        self.give(d, gpus)

    # ------------------------------------------------------------------ capacity
    def add_domains(self, new_online: int) -> None:
        """Bring domains online .. new_online-1 into service, all free."""
        g = self.gpus_per_domain
        added = new_online - self.online
        if not self.pooled and added > 0:
            # new domains go to the bottom of their block's stack, lowest index on top among them, so
            # that placement prefers low domains, the last to leave when capacity shrinks
            dpb = self.domains_per_block
            for b in range(self.online // dpb, (new_online - 1) // dpb + 1):
                lo, hi = max(self.online, b * dpb), min(new_online, (b + 1) * dpb)
                self.whole[b][0:0] = range(hi - 1, lo - 1, -1)
            self.free[self.online : new_online] = [g] * added
            self.owner[self.online : new_online] = [-1] * added
            for d in range(self.online, new_online):
                self.failed_in[d] = 0
            self.whole_total += added
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
                f = self.free[d]
                self._unlink(d, f)
                self.free_total -= f
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
        g = self.gpus_per_domain
        if gpus < g:
            masks = self.level_mask
            first = gpus // WORD
            m = masks[first] >> (gpus - first * WORD)
            if m:
                return gpus + _lowest_bit(m)
            for w in range(first + 1, len(masks)):
                m = masks[w]
                if m:
                    return w * WORD + _lowest_bit(m)
        if gpus <= g and self.whole_total > 0:
            return g
        return 0

    def lowest_at(self, level: int) -> int:
        """The lowest-index partly free domain with `level` free GPUs; -1 if none. (Among equally
        full domains the lowest goes first: the high ones are the first to leave when capacity
        shrinks, as for whole domains.)"""
        a = self.level_any[level]
        if a == 0:
            return -1
        w = _lowest_bit(a)
        return w * WORD + _lowest_bit(self.level_words[level][w])

    def _highest_level(self) -> int:
        """The highest level that has a partly free domain; 0 when none."""
        masks = self.level_mask
        for w in range(len(masks) - 1, -1, -1):
            m = masks[w]
            if m:
                return w * WORD + m.bit_length() - 1
        return 0

    def room(self) -> int:
        """The most GPUs one job could be placed on now, an upper bound: every whole-free domain
        plus the fullest partly free one (a job takes whole domains and at most one shared domain
        for its remainder); free GPUs in a pooled cluster. A job needing more cannot be placed."""
        if self.pooled:
            return self.free_total
        return self.whole_total * self.gpus_per_domain + self.top

    def whole_count(self, b: int) -> int:
        return len(self.whole[b])

    def check(self) -> None:
        """Recompute every index from `free` and the holders and compare (tests)."""
        if self.pooled:
            assert 0 <= self.free_total <= self.capacity
            return
        g = self.gpus_per_domain
        assert self.capacity == self.online * g
        assert self.free_total == sum(self.free[: self.online])
        assert self.failed == sum(self.failed_in[: self.online])
        partly = [d for d in range(self.online) if 0 < self.free[d] < g]
        assert self.top == max((self.free[d] for d in partly), default=0)
        listed = [
            (k, w * WORD + i)
            for k in range(g)
            for w, x in enumerate(self.level_words[k])
            for i in range(WORD)
            if x >> i & 1
        ]
        assert sorted(listed) == sorted((self.free[d], d) for d in partly)
        for k in range(g):
            words = self.level_words[k]
            assert self.level_any[k] == sum(1 << w for w, x in enumerate(words) if x)
            assert bool(self.level_mask[k // WORD] >> (k % WORD) & 1) == any(words)
        stacked = {d for s in self.whole for d in s}
        assert len(stacked) == sum(len(s) for s in self.whole) == self.whole_total
        for d in range(self.online):
            f = self.free[d]
            assert 0 <= f <= g
            used = g if self.owner[d] >= 0 else sum(self.occupants[d].values())
            if self.owner[d] >= 0:
                assert not self.occupants[d]
            assert f + used + self.failed_in[d] == g, (d, f, used, self.failed_in[d])
            assert (f == g) == (d in stacked)
