"""Spend by provider and the portfolio by year: shares, HHI, revenue scenarios, inference margin, cash gap,
funding need and years of revenue to cover the commitments, against hand computations."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from finance.test_ledger import monthly
from gpufleet.finance.ledger import build_ledger
from gpufleet.finance.portfolio import build_portfolio, build_spend, revenue
from gpufleet.scenario import LoadedScenario, load_scenario_text
from gpufleet.tables import SCHEMAS, check_table, empty_table

TEXT = """
name: portfolio-case
horizon: {start: 2025-01-01, end: 2026-12-31, step: 1d}
providers: [aws, azure]
sites:
  - {name: s1, provider: aws, region: us-east-1, power_mw: 50}
  - {name: s2, provider: azure, region: eastus, power_mw: 50}
clusters:
  - {name: c1, site: s1, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 10}
  - {name: c2, site: s2, product: azure/nd-gb200-v6, blocks: 1, domains_per_block: 10}
contracts:
  - name: a
    provider: aws
    clusters: [c1]
    term: {start: 2025-01-01, end: 2026-12-31}
    price_per_gpu_hour_usd: 2.0
    commitment: {total_usd: 20.0e6}
  - name: z
    provider: azure
    clusters: [c2]
    term: {start: 2025-01-01, end: 2026-12-31}
    price_per_gpu_hour_usd: 3.0
    commitment: {min_per_year_usd: 5.0e6}
finance:
  revenue_scenarios:
    flat: {start_usd: 10.0e6, growth_per_year: 0.5}
    tokens: {usd_per_million_tokens: 2.0}
  inference_revenue_share: 0.5
"""
GPUS = 720


@pytest.fixture(scope="module")
def case() -> tuple[LoadedScenario, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    loaded = load_scenario_text(TEXT, "portfolio-case.yaml")
    rows = monthly("a", dt.date(2025, 1, 1), dt.date(2026, 12, 31), GPUS * 24.0, 0.5)
    rows += monthly("z", dt.date(2025, 1, 1), dt.date(2026, 12, 31), GPUS * 24.0, 0.25)
    usage = pd.DataFrame(rows, columns=["contract", "month", "gpu_hours_available", "gpu_hours_used"])
    usage["provider"] = usage["contract"].map({"a": "aws", "z": "azure"})
    usage["month"] = pd.to_datetime(usage["month"], utc=True)
    usage["gpu_hours_used_inference"] = usage["gpu_hours_used"] * 0.4
    for c in ("training", "research", "best_effort"):
        usage[f"gpu_hours_used_{c}"] = usage["gpu_hours_used"] * (0.6 if c == "training" else 0.0)
    usage["overflow_gpu_hours"] = 0.0
    usage = check_table("usage", usage)
    days = pd.date_range("2025-01-01", "2025-12-31", freq="D", tz="UTC")
    inference = check_table(
        "inference",
        pd.DataFrame(
            {
                "service": "chat",
                "region": "us",
                "time": days,
                "demand_tokens_s": 1000.0,
                "served_tokens_s": 1000.0,
                "replicas": 1.0,
                "gpus": 72.0,
            }
        ),
    )
    ledger = build_ledger(usage, empty_table("series"), loaded.scenario, loaded.catalog)
    portfolio = build_portfolio(ledger, inference, loaded.scenario, loaded.catalog, usage=usage)
    return loaded, ledger, usage, portfolio


def hours(year: int) -> float:
    return GPUS * 24.0 * (366 if year % 4 == 0 else 365)


def test_spend_by_provider_shares(
    case: tuple[LoadedScenario, pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, ledger, _, _ = case
    spend = build_spend(ledger)
    assert list(spend.columns) == list(SCHEMAS["spend"])
    s = spend.set_index(["year", "provider"])["spend_usd"]
    aws_2025 = hours(2025) * 0.5 * 2.0  # usage only: the total is due at term end
    azure_2025 = 5.0e6  # 25% of a year at $3 = $4.73M < the $5M minimum
    assert s[(2025, "aws")] == pytest.approx(aws_2025)
    assert s[(2025, "azure")] == pytest.approx(azure_2025)
    assert s[(2026, "aws")] == pytest.approx(20.0e6 - aws_2025)  # usage plus the term-end shortfall
    shares = spend[spend["year"] == 2025].set_index("provider")["share_pct"]
    assert shares["aws"] == pytest.approx(100 * aws_2025 / (aws_2025 + azure_2025))
    assert spend.groupby("year")["share_pct"].sum().to_numpy() == pytest.approx([100.0, 100.0])
    due = spend.set_index(["year", "provider"])["commitment_due_usd"]
    assert due[(2025, "aws")] == pytest.approx(10.0e6)  # the plan: $20M over two equal years
    assert due[(2025, "azure")] + due[(2026, "azure")] == pytest.approx(10.0e6)


def test_portfolio_by_year_and_revenue_scenario(
    case: tuple[LoadedScenario, pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, ledger, _, portfolio = case
    assert list(portfolio.columns) == list(SCHEMAS["portfolio"])
    assert sorted(set(portfolio["scenario"])) == ["flat", "tokens"]
    p = portfolio.set_index(["scenario", "year"])
    spend_y = {y: ledger[ledger["month"].dt.year == y]["cost_due_usd"].sum() for y in (2025, 2026)}
    shares = {y: build_spend(ledger).query("year == @y")["share_pct"].to_numpy() for y in (2025, 2026)}
    for y in (2025, 2026):
        assert p.loc[("flat", y), "spend_usd"] == pytest.approx(spend_y[y])
        assert p.loc[("flat", y), "hhi"] == pytest.approx(float((shares[y] ** 2).sum()))
    assert p.loc[("flat", 2025), "revenue_usd"] == pytest.approx(10.0e6)
    assert p.loc[("flat", 2026), "revenue_usd"] == pytest.approx(15.0e6)
    tokens_2025 = 1000.0 * 86_400 * 365
    assert p.loc[("tokens", 2025), "revenue_usd"] == pytest.approx(tokens_2025 / 1e6 * 2.0)
    assert p.loc[("tokens", 2026), "revenue_usd"] == 0.0
    inference_cost_2025 = hours(2025) * (0.5 * 0.4 * 2.0 + 0.25 * 0.4 * 3.0)
    assert p.loc[("flat", 2025), "inference_cost_usd"] == pytest.approx(inference_cost_2025)
    attributed = 10.0e6 * 0.5
    assert p.loc[("flat", 2025), "inference_gross_margin_pct"] == pytest.approx(
        100 * (attributed - inference_cost_2025) / attributed
    )
    assert np.isnan(p.loc[("tokens", 2026), "inference_gross_margin_pct"])  # no revenue: no margin
    gap_2025 = spend_y[2025] - 10.0e6
    gap_2026 = spend_y[2026] - 15.0e6
    assert p.loc[("flat", 2025), "cash_gap_usd"] == pytest.approx(gap_2025)
    assert p.loc[("flat", 2026), "cumulative_funding_need_usd"] == pytest.approx(
        max(0.0, gap_2025, gap_2025 + gap_2026)
    )
    # after 2025: what the commitments still ask for ($20M + 2 x $5M) less what 2025 paid toward them
    remaining_2025 = (20.0e6 - hours(2025) * 0.5 * 2.0) + (10.0e6 - 5.0e6)
    assert p.loc[("flat", 2025), "years_of_revenue_to_cover"] == pytest.approx(remaining_2025 / 10.0e6)
    assert p.loc[("flat", 2026), "years_of_revenue_to_cover"] == 0.0  # every term ended and was paid


def test_revenue_is_prorated_to_the_part_of_a_year_in_the_horizon() -> None:
    loaded = load_scenario_text(
        TEXT.replace("start: 2025-01-01, end: 2026-12-31, step", "start: 2025-07-01, end: 2026-12-31, step"),
        "p.yaml",
    )
    flat = loaded.scenario.finance.revenue_scenarios["flat"]
    assert revenue(flat, 2025, loaded.scenario, {}) == pytest.approx(10.0e6 * 184 / 365)
    assert revenue(flat, 2026, loaded.scenario, {}) == pytest.approx(15.0e6)
    # years of revenue: the commitments left over the year's revenue at its annual rate ($10M), not over
    # the $5.04M that half a year brings in
    p = build_portfolio(empty_table("ledger"), empty_table("inference"), loaded.scenario, loaded.catalog)
    row = p[(p["scenario"] == "flat") & (p["year"] == 2025)].iloc[0]
    # nothing billed; owed from the horizon's start (1 July 2025, day 182 of a 730-day term at flat
    # capacity): that part of the $20M total, and of the 2025 minimum, and the whole 2026 minimum
    owed = 20.0e6 * 549 / 730 + 5.0e6 * 184 / 365 + 5.0e6
    assert row["years_of_revenue_to_cover"] == pytest.approx(owed / 10.0e6)


def test_use_beyond_a_yearly_minimum_does_not_lower_the_next_years_minimums() -> None:
    from finance.test_ledger import GPUS as TP_GPUS
    from finance.test_ledger import scenario, usage_frame
    from gpufleet.finance.portfolio import remaining_commitments_by_year

    minimum = 10.0e6
    loaded = scenario(
        "2025-01-01", "2027-12-31", "2025-01-01", "2027-12-31", f"{{min_per_year_usd: {minimum}}}"
    )
    # 2025 used around the clock at $4 (2.5x the minimum); 2026 and 2027 not at all
    rows = monthly("tp", dt.date(2025, 1, 1), dt.date(2025, 12, 31), TP_GPUS * 24.0, 1.0)
    rows += monthly("tp", dt.date(2026, 1, 1), dt.date(2027, 12, 31), TP_GPUS * 24.0, 0.0)
    ledger = build_ledger(usage_frame(rows), empty_table("series"), loaded.scenario, loaded.catalog)
    assert ledger[ledger["month"].dt.year == 2025]["cost_due_usd"].sum() == pytest.approx(
        TP_GPUS * 8760 * 4.0
    )
    left = remaining_commitments_by_year(ledger, loaded.scenario, loaded.catalog)
    assert left == pytest.approx({2025: 2 * minimum, 2026: minimum, 2027: 0.0})
