"""The fluid model on cases worked out by hand: utilization, unused commitment, priority and routing order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gpufleet.risk.fluid import FluidModel, FluidResult, fluid_metrics
from gpufleet.risk.metrics import METRICS
from tests.risk.cases import GPUS, HOURS, two_contracts


def test_one_reserved_contract_one_stream_by_hand() -> None:
    # a stream asking a quarter of the fleet's GPU-hours: all of it runs; the rest of the capacity,
    # billed as reserved, is the unused commitment
    m = fluid_metrics(two_contracts())
    assert set(m) == set(METRICS)
    capacity = GPUS * HOURS
    assert m["utilization_pct"] == pytest.approx(25.0, rel=1e-9)
    assert m["spend_usd"] == pytest.approx(capacity * 2.0, rel=1e-9)
    assert m["unused_commitment_usd"] == pytest.approx(0.75 * capacity * 2.0, rel=1e-9)
    assert m["cash_peak_usd"] == pytest.approx(m["spend_usd"])
    assert m["funding_need_usd"] == pytest.approx(m["spend_usd"])  # no revenue case: all cash is need
    assert m["inference_unserved_pct"] == 0.0


def test_a_yearly_minimum_by_hand() -> None:
    # spend commitment: usage at $2, the year's minimum trued up: unused = minimum - usage cost
    minimum = 5.0e6
    m = fluid_metrics(two_contracts("commitment: {min_per_year_usd: 5.0e6}"))
    used_cost = 0.25 * GPUS * HOURS * 2.0
    assert m["unused_commitment_usd"] == pytest.approx(minimum - used_cost, rel=1e-9)
    assert m["spend_usd"] == pytest.approx(minimum, rel=1e-9)


def test_more_demand_than_capacity_fills_it() -> None:
    streams = (
        "  - stream: {name: jobs, team: research, synthetic: {source: philly, fleet_share: 0.75}}\n"
        "  - stream: {name: more, team: research, synthetic: {source: philly, fleet_share: 0.75}}"
    )
    r = FluidModel.of(two_contracts(streams=streams)).run()
    assert r.metrics["utilization_pct"] == pytest.approx(100.0)
    assert r.metrics["unused_commitment_usd"] == pytest.approx(0.0, abs=1e-3)
    # research queues: what did not fit (half the fleet's GPU-hours) is still waiting at the end
    assert r.unserved["jobs"] + r.unserved["more"] == pytest.approx(0.5 * GPUS * HOURS, rel=1e-9)


@pytest.mark.parametrize(
    ("order", "first"),
    [("[inference, training, research, best-effort]", "jobs"), ("[best-effort, research]", "evals")],
)
def test_priority_order_decides_who_runs(order: str, first: str) -> None:
    streams = (
        "  - stream: {name: jobs, team: research, synthetic: {source: philly, fleet_share: 0.6}}\n"
        "  - stream: {name: evals, team: batch, synthetic: {source: philly, fleet_share: 0.6}}"
    )
    r = FluidModel.of(two_contracts(streams=streams, policies=f"  preemption: {{order: {order}}}")).run()
    other = "evals" if first == "jobs" else "jobs"
    assert r.unserved[first] == pytest.approx(0.0, abs=1e-6)  # the higher class runs in full
    assert r.unserved[other] == pytest.approx(0.2 * GPUS * HOURS, rel=1e-9)  # the lower one gets the rest


def test_commitment_first_fills_the_commitment_behind_plan_before_cheaper_reserved_capacity() -> None:
    # k-b ($3) must burn $30M in 2026, more than its whole capacity can ($18.9M): need > 1 ranks it
    # above k-a's reserved capacity (need 1), although k-a is cheaper. A quarter of the fleet's
    # GPU-hours (half of one cluster's) all go to k-b; under `cheapest` they all go to k-a.
    second = "commitment: {min_per_year_usd: 3.0e7}"
    r = FluidModel.of(two_contracts(second=second)).run()
    half = 0.5 * GPUS * HOURS
    assert r.used["k-b"].sum() == pytest.approx(half, rel=1e-9)
    assert r.used["k-a"].sum() == pytest.approx(0.0, abs=1e-6)
    cheap = two_contracts(second=second, policies="  provider_choice: {name: cheapest}")
    r2 = FluidModel.of(cheap).run()
    assert r2.used["k-a"].sum() == pytest.approx(half, rel=1e-9)
    # routing moves the unused commitment: k-b's shortfall is larger when the work went elsewhere
    assert r2.unused["k-b"].sum() == pytest.approx(3.0e7, rel=1e-9)
    assert r.unused["k-b"].sum() == pytest.approx(3.0e7 - half * 3.0, rel=1e-9)


def test_a_model_reused_for_changed_scenarios_gives_what_a_fresh_one_gives() -> None:
    from gpufleet.scenario.overrides import Editable, parse_override

    base = two_contracts(second="commitment: {min_per_year_usd: 3.0e7}")
    model = FluidModel.of(base)
    edit = Editable.of(base)
    for change in ("contracts.k-b.slip_months=3", "contracts.k-a.price_per_gpu_hour_usd=1.5"):
        changed = edit.apply([parse_override(change)])
        assert model.metrics(changed) == fluid_metrics(changed)
    assert model.metrics(base) == fluid_metrics(base)


def test_the_default_scenario_runs_and_its_figures_are_sane() -> None:
    from gpufleet.scenario import load_scenario

    r = FluidModel.of(load_scenario(None)).run()
    m = r.metrics
    assert 0.0 < m["utilization_pct"] <= 100.0
    assert 0.0 <= m["inference_unserved_pct"] <= 100.0
    assert m["cash_peak_usd"] <= m["spend_usd"]
    assert m["spend_usd"] == pytest.approx(sum(float(v.sum()) for v in r.cost_due.values()))
    # no contract uses more than the GPU-hours it had online in any month
    for name, used in r.used.items():
        assert np.all(used >= 0), name


def _same_run(a: FluidResult, b: FluidResult) -> None:
    """Two fluid runs agree to the last bit: metrics, use, bills and what went unserved."""
    assert a.metrics == b.metrics
    assert a.unserved == b.unserved
    for got, want in ((a.used, b.used), (a.cost_due, b.cost_due), (a.unused, b.unused)):
        assert got.keys() == want.keys()
        for name in got:
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_a_model_kept_over_samples_of_the_default_gives_what_fresh_models_give() -> None:
    """docs/examples/uncertain.yaml's inputs on today's default (revenue-driven demand): what the model
    keeps between samples (each workload's demand, billing axes, shapes of the day) changes nothing."""
    from gpufleet.risk.sweep import attach_uncertainty, input_paths, plan_samples, uncertainty_of
    from gpufleet.scenario import load_scenario
    from gpufleet.scenario.overrides import Editable, Override

    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "uncertain.yaml"
    loaded = attach_uncertainty(load_scenario(None), example.read_text(encoding="utf-8"), str(example))
    edit, paths = Editable.of(loaded), input_paths(loaded)
    changed = [
        edit.apply([Override(p.path, p.op, spec.inputs[p.name], p.where) for p in paths])
        for spec in plan_samples(uncertainty_of(loaded), 3, 11)
    ]
    model = FluidModel.of(loaded)
    kept = [model.run(c) for c in (*changed, loaded, changed[0])]  # the last: a sample seen before
    for c, got in zip((*changed, loaded, changed[0]), kept, strict=True):
        _same_run(got, FluidModel.of(c).run(c))  # a new model: nothing kept


@pytest.mark.parametrize(
    "change",
    [
        "policies.preemption.order=[training, inference, research, best-effort]",  # priorities
        "teams.serving.priority_class=research",
        "policies.failures.enabled=false",  # training plans and repair shares
        "workloads.api.demand.daily_peak_to_mean=2.5",  # an inference's shape of the day
        "finance.base_case=bull",  # the revenue case inference follows
        "workloads.chat.demand.revenue.share*=0.5",
    ],
)
def test_what_a_kept_workload_depends_on_rebuilds_it(change: str) -> None:
    """A change to anything a workload's demand depends on is seen by a model kept from before it."""
    from gpufleet.scenario import load_scenario
    from gpufleet.scenario.overrides import Editable, parse_override

    base = load_scenario(None)
    model = FluidModel.of(base)
    model.run(base)
    changed = Editable.of(base).apply([parse_override(change)])
    _same_run(model.run(changed), FluidModel.of(changed).run(changed))


def test_a_sample_that_scales_revenue_rebuilds_only_the_inference_that_follows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gpufleet.risk import fluid
    from gpufleet.scenario import load_scenario
    from gpufleet.scenario.overrides import Editable, parse_override

    base = load_scenario(None)
    built: list[str] = []
    make = fluid._item_classes

    def counted(item: Any, *args: Any) -> Any:
        built.append(item.name)
        return make(item, *args)

    monkeypatch.setattr(fluid, "_item_classes", counted)
    model = FluidModel.of(base)
    model.run(base)
    everything = set(built)
    built.clear()
    model.run(Editable.of(base).apply([parse_override("finance.revenue_scenarios.base.by_year_usd*=1.1")]))
    follow = {w.item.name for w in base.scenario.workloads if w.inference and w.inference.demand.revenue}
    assert follow and set(built) == follow < everything
