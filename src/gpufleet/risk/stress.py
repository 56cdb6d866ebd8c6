"""The standard stress set of `gpufleet whatif --stress`: each stress a named list of scenario changes.

Every stress is written in the grammar of scenario/overrides.py, so it is validated like a --set and
its text says exactly what it changed:

- `slip +6 mo: CONTRACT`: each committed contract with a ramp delivered 6 months later
  (`slip_months+=6`). An earlier delivery (-6) is only what the schema allows: slip_months >= 0, so
  a contract already slipped by 6 months or more gets `slip -6 mo`, the others none.
- `revenue -30%`: every revenue case's dollar path x 0.7 (`start_usd`, `by_year_usd`, and
  `usd_per_million_tokens` for a case priced from tokens); demand that follows revenue follows it.
- `prices -20%`: what the lab pays per GPU-hour falls by 20% for the same capacity: each contract's
  price x 0.8 (the catalog list price where it states none) and its commitment with it
  (`total_usd`, `min_per_year_usd`, prepaid `amount_usd` x 0.8), so a ramp derived from the
  commitment keeps its size. Reserved capacity then bills 20% less; a spend commitment's usage
  and minimum are 20% less; on-demand and capacity blocks bill usage at 80% of their price.
- `default: PROVIDER`: the provider withdraws all its capacity (a `provider_events` entry,
  withdraw_share 1) from the middle of the horizon.
- `failures x2`: every accelerator's interruption rate doubled (`policies.failures.rate_per_gpu_hour`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import yaml

from gpufleet.fleet.capacity import build_capacity
from gpufleet.scenario.load import LoadedScenario
from gpufleet.scenario.overrides import Override, parse_override
from gpufleet.workload.reliability import failure_rate_per_gpu_hour

SLIP_MONTHS = 6
REVENUE_FACTOR = 0.7
PRICE_FACTOR = 0.8
FAILURE_FACTOR = 2.0


@dataclass(frozen=True)
class Stress:
    """One stress: a name and the changes that make it."""

    name: str
    overrides: tuple[Override, ...]

    @property
    def text(self) -> str:
        return "; ".join(o.text for o in self.overrides)


def _over(text: str) -> Override:
    return parse_override(text, source="--stress")


def _fmt(x: float) -> str:
    return repr(float(x))


def stress_set(loaded: LoadedScenario) -> list[Stress]:
    """The standard stresses for this scenario (those that apply to it)."""
    s = loaded.scenario
    out: list[Stress] = []
    for c in s.contracts:
        if c.kind != "committed" or c.ramp is None:
            continue
        out.append(
            Stress(
                f"slip +{SLIP_MONTHS} mo: {c.name}",
                (_over(f"contracts.{c.name}.slip_months+={SLIP_MONTHS}"),),
            )
        )
        if c.slip_months >= SLIP_MONTHS:
            out.append(
                Stress(
                    f"slip -{SLIP_MONTHS} mo: {c.name}",
                    (_over(f"contracts.{c.name}.slip_months+=-{SLIP_MONTHS}"),),
                )
            )
    revenue = [
        _over(f"finance.revenue_scenarios.{name}.{field}*={REVENUE_FACTOR}")
        for name, rs in s.finance.revenue_scenarios.items()
        for field in ("start_usd", "by_year_usd", "usd_per_million_tokens")
        if getattr(rs, field) is not None
    ]
    if revenue:
        out.append(Stress("revenue -30%", tuple(revenue)))
    out.append(Stress("prices -20%", tuple(price_changes(loaded, PRICE_FACTOR))))
    mid = s.horizon.start + (s.horizon.end - s.horizon.start) / 2
    for provider in s.providers:
        if any(c.provider == provider for c in s.contracts):
            out.append(Stress(f"default: {provider}", (provider_default(loaded, provider, mid),)))
    accs = sorted({loaded.catalog.accelerator_of(c.product).id for c in s.clusters})
    rates = s.policies.failures.rate_per_gpu_hour
    doubled = {a: FAILURE_FACTOR * failure_rate_per_gpu_hour(a, rates) for a in accs}
    out.append(Stress("failures x2", (failure_rates(loaded, doubled),)))
    return out


def price_changes(loaded: LoadedScenario, factor: float) -> list[Override]:
    """Each contract's price x factor (its resolved price where it states none), its commitment with it."""
    s = loaded.scenario
    resolved = {rc.name: rc.price_per_gpu_hour_usd for rc in build_capacity(s, loaded.catalog).contracts}
    out: list[Override] = []
    for c in s.contracts:
        out.append(_over(f"contracts.{c.name}.price_per_gpu_hour_usd={_fmt(resolved[c.name] * factor)}"))
        cm = c.commitment
        if cm is not None and cm.total_usd is not None:
            out.append(_over(f"contracts.{c.name}.commitment.total_usd*={factor}"))
        if cm is not None and cm.min_per_year_usd is not None:
            out.append(_over(f"contracts.{c.name}.commitment.min_per_year_usd*={factor}"))
        if c.billing is not None and any(p.amount_usd is not None for p in c.billing.payments):
            out.append(_over(f"contracts.{c.name}.billing.payments.*.amount_usd*={factor}"))
    return out


def provider_default(loaded: LoadedScenario, provider: str, day: dt.date) -> Override:
    """The scenario's provider events and one more: `provider` withdraws everything from `day`."""
    events = [e.model_dump(mode="json", exclude_none=True) for e in loaded.scenario.provider_events]
    events.append({"provider": provider, "date": day.isoformat(), "withdraw_share": 1.0})
    return Override("provider_events", "=", events, "--stress")


def failure_rates(loaded: LoadedScenario, rates: dict[str, float]) -> Override:
    """The failure policy with these rates per accelerator, set at the deepest level the file has."""
    failures = loaded.scenario.policies.failures.model_dump(mode="json") | {"rate_per_gpu_hour": rates}
    data = yaml.safe_load(loaded.text)
    policies = data.get("policies") if isinstance(data, dict) else None
    if isinstance(policies, dict) and isinstance(policies.get("failures"), dict):
        return Override("policies.failures.rate_per_gpu_hour", "=", rates, "--stress")
    if isinstance(policies, dict):
        return Override("policies.failures", "=", failures, "--stress")
    return Override("policies", "=", {"failures": failures}, "--stress")
