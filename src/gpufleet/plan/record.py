"""A solved plan as the store keeps it: its meta, figures, signed options and monthly allocation."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from gpufleet import __version__
from gpufleet.catalog import Catalog
from gpufleet.plan.follow import case_allocation, planned_bill
from gpufleet.plan.run import PlanResult
from gpufleet.plan.signed import signed_scenario
from gpufleet.scenario.schema import Scenario
from gpufleet.store.plans import (
    ALLOCATION_COLUMNS,
    CASH_COLUMNS,
    SIGNED_COLUMNS,
    PlanMeta,
    StoredPlan,
    new_plan_id,
)


def plan_record(
    result: PlanResult,
    scenario: Scenario,
    catalog: Catalog,
    content_hash: str,
    extra: dict[str, object] | None = None,
    now: dt.datetime | None = None,
) -> StoredPlan:
    """The plan with a new id, and its base case billed per contract and month by the ledger on the
    scenario with the options signed; `extra` goes into its figures beside what `plan --json` prints."""
    created = now or dt.datetime.now(dt.UTC)
    signed = signed_scenario(scenario, result.signed)
    cash = planned_bill(signed, catalog, case_allocation(result.routing))
    meta = PlanMeta(
        plan_id=new_plan_id(created),
        scenario_name=scenario.name,
        content_hash=content_hash,
        gpufleet_version=__version__,
        created=created,
        status=result.status,
        objective_pv_usd=float(result.objective_pv_usd),
        cost_pv_usd=float(result.cost_pv_usd),
    )
    rows = pd.DataFrame(result.signed, columns=SIGNED_COLUMNS)
    figures = {**(extra or {}), **result.to_dict()}
    return StoredPlan(meta, figures, rows, result.routing[ALLOCATION_COLUMNS], cash[CASH_COLUMNS])
