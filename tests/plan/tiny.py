"""A one-year, two-provider scenario small enough to solve by hand (plan and aggregate tests)."""

from __future__ import annotations

from gpufleet.scenario.load import LoadedScenario, load_scenario_text

HOURS = 8760.0  # 2026 has 365 days


def tiny(
    billing: str = "{model: reserved}",
    commitment: str = "",
    power_mw: float = 100.0,
    plan_extra: str = "",
    workloads: str = "",
    option: str = "{name: more, provider: azure, site: bb-1, product: azure/nd-gb200-v6, "
    "price_per_gpu_hour_usd: 3.0, max_domains: 20, term_months: 12, start_every_months: 12}",
) -> LoadedScenario:
    """Existing: 10 domains (720 GPUs) of aws at $2 for 2026. Option: up to 20 domains at azure, $3."""
    text = f"""\
name: tiny
horizon: {{start: 2026-01-01, end: 2026-12-31}}
providers: [aws, azure]
sites:
  - {{name: aa-1, provider: aws, region: r1, power_mw: 100, pue: 1.0}}
  - {{name: bb-1, provider: azure, region: r2, power_mw: {power_mw}, pue: 1.0}}
clusters:
  - {{name: c-aa, site: aa-1, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 10}}
contracts:
  - name: k-aa
    provider: aws
    clusters: [c-aa]
    term: {{start: 2026-01-01, end: 2026-12-31}}
    price_per_gpu_hour_usd: 2.0
    billing: {billing}
{commitment}
{workloads}
plan:
  discount_rate_per_year: 0.0
  options:
    - {option}
{plan_extra}
"""
    return load_scenario_text(text, "tiny.yaml")
