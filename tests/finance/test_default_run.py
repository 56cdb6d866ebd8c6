"""The default scenario simulated once (full size, about a minute): its money as a CFO would check it."""

from __future__ import annotations

import pytest

from gpufleet.finance import build_focus
from gpufleet.finance.summary import cash_and_cost_by_year, contract_year_summary, funding_peaks
from gpufleet.pipeline import RunResult, run_scenario
from gpufleet.scenario import LoadedScenario, load_scenario

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run() -> tuple[LoadedScenario, RunResult]:
    loaded = load_scenario(None)
    return loaded, run_scenario(loaded)


def test_unused_commitment_splits_and_demand_follows_idle_capacity(
    run: tuple[LoadedScenario, RunResult],
) -> None:
    """structural + demand = unused everywhere; a contract year that used >= 98% of its delivered capacity
    shows demand-driven unused commitment of at most the idle capacity, priced (<= 2% of it), and the
    ramp-weighted default leaves no structural gap beyond whole-domain rounding."""
    loaded, result = run
    ledger = result.tables.ledger
    assert (ledger["structural_unused_usd"] + ledger["demand_unused_usd"]).to_numpy() == pytest.approx(
        ledger["unused_commitment_usd"].to_numpy()
    )
    years = contract_year_summary(ledger)
    price = ledger.groupby("contract")["price_per_gpu_hour_usd"].first()
    # busy years, and every year of a reserved contract (its demand part is its idle capacity, priced,
    # whatever the utilization); commitment-first leaves the default without busy years of its own
    busy = years[(years["utilization_pct"] >= 98.0) | (years["billing"] == "reserved")]
    assert len(busy) > 0
    for r in busy.to_dict("records"):
        idle_value = (r["gpu_hours_available"] - r["gpu_hours_used"]) * price[r["contract"]]
        assert r["demand_unused_usd"] <= idle_value + 1.0, (r["contract"], r["contract_year"])
    commitments = sum(c.commitment.total_usd or 0.0 for c in loaded.scenario.contracts if c.commitment)
    assert ledger["structural_unused_usd"].sum() < 1e-3 * commitments


def test_cash_views_agree(run: tuple[LoadedScenario, RunResult]) -> None:
    """Cash by provider and year, the portfolio, the ledger and the FOCUS export are one set of figures."""
    loaded, result = run
    t = result.tables
    cash = cash_and_cost_by_year(t.spend)
    ledger_year = t.ledger.assign(year=t.ledger["month"].dt.year).groupby("year")["cost_due_usd"].sum()
    total = cash[cash["provider"] == "total"].set_index("year")["cash_out_usd"]
    assert total.to_numpy() == pytest.approx(ledger_year.reindex(total.index).to_numpy())
    base = t.portfolio[t.portfolio["scenario"] == "base"].set_index("year")
    assert base["spend_usd"].reindex(total.index).to_numpy() == pytest.approx(total.to_numpy())
    focus = build_focus(t.ledger, loaded.scenario, loaded.catalog)
    assert focus["BilledCost"].sum() == pytest.approx(t.ledger["cost_due_usd"].sum())
    peak = funding_peaks(t.portfolio).set_index("scenario").loc["base"]
    running = base["cash_gap_usd"].cumsum()
    assert peak["peak_funding_need_usd"] == pytest.approx(max(running.max(), 0.0))
    if peak["peak_funding_need_usd"] > 0:
        assert int(peak["peak_year"]) == int(running.idxmax())
    # each reserved contract is billed the capacity it was delivered: Oracle's 2029, priced by hand
    oci = t.ledger[(t.ledger["contract"] == "oci-stargate") & (t.ledger["month"].dt.year == 2029)]
    # ramp-weighted hours of 2027..2031: 181 d at 15%, 184 d at 40%, 182 d at 70%, 1,279 d at 100%
    hours = 24 * (181 * 0.15 + 184 * 0.40 + 182 * 0.70 + 1_279 * 1.0)
    domains = int(300e9 // (4.20 * 72 * hours))
    assert domains == 27_426
    gpus = domains * 72
    assert oci["cost_due_usd"].sum() == pytest.approx(gpus * 8_760 * 4.20, rel=1e-9)


def test_an_unusable_pool_is_not_online(run: tuple[LoadedScenario, RunResult]) -> None:
    """The AWS capacity-block pool with overflow off: reported unusable, outside utilization."""
    from gpufleet.report.headline import headline

    _, result = run
    t = result.tables
    blocks = t.ledger[t.ledger["contract"] == "aws-capacity-blocks"]
    assert (blocks["gpu_hours_available"] == 0).all()
    assert blocks["gpu_hours_unusable"].sum() > 0
    h = headline(t)
    series = t.series
    hours = 24.0  # the default reports daily
    pool = series[series["contract"] == "aws-capacity-blocks"]
    assert h["gpu_hours_unusable"] == pytest.approx(float(pool["capacity_gpus"].sum()) * hours)
    rest = series[series["contract"] != "aws-capacity-blocks"]
    assert h["gpu_hours_capacity"] == pytest.approx(float(rest["capacity_gpus"].sum()) * hours)
