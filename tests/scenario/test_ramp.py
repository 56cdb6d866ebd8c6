"""Ramps: ramp-weighted sizing, slips and provider events in the capacity timeline, hand-computed;
billing and event fields refused with file:line errors."""

from __future__ import annotations

import datetime as dt

import pytest

from gpufleet.errors import InputError
from gpufleet.fleet.capacity import build_capacity
from gpufleet.fleet.usable import usable_contracts
from gpufleet.scenario import LoadedScenario, load_scenario_text
from gpufleet.scenario.ramp import add_months, resolve_contracts

TEXT = """
name: ramp-case
horizon: {{start: 2027-01-01, end: 2027-12-31, step: 1d}}
providers: [aws, azure]
sites:
  - {{name: s1, provider: aws, region: us-east-1, power_mw: 50, pue: 1.2}}
  - {{name: s2, provider: azure, region: us-east, power_mw: 50, pue: 1.2}}
clusters:
  - {{name: c1, site: s1, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 20}}
  - {{name: pool, site: s1, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 2}}
  - {{name: c2, site: s2, product: azure/nd-gb200-v6, blocks: 1, domains_per_block: 10}}
contracts:
  - name: k
    provider: aws
    clusters: [c1]
    term: {{start: 2027-01-01, end: 2027-12-31}}
    price_per_gpu_hour_usd: 4.0
{k}
  - {{name: blocks, provider: aws, kind: capacity-block, clusters: [pool], cap_gpus: 144}}
  - name: z
    provider: azure
    clusters: [c2]
    term: {{start: 2027-01-01, end: 2027-12-31}}
    price_per_gpu_hour_usd: 3.0
    ramp: [{{date: 2027-01-01, domains: 10}}]
{top}"""


def load(k: str, top: str = "") -> LoadedScenario:
    return load_scenario_text(TEXT.format(k=k, top=top), "ramp.yaml")


DERIVED = """    commitment: {{total_usd: {total}}}
    ramp:
      derive: commitment
      schedule:
        - {{date: 2027-01-01, share: 0.5}}
        - {{date: 2027-07-01, share: 1.0}}"""


def test_ramp_weighted_sizing_by_hand() -> None:
    """Half the fleet for 181 days (January..June 2027), all of it for 184: ramp-weighted hours =
    (0.5 x 181 + 184) x 24 = 6,588 h. An amount worth 16.5 full domains over those hours sizes 16."""
    hours = (0.5 * 181 + 184) * 24
    assert hours == 6_588.0
    total = 16.5 * hours * 4.0 * 72  # between 16 and 17 full domains
    loaded = load(DERIVED.format(total=total))
    (k, *_) = resolve_contracts(loaded.scenario, loaded.catalog)
    assert k.ramp == ((dt.date(2027, 1, 1), 8), (dt.date(2027, 7, 1), 16))
    # the older rule (term hours) sizes as if full all year: 16.5 x 6,588 / 8,760 = 12.4 -> 12 domains
    term = load(DERIVED.format(total=total) + "\n      sizing: term-hours")
    assert resolve_contracts(term.scenario, term.catalog)[0].ramp[-1][1] == 12


def test_slip_moves_the_delivered_ramp_not_the_planned_one() -> None:
    loaded = load(
        "    ramp:\n      - {date: 2027-01-31, domains: 5}\n      - {date: 2027-06-01, domains: 10}\n"
        "    slip_months: 1"
    )
    k = resolve_contracts(loaded.scenario, loaded.catalog)[0]
    assert k.planned_ramp == ((dt.date(2027, 1, 31), 5), (dt.date(2027, 6, 1), 10))
    assert k.ramp == ((dt.date(2027, 2, 28), 5), (dt.date(2027, 7, 1), 10))  # 31 Jan + 1 month = 28 Feb
    tl = build_capacity(loaded.scenario, loaded.catalog)
    c1 = tl.clusters.index("c1")
    assert tl.domains[c1, tl.day_index(dt.date(2027, 2, 27))] == 0
    assert tl.domains[c1, tl.day_index(dt.date(2027, 2, 28))] == 5
    assert tl.domains[c1, tl.day_index(dt.date(2027, 6, 30))] == 5
    assert tl.domains[c1, tl.day_index(dt.date(2027, 7, 1))] == 10


def test_a_slip_past_the_term_never_delivers() -> None:
    ramp = "    ramp:\n      - {date: 2027-01-01, domains: 5}\n      - {date: 2027-09-01, domains: 10}\n"
    loaded = load(ramp + "    slip_months: 4")
    k = resolve_contracts(loaded.scenario, loaded.catalog)[0]
    assert k.ramp == ((dt.date(2027, 5, 1), 5),)  # 1 January 2028 is after the term


def test_provider_event_withdraws_capacity_from_its_date() -> None:
    top = "provider_events:\n  - {provider: aws, date: 2027-10-01, withdraw_share: 0.5}\n"
    loaded = load("    ramp:\n      - {date: 2027-01-01, domains: 15}", top)
    tl = build_capacity(loaded.scenario, loaded.catalog)
    c1, c2, pool = (tl.clusters.index(n) for n in ("c1", "c2", "pool"))
    assert tl.domains[c1, tl.day_index(dt.date(2027, 9, 30))] == 15
    assert tl.domains[c1, tl.day_index(dt.date(2027, 10, 1))] == 7  # 15 x 0.5, rounded down
    assert tl.domains[pool, tl.day_index(dt.date(2027, 10, 1))] == 1  # every aws contract: 2 -> 1
    assert tl.domains[c2, tl.day_index(dt.date(2027, 10, 1))] == 10  # azure untouched
    only = "provider_events:\n  - {provider: aws, date: 2027-10-01, contracts: [k]}\n"
    tl = build_capacity(
        *(lambda x: (x.scenario, x.catalog))(load("    ramp:\n      - {date: 2027-01-01, domains: 15}", only))
    )
    assert tl.domains[c1, tl.day_index(dt.date(2027, 10, 1))] == 0
    assert tl.domains[pool, tl.day_index(dt.date(2027, 10, 1))] == 2


def test_add_months() -> None:
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 11, 15), 3) == dt.date(2028, 2, 15)
    assert add_months(dt.date(2028, 3, 31), 11) == dt.date(2029, 2, 28)


def test_usable_contracts_follow_overflow_and_allowed_providers() -> None:
    loaded = load("")
    assert usable_contracts(loaded.scenario) == {"k", "z"}  # overflow off: the block pool is unusable
    on = loaded.scenario.model_copy(
        update={"policies": loaded.scenario.policies.model_copy(update={"overflow": True})}
    )
    assert usable_contracts(on) == {"k", "z", "blocks"}


@pytest.mark.parametrize(
    ("k", "top", "line", "words"),
    [
        ("    slip_months: -1", "", 18, "greater than or equal to 0"),
        ("    billing: {model: prepaid}\n    commitment: {total_usd: 1.0e6}", "", 18, "needs payments"),
        (
            "    commitment: {total_usd: 1.0e6}\n    billing:\n      model: prepaid\n      payments:\n"
            "        - {date: 2027-01-01, share: 0.4}",
            "",
            None,
            "add up to",
        ),
        (
            "    commitment: {min_per_year_usd: 1.0e6}\n    billing: {model: reserved}",
            "",
            None,
            "yearly minimum",
        ),
        ("", "provider_events:\n  - {provider: gcp, date: 2027-10-01}\n", 27, "unknown provider 'gcp'"),
        (
            "",
            "provider_events:\n  - {provider: aws, date: 2027-10-01, contracts: [z]}\n",
            27,
            "contract of aws",
        ),
        (
            "    commitment: {total_usd: 1.0e6}\n    billing:\n      model: prepaid\n      payments:\n"
            "        - {date: 2029-01-01, share: 1.0}",
            "",
            22,
            "outside the term",
        ),
    ],
)
def test_bad_billing_and_events_name_file_line_and_field(
    k: str, top: str, line: int | None, words: str
) -> None:
    with pytest.raises(InputError) as err:
        load(k, top)
    text = str(err.value)
    assert "ramp.yaml:" in text and words in text, text
    if line is not None:
        assert f"ramp.yaml:{line}" in text, text


def test_a_slip_changes_the_simulation_and_the_bill() -> None:
    """The small scenario with Azure one month late: no Azure capacity (nor usage) in January."""
    from helpers import SMALL

    from gpufleet.pipeline import run_scenario

    text = SMALL.read_text()
    line = "    price_per_gpu_hour_usd: 3.5\n"
    assert text.count(line) == 1
    minimums = []
    for slip, expect_jan in ((0, True), (1, False)):
        loaded = load_scenario_text(text.replace(line, line + f"    slip_months: {slip}\n"), "small.yaml")
        t = run_scenario(loaded).tables
        jan = t.series[(t.series["cluster"] == "azure-gb300") & (t.series["time"].dt.month == 1)]
        assert (jan["capacity_gpus"] > 0).any() == expect_jan
        led = t.ledger[t.ledger["contract"] == "azure-main"]
        assert (led.loc[led["month"].dt.month == 1, "gpu_hours_available"].sum() > 0) == expect_jan
        minimums.append(float(led["minimum_accrued_usd"].sum()))
    # the year's $250M minimum, pro-rated to the GPU-hours delivered against the planned ramp
    assert minimums[1] < minimums[0]


def test_a_provider_default_empties_its_clusters_in_the_simulation() -> None:
    """Azure withdraws all capacity from 1 March: the engine sees none from then, and bills stop."""
    from helpers import SMALL

    from gpufleet.pipeline import run_scenario

    event = "provider_events:\n  - {provider: azure, date: 2026-03-01}\n"
    loaded = load_scenario_text(SMALL.read_text() + event, "small.yaml")
    t = run_scenario(loaded).tables
    azure = t.series[t.series["cluster"] == "azure-gb300"]
    march = azure["time"] >= "2026-03-01"
    assert (azure.loc[~march, "capacity_gpus"] > 0).all()
    assert (azure.loc[march, "capacity_gpus"] == 0).all()
    alloc = [c for c in azure.columns if c.startswith("allocated_")]
    assert (azure.loc[march, alloc].to_numpy() == 0).all()  # nothing runs where nothing is
    led = t.ledger[(t.ledger["contract"] == "azure-main") & (t.ledger["month"] >= "2026-03-01")]
    assert led["usage_cost_usd"].sum() == 0.0 and led["undelivered_usd"].sum() > 0
