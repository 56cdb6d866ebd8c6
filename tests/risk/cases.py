"""Small one-year scenarios whose fluid figures can be worked out by hand (tests/risk)."""

from __future__ import annotations

from gpufleet.scenario.load import LoadedScenario, load_scenario_text

HOURS = 8760.0  # 2026 has 365 days
GPUS = 720  # 10 NVL72 domains per cluster


def two_contracts(
    first: str = "billing: {model: reserved}",
    second: str | None = None,
    streams: str = "  - stream: {name: jobs, team: research, synthetic: {source: philly, fleet_share: 0.25}}",
    policies: str = "",
) -> LoadedScenario:
    """Contract k-a ($2, 720 GPUs on c-a, aws) for 2026; with `second`, k-b ($3, 720 GPUs on c-b, azure)."""
    b_cluster = "  - {name: c-b, site: bb, product: azure/nd-gb200-v6, blocks: 1, domains_per_block: 10}"
    b_contract = f"""\
  - name: k-b
    provider: azure
    clusters: [c-b]
    term: {{start: 2026-01-01, end: 2026-12-31}}
    price_per_gpu_hour_usd: 3.0
    {second}
"""
    text = f"""\
name: fluid-case
horizon: {{start: 2026-01-01, end: 2026-12-31}}
providers: [aws, azure]
sites:
  - {{name: aa, provider: aws, region: r1, power_mw: 100, pue: 1.0}}
  - {{name: bb, provider: azure, region: r2, power_mw: 100, pue: 1.0}}
clusters:
  - {{name: c-a, site: aa, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 10}}
{b_cluster if second is not None else ""}
contracts:
  - name: k-a
    provider: aws
    clusters: [c-a]
    term: {{start: 2026-01-01, end: 2026-12-31}}
    price_per_gpu_hour_usd: 2.0
    {first}
{b_contract if second is not None else ""}
teams:
  - {{name: research, quota_share: 0.5, priority_class: research}}
  - {{name: batch, quota_share: 0.5, priority_class: best-effort}}
workloads:
{streams}
policies:
  failures: {{enabled: false}}
{policies}
"""
    return load_scenario_text(text, "fluid-case.yaml")
