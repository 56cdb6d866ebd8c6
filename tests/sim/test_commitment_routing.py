"""Commitment-first vs the old price order through the real pipeline: a cheap contract on track and a
dear take-or-pay contract whose yearly minimum only the new rule honours (figures from the ledger)."""

from __future__ import annotations

import pandas as pd
import pytest

from gpufleet.assemble import simulate
from gpufleet.finance import build_ledger
from gpufleet.scenario import load_scenario_text

GPUS = 720  # 10 NVL72 domains per cluster; the one training run fills one cluster
HOURS = 365 * 24
CHEAP, DEAR = 3.0, 4.0
CHEAP_MIN = 0.1 * GPUS * HOURS * CHEAP  # 10% of its capacity: on track with little work
DEAR_MIN = 0.5 * GPUS * HOURS * DEAR  # half its capacity: missed unless the run goes there
TEXT = f"""
name: two-contracts
horizon: {{start: 2027-01-01, end: 2027-12-31, step: 1d}}
providers: [aws]
sites:
  - {{name: s1, provider: aws, region: us-east-1, power_mw: 50, pue: 1.2}}
clusters:
  - {{name: cheap-1, site: s1, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 10}}
  - {{name: dear-1, site: s1, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 10}}
contracts:
  - name: cheap
    provider: aws
    clusters: [cheap-1]
    term: {{start: 2027-01-01, end: 2027-12-31}}
    price_per_gpu_hour_usd: {CHEAP}
    commitment: {{min_per_year_usd: {CHEAP_MIN}, take_or_pay: true}}
    billing: {{model: spend-commitment}}
  - name: dear
    provider: aws
    clusters: [dear-1]
    term: {{start: 2027-01-01, end: 2027-12-31}}
    price_per_gpu_hour_usd: {DEAR}
    commitment: {{min_per_year_usd: {DEAR_MIN}, take_or_pay: true}}
    billing: {{model: spend-commitment}}
teams:
  - {{name: frontier, quota_share: 1.0, priority_class: training}}
workloads:
  - training_run:
      name: big
      team: frontier
      params: 2.0e12
      tokens: 400.0e12
      accelerator: gb200
      gpus: {GPUS}
      earliest_start: 2027-01-01
policies:
  provider_choice: {{name: POLICY}}
  failures: {{enabled: false}}
"""


def ledger(policy: str) -> pd.DataFrame:
    loaded = load_scenario_text(TEXT.replace("POLICY", policy), "two-contracts.yaml")
    t = simulate(loaded.scenario, loaded.catalog, 1, {})
    return (
        build_ledger(t.usage, t.series, loaded.scenario, loaded.catalog)
        .groupby("contract")
        .sum(numeric_only=True)
    )


def test_price_order_loses_the_dear_minimum_and_commitment_first_does_not() -> None:
    old, new = ledger("price-order"), ledger("commitment-first")
    # the run outlasts the year: whichever cluster it starts on is busy all year
    busy = GPUS * HOURS
    # price order: the cheaper take-or-pay contract draws the run, the dear minimum is paid unused
    assert old.loc["cheap", "gpu_hours_used"] == pytest.approx(busy)
    assert old.loc["dear", "gpu_hours_used"] == 0.0
    assert old.loc["dear", "unused_commitment_usd"] == pytest.approx(DEAR_MIN)
    assert old["cost_due_usd"].sum() == pytest.approx(busy * CHEAP + DEAR_MIN)
    # commitment-first: the dear contract needs 50% of its capacity, the cheap one 10%: the run goes dear
    assert new.loc["dear", "gpu_hours_used"] == pytest.approx(busy)
    assert new.loc["cheap", "unused_commitment_usd"] == pytest.approx(CHEAP_MIN)
    assert new["cost_due_usd"].sum() == pytest.approx(busy * DEAR + CHEAP_MIN)
    # the same work for less money and less commitment left unused
    assert new["gpu_hours_used"].sum() == pytest.approx(old["gpu_hours_used"].sum())
    assert new["cost_due_usd"].sum() < old["cost_due_usd"].sum()
    assert new["unused_commitment_usd"].sum() < old["unused_commitment_usd"].sum()
