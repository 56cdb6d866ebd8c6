"""The contract ledger: per contract and month, cost at the contract price, take-or-pay accrual and
true-ups, burn against plan, power cost and the FinOps figures (DESIGN.md, "Take-or-pay").

The engine's `usage` table is monthly; the ledger works day by day so that contract years (which run
from the term's start, anniversaries) can end mid-month. Each usage month is spread over its days in
proportion to the GPUs the engine allocated on that contract (from `series`), else to the capacity
online (the ramp), else evenly; monthly totals are kept exactly. A month in which a contract year ends
gives two ledger rows, one per contract year, both dated at the first instant of the month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gpufleet.catalog import Catalog
from gpufleet.finance.billing import Days, bill
from gpufleet.finance.years import ContractYear, anniversary, contract_years
from gpufleet.fleet.usable import usable_contracts
from gpufleet.scenario.ramp import ResolvedContract, Steps, resolve_contracts
from gpufleet.scenario.schema import Commitment, Contract, Horizon, Scenario
from gpufleet.tables import CLASS_COLUMN, check_table, empty_table
from gpufleet.units import HOURS_PER_DAY, SECONDS_PER_DAY, SECONDS_PER_HOUR

__all__ = ["ContractYear", "anniversary", "build_ledger", "commitment_from", "contract_years"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

KWH_PER_MWH = 1_000.0
FLOP_PER_PFLOP = 1e15


@dataclass(frozen=True)
class ContractDays:
    """A contract's days over the span that covers both its term and the horizon (day 0: `first`)."""

    first: int  # ordinal of day 0
    days: int
    in_horizon: npt.NDArray[np.bool_]
    in_term: npt.NDArray[np.bool_]
    year: Ints  # contract year per day, 0 outside the term
    cap_hours: Floats  # GPU-hours online by the delivered ramp (whole term, beyond the horizon too)
    plan_hours: Floats  # GPU-hours online by the planned (unslipped) ramp


@dataclass(frozen=True)
class _Axis(ContractDays):
    """A contract's days with what the run did on them (the ledger's input)."""

    avail: Floats  # from `usage`, horizon days only
    used: Floats
    overflow: Floats
    power_usd: Floats

    def index(self, day: dt.date) -> int:
        return day.toordinal() - self.first


def _ramp_gpus(rc: ResolvedContract, first: int, days: int, steps: Steps | None = None) -> Floats:
    """GPUs online per day by the delivered ramp (or the `steps` given)."""
    out = np.zeros(days)
    for date, domains in sorted(rc.ramp if steps is None else steps):
        out[max(date.toordinal() - first, 0) :] = domains * rc.product.gpus_per_domain
    return out


def _series_daily(
    series: pd.DataFrame, scenario: Scenario, h_first: int, h_days: int
) -> dict[str, tuple[Floats, Floats, Floats]]:
    """Per contract, over the horizon's days: allocated GPU-hours, capacity GPU-hours, power $."""
    if series.empty:
        return {}
    step_s = scenario.horizon.step_s
    origin = pd.Timestamp(dt.date.fromordinal(h_first), tz="UTC")
    secs = (pd.to_datetime(series["time"], utc=True) - origin).dt.total_seconds().to_numpy(np.float64)
    hours = np.clip(np.minimum(secs + step_s, h_days * SECONDS_PER_DAY) - np.maximum(secs, 0.0), 0.0, None)
    hours /= SECONDS_PER_HOUR
    alloc_cols = [f"allocated_{c}_gpus" for c in CLASS_COLUMN.values()]
    alloc = series[alloc_cols].to_numpy(np.float64).sum(axis=1) * hours
    cap = series["capacity_gpus"].to_numpy(np.float64) * hours
    site_of = {c.name: c.site for c in scenario.clusters}
    kwh_price = {s.name: s.power_usd_per_kwh or 0.0 for s in scenario.sites}
    price = np.array([kwh_price.get(site_of.get(str(c), ""), 0.0) for c in series["cluster"]])
    power = series["power_mw"].to_numpy(np.float64) * KWH_PER_MWH * hours * price
    span = max(1, round(step_s / SECONDS_PER_DAY))  # a step longer than a day is spread over its days
    day0 = np.floor(secs / SECONDS_PER_DAY).astype(np.int64)
    contract = series["contract"].astype("string").fillna("").to_numpy(str)
    out: dict[str, tuple[Floats, Floats, Floats]] = {}
    for name in np.unique(contract):
        if not name:
            continue  # no contract holds the cluster: no capacity, nothing to bill
        sel = contract == name
        idx = (day0[sel][:, None] + np.arange(span)[None, :]).ravel()
        ok = (idx >= 0) & (idx < h_days)
        arrays = []
        for values in (alloc[sel], cap[sel], power[sel]):
            acc = np.zeros(h_days)
            np.add.at(acc, idx[ok], np.repeat(values / span, span)[ok])
            arrays.append(acc)
        out[str(name)] = (arrays[0], arrays[1], arrays[2])
    return out


def _spread(total: float, weights: list[Floats], mask: npt.NDArray[np.bool_]) -> Floats:
    """`total` over the days in `mask`, in proportion to the first weights that are positive there."""
    out = np.zeros(mask.shape)
    if total == 0.0 or not mask.any():
        return out
    for w in weights:
        wm = np.where(mask, w, 0.0)
        s = wm.sum()
        if s > 0:
            return np.asarray(total * wm / s, dtype=np.float64)
    return np.where(mask, total / mask.sum(), 0.0)


def contract_days(rc: ResolvedContract, horizon: Horizon) -> ContractDays:
    """The day axis the ledger bills a contract on (risk/fluid_bill.py bills on the same one)."""
    h0, h1 = horizon.start.toordinal(), horizon.end.toordinal()
    t0, t1 = rc.start.toordinal(), rc.end.toordinal()
    first, last = min(h0, t0), max(h1, t1)
    days = last - first + 1
    ords = np.arange(first, last + 1)
    in_t = (ords >= t0) & (ords <= t1)
    year = np.zeros(days, dtype=np.int64)
    for cy in contract_years(rc.start, rc.end):
        year[cy.start.toordinal() - first : cy.end.toordinal() - first + 1] = cy.index
    cap_hours = np.where(in_t, _ramp_gpus(rc, first, days) * HOURS_PER_DAY, 0.0)
    plan_hours = np.where(in_t, _ramp_gpus(rc, first, days, rc.planned_ramp or rc.ramp) * HOURS_PER_DAY, 0.0)
    return ContractDays(first, days, (ords >= h0) & (ords <= h1), in_t, year, cap_hours, plan_hours)


def _axis(
    rc: ResolvedContract,
    scenario: Scenario,
    usage: pd.DataFrame,
    daily: tuple[Floats, Floats, Floats] | None,
) -> _Axis:
    span = contract_days(rc, scenario.horizon)
    first, days, in_h, in_t = span.first, span.days, span.in_horizon, span.in_term
    cap_hours = span.cap_hours
    h0, h1 = scenario.horizon.start.toordinal(), scenario.horizon.end.toordinal()
    ords = np.arange(first, first + days)
    alloc_h = np.zeros(days)
    cap_s = np.zeros(days)
    power = np.zeros(days)
    if daily is not None:
        a, c, p = daily
        sl = slice(h0 - first, h1 - first + 1)
        alloc_h[sl], cap_s[sl], power[sl] = a, c, p
    avail = np.zeros(days)
    used = np.zeros(days)
    over = np.zeros(days)
    month_of = np.array([dt.date.fromordinal(int(o)).replace(day=1).toordinal() for o in ords])
    months = pd.to_datetime(usage["month"], utc=True)
    columns = [
        usage[c].to_numpy(np.float64) for c in ("gpu_hours_available", "gpu_hours_used", "overflow_gpu_hours")
    ]
    for i, (year_no, month_no) in enumerate(zip(months.dt.year, months.dt.month, strict=True)):
        in_month = (month_of == dt.date(int(year_no), int(month_no), 1).toordinal()) & in_h
        where = in_month & in_t if (in_month & in_t).any() else in_month
        avail += _spread(float(columns[0][i]), [cap_s, cap_hours], where)
        used += _spread(float(columns[1][i]), [alloc_h, cap_s, cap_hours], where)
        over += _spread(float(columns[2][i]), [alloc_h, cap_s, cap_hours], where)
    return _Axis(first, days, in_h, in_t, span.year, cap_hours, span.plan_hours, avail, used, over, power)


def commitment_total(commitment: Commitment, years: list[ContractYear]) -> float:
    """The commitment over the whole term: total_usd, else the yearly minimums (prorated for a short year)."""
    if commitment.total_usd is not None:
        return commitment.total_usd
    assert commitment.min_per_year_usd is not None
    return sum(commitment.min_per_year_usd * ((y.end - y.start).days + 1) / y.full_days for y in years)


def _safe_div(a: Floats, b: Floats, scale: float = 1.0) -> Floats:
    out = np.full(a.shape, np.nan)
    np.divide(a * scale, b, out=out, where=np.abs(b) > 1e-12)  # below: nothing to divide by
    return out


def _payments(contract: Contract) -> list[tuple[dt.date, float]]:
    """A prepaid contract's payments as (date, amount)."""
    if contract.billing is None or contract.commitment is None or contract.commitment.total_usd is None:
        return []
    total = contract.commitment.total_usd
    return [
        (p.date, p.amount_usd if p.amount_usd is not None else (p.share or 0.0) * total)
        for p in contract.billing.payments
    ]


def _contract_rows(
    rc: ResolvedContract, contract: Contract, ax: _Axis, peak_flops: float, usable: bool = True
) -> pd.DataFrame:
    price = rc.price_per_gpu_hour_usd
    on_commitment = rc.kind == "committed"
    commitment = contract.commitment if on_commitment else None
    years = contract_years(rc.start, rc.end)
    h_last = int(np.flatnonzero(ax.in_horizon)[-1])
    # days the ledger covers: the horizon's days inside the term, and any outside it with activity
    active = (ax.used > 0) | (ax.avail > 0) | (ax.overflow > 0) | (ax.power_usd > 0)
    keep = ax.in_horizon & (ax.in_term | active)
    # the ledger starts at the horizon: a year or term begun before it counts from there
    counted = keep | (~ax.in_horizon & (np.arange(ax.days) > h_last) & ax.in_term)

    if on_commitment:
        used = ax.used
        over = np.zeros(ax.days)
    else:
        used = np.maximum(ax.used, ax.overflow)  # on-demand capacity: every hour used is overflow
        over = used
    usage_cost = np.where(keep, used * price, 0.0)
    days = Days(
        first=ax.first,
        keep=keep,
        counted=counted,
        in_term=ax.in_term,
        h_last=h_last,
        t0=ax.index(rc.start),
        t1=ax.index(rc.end),
        delivered=ax.cap_hours,
        planned=ax.plan_hours,
        usage_cost=usage_cost,
    )
    daily = bill(rc.billing, price, commitment, contract.billing, years, days, _payments(contract))
    projected = np.full(ax.days, np.nan)
    if daily.minimum_term is not None and daily.plan_term is not None and commitment is not None:
        projected = _projected_shortfall(
            rc, commitment, ax, years, usage_cost, daily.true_up, daily.minimum_term, daily.plan_term
        )

    frame = pd.DataFrame(
        {
            "ord": np.arange(ax.first, ax.first + ax.days),
            "contract_year": ax.year,
            "gpu_hours_available": ax.avail,
            "gpu_hours_used": used,
            "overflow_gpu_hours": over,
            "usage_cost_usd": usage_cost,
            "billed_usage_usd": daily.billed_usage,
            "minimum_accrued_usd": daily.minimum,
            "true_up_usd": daily.true_up,
            "accrued_extra_usd": daily.accrued_extra,
            "prepaid_usd": daily.prepaid,
            "unused_commitment_usd": daily.unused,
            "structural_unused_usd": daily.structural,
            "delivered_value_usd": daily.delivered_value,
            "undelivered_usd": daily.undelivered,
            "credit_usd": daily.credit,
            "plan_usd": daily.plan,
            "power_cost_usd": ax.power_usd,
            "projected_shortfall_usd": projected,
        }
    )[keep]
    if frame.empty:
        return frame
    dates = [dt.date.fromordinal(int(o)) for o in frame["ord"]]
    frame["month"] = pd.to_datetime([d.replace(day=1) for d in dates], utc=True)
    sums = [c for c in frame.columns if c not in ("ord", "month", "contract_year", "projected_shortfall_usd")]
    agg = {c: "sum" for c in sums} | {"projected_shortfall_usd": "last", "ord": "min"}
    rows = frame.groupby(["month", "contract_year"]).agg(agg).reset_index().sort_values("ord")
    rows["contract"] = rc.name
    rows["provider"] = rc.provider
    rows["kind"] = rc.kind
    rows["billing"] = rc.billing
    rows["price_per_gpu_hour_usd"] = price
    rows["overflow_cost_usd"] = rows["overflow_gpu_hours"] * price
    usage_row = rows["usage_cost_usd"].to_numpy(np.float64)
    accrued = rows["billed_usage_usd"].to_numpy(np.float64) + rows["accrued_extra_usd"].to_numpy(np.float64)
    if rc.billing == "reserved":
        # a month bills the capacity delivered, priced, used or not: the idle part is the true-up
        idle = np.maximum(rows["delivered_value_usd"].to_numpy(np.float64) - usage_row, 0.0)
        rows["true_up_usd"] = idle
        rows["unused_commitment_usd"] = rows["unused_commitment_usd"] + idle
        accrued = accrued + idle
    charge = (rows["billed_usage_usd"] + rows["true_up_usd"] + rows["prepaid_usd"]).to_numpy(np.float64)
    # service credits come off the month's bill, never beyond it
    credit = np.minimum(rows["credit_usd"].to_numpy(np.float64), np.maximum(charge, 0.0))
    rows["service_credit_usd"] = credit
    rows["cost_due_usd"] = charge - credit
    rows["accrued_cost_usd"] = accrued - credit
    rows["demand_unused_usd"] = rows["unused_commitment_usd"] - rows["structural_unused_usd"]
    spent = (rows["cost_due_usd"] + rows["power_cost_usd"]).to_numpy()
    used_h = rows["gpu_hours_used"].to_numpy()
    rows["utilization_pct"] = _safe_div(used_h, rows["gpu_hours_available"].to_numpy(), 100.0)
    basis = np.where(rows["minimum_accrued_usd"] > 0, rows["minimum_accrued_usd"], rows["plan_usd"])
    rows["waste_pct"] = _safe_div(np.maximum(basis - usage_row, 0.0), basis, 100.0)
    rows["usd_per_used_gpu_hour"] = _safe_div(spent, used_h)
    rows["usd_per_pflop"] = _safe_div(spent, used_h * SECONDS_PER_HOUR * peak_flops / FLOP_PER_PFLOP)
    rows["committed_used"] = used_h if on_commitment else 0.0
    # capacity no workload may use is reported as such: not online, not idle, outside utilization
    rows["gpu_hours_unusable"] = 0.0 if usable else rows["gpu_hours_available"]
    if not usable:
        rows["gpu_hours_available"] = 0.0
        rows["utilization_pct"] = np.nan
    return rows


def _projected_shortfall(
    rc: ResolvedContract,
    commitment: Commitment,
    ax: _Axis,
    years: list[ContractYear],
    usage_cost: Floats,
    true_up: Floats,
    accrual: Floats,
    plan: Floats,
) -> Floats:
    """Per day: commitment still to be paid for unused capacity by term end, if the rest of the term
    runs at the utilization seen so far in the month (the month to date; cumulative if none yet;
    NaN before any capacity is online).

    Defined on the ledger's days; the row takes the value on its last day.
    """
    price = rc.price_per_gpu_hour_usd
    cum_used = np.cumsum(ax.used)
    cum_avail = np.cumsum(ax.avail)
    cum_cost = np.cumsum(usage_cost)
    cum_paid = np.cumsum(usage_cost + true_up)
    cum_cap = np.cumsum(ax.cap_hours * price)
    cum_accr = np.cumsum(accrual)
    cum_plan = np.cumsum(plan)

    def rng(cum: Floats, a: int, b: int) -> float:  # sum over days a..b inclusive
        if b < a:
            return 0.0
        return float(cum[b] - (cum[a - 1] if a > 0 else 0.0))

    t0, t1 = ax.index(rc.start), ax.index(rc.end)
    h_idx = np.flatnonzero(ax.in_horizon)
    out = np.zeros(ax.days)
    month_start = 0
    for e in h_idx:
        day = dt.date.fromordinal(ax.first + int(e))
        if day.day == 1 or e == h_idx[0]:
            month_start = int(e)
        if e > t1 or e < t0:
            continue
        avail = rng(cum_avail, month_start, int(e))
        if avail <= 0:
            avail = rng(cum_avail, max(t0, int(h_idx[0])), int(e))
            used = rng(cum_used, max(t0, int(h_idx[0])), int(e))
        else:
            used = rng(cum_used, month_start, int(e))
        if avail <= 0:
            out[e] = np.nan  # no capacity seen yet: no run rate to project from
            continue
        util = used / avail
        short = 0.0
        future_year_short = 0.0
        if commitment.min_per_year_usd is not None:
            for y in years:
                a, b = ax.index(y.start), ax.index(y.end)
                if b <= e:
                    continue  # trued up already
                minimum = rng(cum_accr, a, b)
                expected = rng(cum_cost, a, int(e)) + util * rng(cum_cap, max(a, int(e) + 1), b)
                future_year_short += max(0.0, minimum - expected)
        short += future_year_short
        if commitment.total_usd is not None and t1 > e:
            total = rng(cum_plan, 0, ax.days - 1) - rng(cum_plan, 0, int(h_idx[0]) - 1)
            expected = rng(cum_paid, t0, int(e)) + util * rng(cum_cap, int(e) + 1, t1) + future_year_short
            short += max(0.0, total - expected)
        out[e] = short
    return out


def build_ledger(
    usage: pd.DataFrame, series: pd.DataFrame, scenario: Scenario, catalog: Catalog
) -> pd.DataFrame:
    """The `ledger` table: one row per contract and month (two where a contract year ends mid-month)."""
    contracts = resolve_contracts(scenario, catalog)
    by_name = {c.name: c for c in scenario.contracts}
    known = {rc.name for rc in contracts}
    unknown = sorted(set(usage["contract"].dropna().astype(str)) - known)
    if unknown:
        raise ValueError(f"usage names contracts the scenario does not have: {', '.join(unknown)}")
    h0 = scenario.horizon.start.toordinal()
    h_days = scenario.horizon.end.toordinal() - h0 + 1
    daily = _series_daily(series, scenario, h0, h_days)
    usable = usable_contracts(scenario)
    parts = []
    for rc in contracts:
        rows_u = usage[usage["contract"].astype(str) == rc.name]
        ax = _axis(rc, scenario, rows_u, daily.get(rc.name))
        peak = catalog.accelerator_of(rc.product.id).peak_flops("bf16")
        rows = _contract_rows(rc, by_name[rc.name], ax, peak, rc.name in usable)
        if not rows.empty:
            parts.append(rows)
    if not parts:
        return empty_table("ledger")
    ledger = pd.concat(parts, ignore_index=True)
    ledger["coverage_pct"] = _coverage(ledger)
    return check_table("ledger", ledger)


def _coverage(ledger: pd.DataFrame) -> Floats:
    """Per row: share of its provider's GPU-hours used that month that ran on committed capacity."""
    g = ledger.groupby(["provider", "month"])
    committed = g["committed_used"].transform("sum").to_numpy(np.float64)
    total = g["gpu_hours_used"].transform("sum").to_numpy(np.float64)
    return _safe_div(committed, total, 100.0)


def commitment_from(
    rc: ResolvedContract, commitment: Commitment, day: dt.date, prorate: bool = True
) -> float:
    """The part of a contract's commitment that falls on or after `day`, in proportion to capacity
    delivered; pro-rated (unless told not to) to capacity delivered against the planned ramp."""
    years = contract_years(rc.start, rc.end)
    total = commitment_total(commitment, years)
    first, days = rc.start.toordinal(), rc.end.toordinal() - rc.start.toordinal() + 1
    cap = _ramp_gpus(rc, first, days)  # delivered: a slipped contract owes from what arrives
    planned = _ramp_gpus(rc, first, days, rc.planned_ramp or rc.ramp)
    if prorate and planned.sum() > 0:
        total *= min(1.0, float(cap.sum() / planned.sum()))
    after = np.arange(first, first + days) >= day.toordinal()
    if cap.sum() > 0:
        return float(total * cap[after].sum() / cap.sum())
    return float(total * after.sum() / days)
