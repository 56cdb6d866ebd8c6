"""Which contracts' capacity some workload may use: the rest is online but unusable, never idle.

A pool that no workload may use (an on-demand or capacity-block contract while the scenario does not
allow overflow, or a provider that every workload excludes) is reported apart from idle capacity and
kept out of utilization, so it neither looks like spare capacity nor dilutes the figures.
"""

from __future__ import annotations

from gpufleet.scenario.schema import Scenario


def usable_contracts(scenario: Scenario) -> frozenset[str]:
    """Names of the contracts whose capacity at least one workload may use under the scenario's policies."""
    allowed: set[str] = set()
    for w in scenario.workloads:
        providers = getattr(w.item, "allowed_providers", None)
        allowed |= set(scenario.providers) if providers is None else set(providers)
    if not scenario.workloads:
        allowed = set(scenario.providers)  # nothing to run: every pool counts as usable capacity
    out = set()
    for c in scenario.contracts:
        if c.kind != "committed" and not scenario.policies.overflow:
            continue  # overflow off: no job or replica is ever placed on it
        if c.provider in allowed:
            out.add(c.name)
    return frozenset(out)
