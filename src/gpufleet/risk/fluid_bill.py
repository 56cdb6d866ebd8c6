"""Monthly usage billed by the ledger's own day-by-day arithmetic (finance/billing.bill), without pandas.

The fluid model bills thousands of allocations; `build_ledger` spends most of a second per call on
frames. This module keeps what does not change between calls for one contract (its day axis, the
days of each month, the spread of a month's usage over its days: in proportion to capacity online,
as the ledger spreads a `usage` table given no series) and per call runs only `bill`, then the
ledger's row-level steps (a reserved contract's idle charge, service credits capped by the row's
charge). tests/risk/test_fluid_bill.py checks the results against `build_ledger` on random usage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gpufleet.aggregate.months import Months
from gpufleet.finance.billing import Days, bill
from gpufleet.finance.ledger import _payments, contract_days  # the ledger's own readings of a contract
from gpufleet.finance.years import ContractYear, contract_years
from gpufleet.scenario.ramp import ResolvedContract
from gpufleet.scenario.schema import Contract, Scenario

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class MonthlyBill:
    """One contract's bill per month of the horizon."""

    cost_due: Floats  # cash out
    unused: Floats  # unused commitment booked
    usage_cost: Floats  # GPU-hours used x price


def _sums(index: Ints, weights: Floats, minlength: int) -> Floats:
    return np.asarray(np.bincount(index, weights=weights, minlength=minlength), dtype=np.float64)


class ContractBiller:
    """One contract's day axis, built once; `bill` turns GPU-hours used per month into its bill."""

    def __init__(self, rc: ResolvedContract, contract: Contract, scenario: Scenario, months: Months) -> None:
        self.rc = rc
        self.contract = contract
        self.months = months
        span = contract_days(rc, scenario.horizon)
        first, n, in_h, in_t = span.first, span.days, span.in_horizon, span.in_term
        self.delivered, self.planned = span.cap_hours, span.plan_hours
        self.years: list[ContractYear] = contract_years(rc.start, rc.end)
        year = span.year
        t0, t1, h1 = rc.start.toordinal(), rc.end.toordinal(), scenario.horizon.end.toordinal()
        h_last = h1 - first
        keep = in_h & in_t
        counted = keep | (~in_h & (np.arange(n) > h_last) & in_t)
        self.first, self.n, self.keep = first, n, keep
        self.days_args = (first, keep, counted, in_t, h_last, t0 - first, t1 - first)
        # each horizon day's month; a month's usage spread over its term days by capacity online
        # (evenly over them without capacity; over the whole month when none of it is in the term)
        month = np.full(n, -1, dtype=np.int64)
        for m in range(months.count):
            month[months.first[m].toordinal() - first : months.last[m].toordinal() - first + 1] = m
        on = month >= 0
        mc = months.count
        idx = month[on]
        term_days = np.bincount(idx, weights=in_t[on].astype(np.float64), minlength=mc)
        use_term = term_days[idx] > 0
        where = np.zeros(n, dtype=bool)
        where[on] = np.where(use_term, in_t[on], True)
        w = np.where(where, self.delivered, 0.0)
        total = np.bincount(month[where], weights=w[where], minlength=mc)
        even = np.bincount(month[where], minlength=mc).astype(np.float64)
        weight = np.zeros(n)
        sel = np.flatnonzero(where)
        mw = month[sel]
        weight[sel] = np.where(
            total[mw] > 0, w[sel] / np.where(total[mw] > 0, total[mw], 1.0), 1.0 / even[mw]
        )
        self.month, self.weight = month, weight
        # ledger rows: (month, contract year) on kept days
        key = np.where(keep, month * 1000 + year, -1)
        rows, inverse = np.unique(key[keep], return_inverse=True)
        self.row_of_day = np.full(n, -1, dtype=np.int64)
        self.row_of_day[keep] = inverse
        self.row_month = (rows // 1000).astype(np.int64)
        self.nrows = len(rows)
        self.payments = _payments(contract)
        self.reserved = rc.billing == "reserved"

    def capacity_hours(self) -> Floats:
        """GPU-hours delivered per month of the horizon."""
        on = self.month >= 0
        return _sums(self.month[on], self.delivered[on], minlength=self.months.count)

    def bill(self, used: Floats) -> MonthlyBill:
        """The bill of `used` GPU-hours per month (spread over each month's days as the ledger does)."""
        rc = self.rc
        price = rc.price_per_gpu_hour_usd
        on = self.month >= 0
        daily_used = np.zeros(self.n)
        daily_used[on] = used[self.month[on]] * self.weight[on]
        usage_cost = np.where(self.keep, daily_used * price, 0.0)
        first, keep, counted, in_t, h_last, t0, t1 = self.days_args
        days = Days(first, keep, counted, in_t, h_last, t0, t1, self.delivered, self.planned, usage_cost)
        commitment = self.contract.commitment if rc.kind == "committed" else None
        d = bill(rc.billing, price, commitment, self.contract.billing, self.years, days, self.payments)
        r = self.row_of_day[keep]
        k = self.nrows

        def rows(x: Floats) -> Floats:
            return _sums(r, x[keep], minlength=k)

        usage_row = rows(usage_cost)
        true_up = rows(d.true_up)
        unused = rows(d.unused)
        if self.reserved:
            idle = np.maximum(rows(d.delivered_value) - usage_row, 0.0)
            true_up = idle
            unused = unused + idle
        charge = rows(d.billed_usage) + true_up + rows(d.prepaid)
        credit = np.minimum(rows(d.credit), np.maximum(charge, 0.0))
        m = self.months.count
        return MonthlyBill(
            cost_due=_sums(self.row_month, charge - credit, minlength=m),
            unused=_sums(self.row_month, unused, minlength=m),
            usage_cost=_sums(self.row_month, usage_row, minlength=m),
        )
