"""The stress set makes the changes it says it makes."""

from __future__ import annotations

import pytest

from gpufleet.fleet.capacity import build_capacity
from gpufleet.risk.stress import FAILURE_FACTOR, PRICE_FACTOR, REVENUE_FACTOR, SLIP_MONTHS, stress_set
from gpufleet.scenario import load_scenario
from gpufleet.scenario.load import LoadedScenario
from gpufleet.scenario.overrides import Editable
from gpufleet.workload.reliability import failure_rate_per_gpu_hour


@pytest.fixture(scope="module")
def default() -> LoadedScenario:
    return load_scenario(None)


def _apply(loaded: LoadedScenario, name: str) -> LoadedScenario:
    st = next(s for s in stress_set(loaded) if s.name == name)
    return Editable.of(loaded).apply(list(st.overrides))


def test_revenue_minus_30_scales_every_case_path(default: LoadedScenario) -> None:
    after = _apply(default, "revenue -30%").scenario.finance.revenue_scenarios
    before = default.scenario.finance.revenue_scenarios
    assert set(after) == set(before)
    for name, rs in before.items():
        for year in range(2025, 2033):
            y0 = default.scenario.horizon.start.year
            assert after[name].usd_in_year(year, y0) == pytest.approx(
                REVENUE_FACTOR * rs.usd_in_year(year, y0)
            )
        assert after[name].weight == rs.weight  # weights are not revenue


def test_prices_minus_20_keep_the_fleet_and_scale_the_money(default: LoadedScenario) -> None:
    changed = _apply(default, "prices -20%")
    a = {rc.name: rc for rc in build_capacity(default.scenario, default.catalog).contracts}
    b = {rc.name: rc for rc in build_capacity(changed.scenario, changed.catalog).contracts}
    for name, rc in a.items():
        assert b[name].price_per_gpu_hour_usd == pytest.approx(PRICE_FACTOR * rc.price_per_gpu_hour_usd)
        assert b[name].ramp == rc.ramp  # the same capacity: a derived ramp keeps its size
    for c0, c1 in zip(default.scenario.contracts, changed.scenario.contracts, strict=True):
        if c0.commitment is not None and c0.commitment.total_usd is not None:
            assert c1.commitment is not None
            assert c1.commitment.total_usd == pytest.approx(PRICE_FACTOR * c0.commitment.total_usd)


def test_slips_are_six_months_and_never_negative(default: LoadedScenario) -> None:
    names = [s.name for s in stress_set(default)]
    for c in default.scenario.contracts:
        if c.kind == "committed" and c.ramp is not None:
            assert f"slip +{SLIP_MONTHS} mo: {c.name}" in names
            slipped = _apply(default, f"slip +{SLIP_MONTHS} mo: {c.name}")
            after = next(x for x in slipped.scenario.contracts if x.name == c.name)
            assert after.slip_months == c.slip_months + SLIP_MONTHS
    # no contract of the default is slipped yet: no earlier delivery is offered (slip_months >= 0)
    assert not any(n.startswith(f"slip -{SLIP_MONTHS}") for n in names)


def test_a_default_withdraws_the_provider_and_failures_double(default: LoadedScenario) -> None:
    s = _apply(default, "default: oci").scenario
    assert len(s.provider_events) == len(default.scenario.provider_events) + 1
    event = s.provider_events[-1]
    assert (event.provider, event.withdraw_share) == ("oci", 1.0)
    f = _apply(default, "failures x2").scenario.policies.failures.rate_per_gpu_hour
    for acc, rate in f.items():
        assert rate == pytest.approx(FAILURE_FACTOR * failure_rate_per_gpu_hour(acc, None))
