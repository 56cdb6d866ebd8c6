"""A solved plan as the store keeps it: its meta, figures, signed options and monthly allocation."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from gpufleet import __version__
from gpufleet.plan.run import PlanResult
from gpufleet.store.plans import ALLOCATION_COLUMNS, SIGNED_COLUMNS, PlanMeta, StoredPlan, new_plan_id


def plan_record(
    result: PlanResult,
    scenario_name: str,
    content_hash: str,
    extra: dict[str, object] | None = None,
    now: dt.datetime | None = None,
) -> StoredPlan:
    """The plan with a new id; `extra` goes into its figures beside what `plan --json` prints."""
    created = now or dt.datetime.now(dt.UTC)
    meta = PlanMeta(
        plan_id=new_plan_id(created),
        scenario_name=scenario_name,
        content_hash=content_hash,
        gpufleet_version=__version__,
        created=created,
        status=result.status,
        objective_pv_usd=float(result.objective_pv_usd),
        cost_pv_usd=float(result.cost_pv_usd),
    )
    signed = pd.DataFrame(result.signed, columns=SIGNED_COLUMNS)
    return StoredPlan(meta, {**(extra or {}), **result.to_dict()}, signed, result.routing[ALLOCATION_COLUMNS])
