"""Usage to date per contract and period, for a provider ranking that needs it (commitment-first).

The allocation change log already records every change; once a day (sim/capacity.py's DAY handler)
the records since the last time are integrated per cluster (numpy, amortized O(1) per change) and
priced to the contract holding the cluster that day. `states` gives each contract's commitment left
in its current contract year or term and its priced capacity left there.
"""

from __future__ import annotations

import numpy as np

from gpufleet.sched.commitment import ContractState
from gpufleet.sim.record import ChangeLog
from gpufleet.sim.spec import FleetSpec
from gpufleet.units import HOURS_PER_DAY, NCLASS, SECONDS_PER_DAY, SECONDS_PER_HOUR


class UsageBook:
    """Per contract: usage (USD) in the current contract year and in the term, and capacity priced."""

    def __init__(self, fleet: FleetSpec) -> None:
        self.fleet = fleet
        nc, k = len(fleet.clusters), len(fleet.contracts)
        self.days = fleet.days
        price = np.array([c.price_per_gpu_hour_usd for c in fleet.contracts] + [0.0])
        gpd = np.array([c.gpus_per_domain for c in fleet.clusters], dtype=np.float64)
        held = fleet.contract.astype(np.int64) if nc else np.zeros((0, fleet.days), np.int64)
        held = np.where(held < 0, k, held)  # k: no contract
        value = fleet.domains * gpd[:, None] * HOURS_PER_DAY * price[held]  # (clusters, days) USD of capacity
        per = np.zeros((k + 1, fleet.days))
        for c in range(nc):
            np.add.at(per, (held[c], np.arange(fleet.days)), value[c])
        cum = np.concatenate([np.zeros((k + 1, 1)), np.cumsum(per, axis=1)], axis=1)  # (k+1, days+1)
        # plain lists: read a few times a day, cheaper than numpy scalars
        self.cum: list[list[float]] = cum.tolist()
        self.last_day: list[float] = per[:, -1].tolist() if fleet.days else [0.0] * (k + 1)
        self.held: list[list[int]] = held.T.tolist()  # per day: each cluster's contract (k: none)
        self.prices: list[float] = price.tolist()
        self.level = np.zeros(nc)  # GPUs allocated per cluster (all classes)
        self.pos = 0  # change-log records integrated so far
        self.t = 0.0
        self.used_year = [0.0] * k
        self.used_term = [0.0] * k
        self.year_start = [-(10**9)] * k  # first day of the year used_year counts

    def capacity_value(self, k: int, a: int, b: int) -> float:
        """Capacity priced on days a..b (inclusive); days past the horizon at its last day's value."""
        d = self.days
        lo, hi = max(a, 0), min(b + 1, d)
        cum = self.cum[k]
        inside = cum[hi] - cum[lo] if hi > lo else 0.0
        beyond = max(0, b + 1 - max(a, d)) * self.last_day[k]
        return inside + beyond

    def advance(self, log: ChangeLog, ngroup: int, now: float) -> None:
        """Integrate the allocation log (groups: cluster x ngroup + class first) up to now; the
        interval belongs to the day of the last advance (advances come at day starts)."""
        n = len(log)
        dt = now - self.t
        if dt <= 0 and n == self.pos:
            return
        t, g, d = log.since(self.pos)  # the new records only
        self.pos = n
        nc = len(self.level)
        size = nc * ngroup
        # per group, then the class groups of each cluster summed (failed and capacity left out)
        step = np.bincount(g, weights=d, minlength=size).reshape(nc, ngroup)[:, :NCLASS].sum(axis=1)
        late = (
            np.bincount(g, weights=d * (now - t), minlength=size).reshape(nc, ngroup)[:, :NCLASS].sum(axis=1)
        )
        gsec = self.level * dt + late
        self.level += step
        day = min(int(self.t // SECONDS_PER_DAY), self.days - 1)
        self.t = now
        if day < 0 or not nc:
            return
        nk = len(self.used_year)
        prices = self.prices
        for ci, ki in enumerate(self.held[day]):
            if ki < nk:
                usd = float(gsec[ci]) / SECONDS_PER_HOUR * prices[ki]
                self._enter_year(ki, day)
                self.used_year[ki] += usd
                self.used_term[ki] += usd

    def _enter_year(self, k: int, day: int) -> None:
        """Start counting contract k's year afresh when `day` lies in a later contract year."""
        for a, b, _ in self.fleet.contracts[k].years:
            if a <= day <= b:
                if a != self.year_start[k]:
                    self.year_start[k] = a
                    self.used_year[k] = 0.0
                return

    def states(self, today: int) -> list[ContractState]:
        """Each contract's state on `today` (see sched/commitment.py)."""
        out = []
        for k, ct in enumerate(self.fleet.contracts):
            left, cap, end = 0.0, 0.0, ct.end_day
            paid = ct.take_or_pay and ct.billing != "reserved"
            if paid and ct.min_per_year_usd is not None:
                for a, b, full in ct.years:
                    if a <= today <= b:
                        self._enter_year(k, today)
                        minimum = ct.min_per_year_usd / full * (b - max(a, 0) + 1)
                        left, cap, end = minimum - self.used_year[k], self.capacity_value(k, today, b), b
            if paid and ct.total_usd is not None and ct.start_day <= today <= ct.end_day:
                t_left = ct.total_usd - self.used_term[k]
                t_cap = self.capacity_value(k, today, ct.end_day)
                if left <= 0 or (t_left > 0 and t_left * cap > left * t_cap):  # the term needs more
                    left, cap, end = t_left, t_cap, ct.end_day
            out.append(
                ContractState(
                    contract=k,
                    price_per_gpu_hour_usd=ct.price_per_gpu_hour_usd,
                    committed=ct.kind == "committed",
                    reserved=ct.kind == "committed" and ct.billing == "reserved",
                    take_or_pay=ct.take_or_pay,
                    left_usd=max(left, 0.0),
                    capacity_left_usd=cap,
                    period_end_day=end,
                )
            )
        return out
