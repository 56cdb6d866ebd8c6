"""Billing models day by day: what each contract's model bills (cash) and recognizes (accrued cost),
its minimums, true-ups and the split of unused commitment into structural and demand parts.

docs/finance.md, "Billing models", states the arithmetic; this module is that text in numpy. Every
array runs over one contract's day axis (the horizon and the term together). Row-level parts that
need a month's totals (a reserved contract's idle charge, service credits) are left to the ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gpufleet.finance.years import ContractYear
from gpufleet.scenario.schema import Billing, Commitment

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

USAGE_ONLY = ("on-demand", "capacity-block")


@dataclass(frozen=True)
class Days:
    """One contract's day axis, as billing needs it."""

    first: int  # ordinal of day 0
    keep: Bools  # days the ledger has rows for (the horizon's days in the term, and active ones outside)
    counted: Bools  # days whose commitment counts: the ledger's days and the term's days after the horizon
    in_term: Bools
    h_last: int  # index of the horizon's last day
    t0: int  # index of the term's first day
    t1: int  # index of the term's last day
    delivered: Floats  # GPU-hours a day by the delivered ramp (term days)
    planned: Floats  # GPU-hours a day by the planned (unslipped) ramp (term days)
    usage_cost: Floats  # GPU-hours used x price, on the ledger's days

    def index(self, day: dt.date) -> int:
        return day.toordinal() - self.first


def _zeros(n: int) -> Floats:
    return np.zeros(n, dtype=np.float64)


@dataclass
class DailyBill:
    """Per day: what the billing model makes of the contract (row-level parts: see the ledger)."""

    minimum: Floats  # the commitment accrued that day (reserved: the capacity delivered, priced)
    plan: Floats  # the commitment spread over the term in proportion to capacity delivered
    billed_usage: Floats  # usage billed as it happens (prepaid: only usage beyond the prepayment)
    true_up: Floats  # cash billed for commitment not used (spend-commitment)
    accrued_extra: Floats  # cost recognized beyond billed usage (commitment shortfall, prepayment)
    prepaid: Floats  # stated payments (a pro-rating refund at term end is negative)
    unused: Floats  # unused commitment booked (at period ends; reserved: the structural part only)
    structural: Floats  # the part of `unused` that the delivered capacity could never have used
    delivered_value: Floats  # capacity delivered x price
    undelivered: Floats  # capacity planned but not delivered x price (what a slip or event moved)
    credit: Floats  # service credits before the month's cap
    minimum_term: Floats | None = None  # spend-commitment: `minimum` on every counted day (projections)
    plan_term: Floats | None = None  # spend-commitment: `plan` over the whole term (projections)
    periods: list[tuple[int, int, float]] = field(default_factory=list)  # (first, last, minimum) owed


def _factor(d: Days, a: int, b: int, prorate: bool) -> float:
    """min(1, delivered / planned GPU-hours over days a..b) when pro-rating, else 1."""
    planned = float(d.planned[a : b + 1].sum())
    if not prorate or planned <= 0:
        return 1.0
    return min(1.0, float(d.delivered[a : b + 1].sum()) / planned)


def _weights(primary: Floats, fallback: Floats, mask: Bools) -> Floats:
    """`primary` normalized over `mask`, else `fallback`, else even."""
    for w in (primary, fallback):
        wm = np.where(mask, w, 0.0)
        s = float(wm.sum())
        if s > 0:
            return np.asarray(wm / s, dtype=np.float64)
    n = int(mask.sum())
    return np.where(mask, 1.0 / n, 0.0) if n else np.zeros(mask.shape)


def shortfall_to_date(instalments: Floats, paid: Floats, a: int, b: int) -> Floats:
    """Per day a..b: the change in max(0, instalments to date - paid to date); sums to the period's
    shortfall max(0, instalments - paid). A negative day is usage drawing earlier instalments down."""
    out = _zeros(len(paid))
    short = np.maximum(np.cumsum(instalments[a : b + 1]) - np.cumsum(paid[a : b + 1]), 0.0)
    out[a : b + 1] = np.diff(short, prepend=0.0)
    return out


def bill(
    model: str,
    price: float,
    commitment: Commitment | None,
    billing: Billing | None,
    years: list[ContractYear],
    d: Days,
    payments: list[tuple[dt.date, float]],
) -> DailyBill:
    """The contract's daily bill under its billing model (payments: prepaid, as dated amounts)."""
    n = len(d.keep)
    prorate = billing.prorate_minimum if billing is not None else True
    rate = billing.service_credit_rate if billing is not None else 0.0
    delivered_value = np.where(d.keep, d.delivered * price, 0.0)
    gap = np.where(d.keep, np.maximum(d.planned - d.delivered, 0.0) * price, 0.0)
    out = DailyBill(
        minimum=_zeros(n),
        plan=_zeros(n),
        billed_usage=d.usage_cost.copy(),
        true_up=_zeros(n),
        accrued_extra=_zeros(n),
        prepaid=_zeros(n),
        unused=_zeros(n),
        structural=_zeros(n),
        delivered_value=delivered_value,
        undelivered=gap,
        credit=_zeros(n) if model in USAGE_ONLY else rate * gap,
    )
    if model in USAGE_ONLY:
        return out
    if model == "reserved":
        _reserved(out, price, commitment, d)
    elif commitment is not None and model == "prepaid":
        _prepaid(out, commitment, d, payments, prorate)
    elif commitment is not None:
        timing = billing.true_up if billing is not None else "period-end"
        _spend_commitment(out, price, commitment, years, d, prorate, timing)
    return out


def _reserved(out: DailyBill, price: float, commitment: Commitment | None, d: Days) -> None:
    """Due each day: the capacity delivered, priced (the ledger bills max(that, usage) per month).
    Structural: a commitment above the planned capacity priced, spread over the term like it."""
    out.minimum = out.delivered_value.copy()
    out.plan = out.delivered_value.copy()
    if commitment is None or commitment.total_usd is None:
        return
    planned_total = float(d.planned[d.in_term].sum()) * price
    short = max(0.0, commitment.total_usd - planned_total)
    w = _weights(d.planned, d.delivered, d.in_term)
    out.structural = np.where(d.counted & d.keep, short * w, 0.0)
    out.unused = out.structural.copy()


def _prepaid(
    out: DailyBill, commitment: Commitment, d: Days, payments: list[tuple[dt.date, float]], prorate: bool
) -> None:
    """Stated payments on their dates; recognized over the term in proportion to capacity delivered;
    usage beyond the (pro-rated) prepayment billed at the price; a pro-rating refund at term end."""
    assert commitment.total_usd is not None
    total = commitment.total_usd
    owed = total * _factor(d, d.t0, d.t1, prorate)
    for day, amount in payments:
        i = d.index(day)
        if 0 <= i < len(d.keep) and d.keep[i]:
            out.prepaid[i] += amount
    if owed < total and d.t1 <= d.h_last:
        out.prepaid[d.t1] -= total - owed
    w = _weights(d.delivered, d.planned, d.in_term)
    recognized = owed * w
    over = np.maximum(np.cumsum(d.usage_cost) - owed, 0.0)
    out.billed_usage = np.diff(over, prepend=0.0)
    out.minimum = np.where(d.keep, recognized, 0.0)
    out.plan = out.minimum.copy()
    out.accrued_extra = out.minimum.copy()
    if d.t1 <= d.h_last:
        counted = d.counted & d.in_term
        basis = float(recognized[counted].sum())
        short = max(0.0, basis - float(d.usage_cost[counted].sum()))
        out.unused[d.t1] += short
        out.structural[d.t1] += min(short, max(0.0, basis - float(out.delivered_value[counted].sum())))
        out.periods.append((d.t0, d.t1, basis))


def _spend_commitment(
    out: DailyBill,
    price: float,
    commitment: Commitment,
    years: list[ContractYear],
    d: Days,
    prorate: bool,
    timing: str,
) -> None:
    """Usage billed as it happens; each minimum (contract year, term) trued up at the period's end or
    in monthly instalments in proportion to capacity delivered (see shortfall_to_date)."""
    n = len(d.keep)
    accrual = _zeros(n)
    if commitment.min_per_year_usd is not None:
        for y in years:
            a, b = d.index(y.start), d.index(y.end)
            accrual[a : b + 1] = commitment.min_per_year_usd / y.full_days * _factor(d, a, b, prorate)
    if commitment.total_usd is not None:
        term_total = commitment.total_usd * _factor(d, d.t0, d.t1, prorate)
    else:
        term_total = float(accrual.sum())
    plan = term_total * _weights(d.delivered, d.planned, d.in_term)
    accrual = np.where(d.counted, accrual, 0.0)
    out.minimum = np.where(d.keep, accrual, 0.0)
    cap_value = np.where(d.counted, d.delivered * price, 0.0)
    pay = commitment.take_or_pay
    paid_cash = d.usage_cost.copy()
    paid_accr = d.usage_cost.copy()
    struct_years = 0.0
    for y in years if commitment.min_per_year_usd is not None else []:
        a, b = d.index(y.start), d.index(y.end)
        minimum = float(accrual[a : b + 1].sum())
        inst = minimum * _weights(d.delivered, accrual, _between(n, a, b) & d.counted)
        if pay:
            path = shortfall_to_date(inst, d.usage_cost, a, b)
            out.accrued_extra += path
            paid_accr += path
        if b > d.h_last or not d.keep[a : b + 1].any():
            if pay and timing == "monthly":
                out.true_up += shortfall_to_date(inst, d.usage_cost, a, b)
            continue  # not due inside the run, or wholly before it
        short = max(0.0, minimum - float(d.usage_cost[a : b + 1].sum()))
        struct = min(short, max(0.0, minimum - float(cap_value[a : b + 1].sum())))
        struct_years += struct
        out.unused[b] += short
        out.structural[b] += struct
        out.periods.append((a, b, minimum))
        if pay:
            if timing == "monthly":
                out.true_up += shortfall_to_date(inst, d.usage_cost, a, b)
            else:
                out.true_up[b] += short
    paid_cash += out.true_up
    if commitment.total_usd is not None:
        counted = d.counted & d.in_term
        owed = float(plan[counted].sum())  # the part of the total that falls inside the ledger
        inst = np.where(counted, plan, 0.0)
        if pay:
            path = shortfall_to_date(inst, paid_accr, d.t0, d.t1)
            out.accrued_extra += path
        if d.t1 <= d.h_last:
            short = max(0.0, owed - float(paid_cash[d.in_term].sum()))
            reach = float(cap_value[counted].sum()) + struct_years
            out.unused[d.t1] += short
            out.structural[d.t1] += min(short, max(0.0, owed - reach))
            out.periods.append((d.t0, d.t1, owed))
        if pay and timing == "monthly":
            out.true_up += shortfall_to_date(inst, paid_cash, d.t0, d.t1)
        elif pay and d.t1 <= d.h_last:
            out.true_up[d.t1] += max(0.0, owed - float(paid_cash[d.in_term].sum()))
    out.minimum_term = accrual
    out.plan_term = plan
    out.plan = np.where(d.keep, plan, 0.0)
    out.accrued_extra = np.where(d.keep, out.accrued_extra, 0.0)
    out.true_up = np.where(d.keep, out.true_up, 0.0)


def _between(n: int, a: int, b: int) -> Bools:
    mask = np.zeros(n, dtype=bool)
    mask[a : b + 1] = True
    return mask


def describe_billing(model: str, price: float, commitment: Commitment | None, billing: Billing | None) -> str:
    """One line saying how a contract bills, with its figures (for `gpufleet validate`)."""
    p = f"${price:,.2f}/GPU-h"
    if model in USAGE_ONLY:
        return f"{model}: GPU-hours used x {p}, nothing else"
    credit = billing.service_credit_rate if billing is not None else 0.0
    late = f"; {credit:.0%} of the price credited per GPU-hour planned but not delivered" if credit else ""
    if model == "reserved":
        return f"reserved: each month GPUs delivered x hours x {p}, used or not; undelivered not billed{late}"
    prorate = billing.prorate_minimum if billing is not None else True
    pro = (
        "pro-rated to capacity delivered vs the planned ramp"
        if prorate
        else "not pro-rated for late delivery"
    )
    if model == "prepaid":
        pays = ", ".join(
            f"{p_.date}: " + (f"${p_.amount_usd:,.0f}" if p_.amount_usd is not None else f"{p_.share:.0%}")
            for p_ in (billing.payments if billing is not None else [])
        )
        return f"prepaid: payments {pays}; recognized over the term by capacity delivered; {pro}{late}"
    parts = []
    if commitment is not None and commitment.min_per_year_usd is not None:
        parts.append(f"${commitment.min_per_year_usd:,.0f} per contract year")
    if commitment is not None and commitment.total_usd is not None:
        parts.append(f"${commitment.total_usd:,.0f} over the term")
    timing = billing.true_up if billing is not None else "period-end"
    when = (
        "at each period's end" if timing == "period-end" else "monthly, in proportion to capacity delivered"
    )
    minimum = (" and ".join(parts) + f", {pro}, shortfall billed {when}") if parts else "no minimum"
    return f"spend-commitment: GPU-hours used x {p} as they happen; minimum {minimum}{late}"
