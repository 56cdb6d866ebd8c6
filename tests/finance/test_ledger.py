"""Ledger: take-or-pay accrual by days and true-ups, hand-computed; the spend invariant under random usage."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpufleet.finance.ledger import anniversary, build_ledger, contract_years
from gpufleet.scenario import LoadedScenario, load_scenario_text
from gpufleet.tables import SCHEMAS, check_table, empty_table

GPUS = 720  # 10 NVL72 domains
BASE = """
name: finance-case
horizon: {{start: {h0}, end: {h1}, step: 1d}}
providers: [aws]
sites:
  - {{name: s1, provider: aws, region: us-east-1, power_mw: 50, pue: 1.2{power}}}
  - {{name: s2, provider: aws, region: us-east-dallas-lz, power_mw: 20, pue: 1.2}}
clusters:
  - {{name: c1, site: s1, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 10}}
  - {{name: pool, site: s2, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 2}}
contracts:
  - name: tp
    provider: aws
    clusters: [c1]
    term: {{start: {t0}, end: {t1}}}
    price_per_gpu_hour_usd: {price}
    commitment: {commitment}
{ramp}  - {{name: blocks, provider: aws, kind: capacity-block, clusters: [pool], cap_gpus: 144}}
"""


def scenario(
    h0: str,
    h1: str,
    t0: str,
    t1: str,
    commitment: str,
    price: float = 4.0,
    ramp: str = "",
    power: str = "",
) -> LoadedScenario:
    text = BASE.format(h0=h0, h1=h1, t0=t0, t1=t1, commitment=commitment, price=price, ramp=ramp, power=power)
    return load_scenario_text(text, "finance-case.yaml")


def usage_frame(rows: list[tuple[str, str, float, float]], overflow: float = 0.0) -> pd.DataFrame:
    """(contract, month timestamp, available, used) -> a `usage` table."""
    return check_table(
        "usage",
        pd.DataFrame(
            {
                "contract": [r[0] for r in rows],
                "provider": "aws",
                "month": pd.to_datetime([r[1] for r in rows], utc=True),
                "gpu_hours_available": [r[2] for r in rows],
                "gpu_hours_used": [r[3] for r in rows],
                "gpu_hours_used_inference": [r[3] for r in rows],
                "gpu_hours_used_training": 0.0,
                "gpu_hours_used_research": 0.0,
                "gpu_hours_used_best_effort": 0.0,
                "overflow_gpu_hours": overflow,
            }
        ),
    )


def monthly(
    contract: str, first: dt.date, last: dt.date, per_day_avail: float, util: float
) -> list[tuple[str, str, float, float]]:
    """One usage row per month from `first` to `last` (inclusive), dated at the month or at `first`."""
    out = []
    day = first
    while day <= last:
        end = min(dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1]), last)
        days = (end - day).days + 1
        out.append((contract, day.isoformat(), per_day_avail * days, per_day_avail * days * util))
        day = end + dt.timedelta(days=1)
    return out


def test_contract_years_follow_anniversaries_and_leap_days() -> None:
    years = contract_years(dt.date(2023, 3, 15), dt.date(2025, 3, 14))
    assert [(y.start, y.end, y.full_days) for y in years] == [
        (dt.date(2023, 3, 15), dt.date(2024, 3, 14), 366),  # holds 29 February 2024
        (dt.date(2024, 3, 15), dt.date(2025, 3, 14), 365),
    ]
    assert anniversary(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    short = contract_years(dt.date(2025, 1, 1), dt.date(2026, 6, 30))
    assert short[-1].end == dt.date(2026, 6, 30) and short[-1].full_days == 365


def test_take_or_pay_used_60_percent_pays_the_whole_minimum() -> None:
    full_year_usd = GPUS * 8760 * 4.0  # capacity used around the clock for a year at $4
    loaded = scenario(
        "2025-01-01", "2025-12-31", "2025-01-01", "2025-12-31", f"{{min_per_year_usd: {full_year_usd}}}"
    )
    usage = usage_frame(monthly("tp", dt.date(2025, 1, 1), dt.date(2025, 12, 31), GPUS * 24.0, 0.6))
    ledger = build_ledger(usage, empty_table("series"), loaded.scenario, loaded.catalog)
    tp = ledger[ledger["contract"] == "tp"].reset_index(drop=True)
    assert len(tp) == 12 and set(tp["contract_year"]) == {1}
    assert tp["usage_cost_usd"].sum() == pytest.approx(0.6 * full_year_usd)
    assert tp["cost_due_usd"].sum() == pytest.approx(full_year_usd)  # 100% of the minimum
    assert tp["true_up_usd"].iloc[:11].sum() == 0.0
    assert tp["true_up_usd"].iloc[11] == pytest.approx(0.4 * full_year_usd)
    assert tp["unused_commitment_usd"].sum() == pytest.approx(0.4 * full_year_usd)
    assert tp["minimum_accrued_usd"].iloc[0] == pytest.approx(full_year_usd * 31 / 365)
    assert tp["minimum_accrued_usd"].sum() == pytest.approx(full_year_usd)
    assert np.allclose(tp["utilization_pct"], 60.0)
    assert np.allclose(tp["waste_pct"], 40.0)  # 40% of each month's accrued minimum went unused
    # effective rate: the year's cost due over the hours used = $4 / 0.6
    assert tp["cost_due_usd"].sum() / tp["gpu_hours_used"].sum() == pytest.approx(4.0 / 0.6)
    assert tp["usd_per_used_gpu_hour"].iloc[0] == pytest.approx(4.0)


def test_mid_month_term_start_spanning_a_366_day_contract_year() -> None:
    minimum = 36_600_000.0  # $100,000 a day in the 366-day first year
    loaded = scenario(
        "2023-03-01", "2025-03-31", "2023-03-15", "2025-03-14", f"{{min_per_year_usd: {minimum}}}", price=2.0
    )
    # 1,000 GPU-hours used a day in the term ($2,000 a day); the first month is dated at the term's start
    usage = usage_frame(monthly("tp", dt.date(2023, 3, 15), dt.date(2025, 3, 14), 2000.0, 0.5))
    assert usage["month"].iloc[0] == pd.Timestamp("2023-03-15", tz="UTC")
    ledger = build_ledger(usage, empty_table("series"), loaded.scenario, loaded.catalog)
    tp = ledger[ledger["contract"] == "tp"].reset_index(drop=True)

    def row(month: str, year: int) -> pd.Series:
        sel = tp[(tp["month"] == pd.Timestamp(month, tz="UTC")) & (tp["contract_year"] == year)]
        assert len(sel) == 1, (month, year)
        return sel.iloc[0]

    assert tp["month"].iloc[0] == pd.Timestamp("2023-03-01", tz="UTC")  # rows dated at the month
    first = row("2023-03-01", 1)
    assert first["minimum_accrued_usd"] == pytest.approx(17 * 100_000.0)  # 15..31 March
    assert first["usage_cost_usd"] == pytest.approx(17 * 2000.0)
    assert row("2024-02-01", 1)["minimum_accrued_usd"] == pytest.approx(29 * 100_000.0)
    end_y1, start_y2 = row("2024-03-01", 1), row("2024-03-01", 2)  # March 2024 split at the anniversary
    assert end_y1["minimum_accrued_usd"] == pytest.approx(14 * 100_000.0)
    assert start_y2["minimum_accrued_usd"] == pytest.approx(17 * minimum / 365)
    assert end_y1["usage_cost_usd"] == pytest.approx(14 * 2000.0)
    assert start_y2["usage_cost_usd"] == pytest.approx(17 * 2000.0)
    assert end_y1["true_up_usd"] == pytest.approx(minimum - 366 * 2000.0)
    assert start_y2["true_up_usd"] == 0.0
    last = row("2025-03-01", 2)
    assert last["true_up_usd"] == pytest.approx(minimum - 365 * 2000.0)
    y1 = tp[tp["contract_year"] == 1]
    assert y1["minimum_accrued_usd"].sum() == pytest.approx(minimum)
    assert y1["cost_due_usd"].sum() == pytest.approx(minimum)
    assert tp["true_up_usd"].gt(0).sum() == 2
    assert (tp["contract_year"] > 0).all()  # no activity outside the term: no rows there


def test_total_commitment_without_yearly_minimum_pays_its_shortfall_at_term_end() -> None:
    total = 10_000_000.0
    ramp = "    ramp:\n      - {date: 2025-01-01, domains: 5}\n      - {date: 2026-01-01, domains: 10}\n"
    loaded = scenario(
        "2025-01-01",
        "2026-12-31",
        "2025-01-01",
        "2026-12-31",
        f"{{total_usd: {total}}}",
        price=2.0,
        ramp=ramp,
    )
    rows = monthly("tp", dt.date(2025, 1, 1), dt.date(2025, 12, 31), 360 * 24.0, 0.5)
    rows += monthly("tp", dt.date(2026, 1, 1), dt.date(2026, 12, 31), 720 * 24.0, 0.5)
    usage = usage_frame(rows)
    ledger = build_ledger(usage, empty_table("series"), loaded.scenario, loaded.catalog)
    tp = ledger[ledger["contract"] == "tp"].reset_index(drop=True)
    usage_cost = (360 * 8760 + 720 * 8760) * 0.5 * 2.0
    assert tp["usage_cost_usd"].sum() == pytest.approx(usage_cost)
    assert tp["minimum_accrued_usd"].sum() == 0.0  # no yearly minimum
    assert tp["true_up_usd"].iloc[:-1].sum() == 0.0  # nothing due before the term's end
    assert tp["true_up_usd"].iloc[-1] == pytest.approx(total - usage_cost)
    assert tp["cost_due_usd"].sum() == pytest.approx(total)
    # plan: the total spread in proportion to capacity online (5 domains in 2025, 10 in 2026)
    cap = 5 * 72 * 24 * 365 + 10 * 72 * 24 * 365
    assert tp["plan_usd"].sum() == pytest.approx(total)
    assert tp["plan_usd"].iloc[0] == pytest.approx(total * 5 * 72 * 24 * 31 / cap)
    year_2025 = tp[tp["month"].dt.year == 2025]
    assert year_2025["plan_usd"].sum() == pytest.approx(total / 3)
    # projected shortfall at the first month: the term run at 50% utilization
    assert tp["projected_shortfall_usd"].iloc[0] == pytest.approx(total - usage_cost, rel=1e-9)


def test_without_take_or_pay_unused_is_booked_but_not_billed() -> None:
    minimum = GPUS * 8760 * 4.0
    loaded = scenario(
        "2025-01-01",
        "2025-12-31",
        "2025-01-01",
        "2025-12-31",
        f"{{min_per_year_usd: {minimum}, take_or_pay: false}}",
    )
    usage = usage_frame(monthly("tp", dt.date(2025, 1, 1), dt.date(2025, 12, 31), GPUS * 24.0, 0.25))
    tp = build_ledger(usage, empty_table("series"), loaded.scenario, loaded.catalog)
    tp = tp[tp["contract"] == "tp"]
    assert tp["true_up_usd"].sum() == 0.0
    assert tp["cost_due_usd"].sum() == pytest.approx(0.25 * minimum)
    assert tp["unused_commitment_usd"].sum() == pytest.approx(0.75 * minimum)


def test_overflow_on_capacity_blocks_at_their_own_price_and_coverage() -> None:
    loaded = scenario("2025-01-01", "2025-01-31", "2025-01-01", "2025-12-31", "{min_per_year_usd: 1.0e6}")
    usage = usage_frame(
        [("tp", "2025-01-01", 10_000.0, 900.0), ("blocks", "2025-01-01", 144 * 24 * 31.0, 100.0)]
    )
    usage.loc[usage["contract"] == "blocks", "overflow_gpu_hours"] = 100.0
    ledger = build_ledger(usage, empty_table("series"), loaded.scenario, loaded.catalog)
    blocks = ledger[ledger["contract"] == "blocks"].iloc[0]
    list_price = loaded.catalog.list_price("aws/u-p6e-gb200x72")
    assert list_price is not None
    assert blocks["kind"] == "capacity-block"
    assert blocks["overflow_gpu_hours"] == pytest.approx(100.0)
    assert blocks["overflow_cost_usd"] == pytest.approx(100.0 * list_price.usd_per_gpu_hour)
    assert blocks["cost_due_usd"] == pytest.approx(100.0 * list_price.usd_per_gpu_hour)
    assert blocks["minimum_accrued_usd"] == 0.0 and blocks["plan_usd"] == 0.0
    tp = ledger[ledger["contract"] == "tp"].iloc[0]
    assert tp["overflow_cost_usd"] == 0.0  # a committed contract carries no overflow price
    assert tp["coverage_pct"] == pytest.approx(100.0 * 900.0 / 1000.0)
    assert blocks["coverage_pct"] == pytest.approx(90.0)


def series_frame(loaded: LoadedScenario, alloc: dict[dt.date, float], power_mw: float) -> pd.DataFrame:
    days = pd.date_range(loaded.scenario.horizon.start, loaded.scenario.horizon.end, freq="D", tz="UTC")
    n = len(days)
    a = np.array([alloc.get(d.date(), 0.0) for d in days])
    return check_table(
        "series",
        pd.DataFrame(
            {
                "time": days,
                "cluster": "c1",
                "provider": "aws",
                "contract": "tp",
                "capacity_gpus": np.full(n, float(GPUS)),
                "allocated_inference_gpus": a,
                "allocated_training_gpus": 0.0,
                "allocated_research_gpus": 0.0,
                "allocated_best_effort_gpus": 0.0,
                "failed_gpus": 0.0,
                "idle_gpus": GPUS - a,
                "stranded_gpus": 0.0,
                "power_mw": np.full(n, power_mw),
            }
        ),
    )


def test_power_cost_from_series_and_usage_split_by_series_allocation() -> None:
    loaded = scenario(
        "2025-02-01",
        "2025-03-31",
        "2024-03-15",
        "2026-03-14",
        "{min_per_year_usd: 1.0e6}",
        power=", power_usd_per_kwh: 0.05",
    )
    # all of March's allocation falls on 1..14 March, before the contract-year boundary on 15 March
    alloc = {dt.date(2025, 3, d): 100.0 for d in range(1, 15)}
    series = series_frame(loaded, alloc, power_mw=2.0)
    usage = usage_frame([("tp", "2025-02-01", 1000.0, 0.0), ("tp", "2025-03-01", 1000.0, 700.0)])
    ledger = build_ledger(usage, series, loaded.scenario, loaded.catalog)
    tp = ledger[ledger["contract"] == "tp"].reset_index(drop=True)
    assert list(tp["contract_year"]) == [1, 1, 2]
    assert tp["gpu_hours_used"].tolist() == pytest.approx([0.0, 700.0, 0.0])
    assert tp["gpu_hours_used"].sum() == pytest.approx(usage["gpu_hours_used"].sum())
    per_day = 2.0 * 1000 * 24 * 0.05  # MW x kWh/MWh x hours x $/kWh
    assert tp["power_cost_usd"].tolist() == pytest.approx([28 * per_day, 14 * per_day, 17 * per_day])
    assert ledger[ledger["contract"] == "blocks"]["power_cost_usd"].sum() == 0.0
    # the year-1 true-up lands on 14 March 2025
    assert tp["true_up_usd"].iloc[1] > 0 and tp["true_up_usd"].iloc[2] == 0.0


def test_ledger_columns_match_the_schema() -> None:
    loaded = scenario("2025-01-01", "2025-03-31", "2025-01-01", "2025-12-31", "{total_usd: 1.0e6}")
    ledger = build_ledger(empty_table("usage"), empty_table("series"), loaded.scenario, loaded.catalog)
    assert list(ledger.columns) == list(SCHEMAS["ledger"])
    assert {str(t) for t in ledger.dtypes} <= {"string", "int64", "float64", "datetime64[us, UTC]"}
    assert (ledger["month"].dt.day == 1).all() and (ledger["month"].dt.hour == 0).all()


# ------------------------------------------------------------------- the spend invariant, random usage


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    utils=st.lists(st.floats(0.0, 1.6), min_size=37, max_size=37),
    start_day=st.integers(1, 28),
)
def test_spend_invariant_per_contract_year_under_random_usage(utils: list[float], start_day: int) -> None:
    minimum = 20_000_000.0  # 79% of a full year at $4: random usage falls on both sides of it
    t0 = dt.date(2024, 1, start_day)
    t1 = anniversary(t0, 3) - dt.timedelta(days=1)
    loaded = scenario(
        "2024-01-01", "2027-01-31", t0.isoformat(), t1.isoformat(), f"{{min_per_year_usd: {minimum}}}"
    )
    rows = monthly("tp", t0, t1, GPUS * 24.0, 1.0)
    rows = [(c, m, a, a * u) for (c, m, a, _), u in zip(rows, utils, strict=False)]
    usage = usage_frame(rows)
    ledger = build_ledger(usage, empty_table("series"), loaded.scenario, loaded.catalog)
    tp = ledger[ledger["contract"] == "tp"]
    assert tp["gpu_hours_used"].sum() == pytest.approx(usage["gpu_hours_used"].sum())
    for year in contract_years(t0, t1):
        y = tp[tp["contract_year"] == year.index]
        usage_cost = y["gpu_hours_used"].sum() * 4.0
        assert y["usage_cost_usd"].sum() == pytest.approx(usage_cost)
        assert y["cost_due_usd"].sum() == pytest.approx(max(usage_cost, minimum))
        assert y["cost_due_usd"].sum() >= minimum * (1 - 1e-12)
        assert y["unused_commitment_usd"].sum() == pytest.approx(max(0.0, minimum - usage_cost), abs=1e-6)
