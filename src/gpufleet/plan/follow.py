"""What a simulation of a plan follows and is compared with: the plan's monthly share of each
contract's capacity (the `plan` provider policy's ranking) and its planned bill per contract and month.

Both read the allocation of one demand case on the scenario with the plan's options signed
(plan/signed.py), so a plan's contract is the simulated run's contract of the same name.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from gpufleet.aggregate.billing import contract_gpu_hours, monthly_bill
from gpufleet.aggregate.capacity import MonthlyCapacity, monthly_capacity
from gpufleet.aggregate.months import Months, horizon_months
from gpufleet.catalog import Catalog
from gpufleet.errors import InputError
from gpufleet.plan.signed import signed_scenario
from gpufleet.scenario.load import LoadedScenario
from gpufleet.scenario.schema import Scenario
from gpufleet.sched.planned import PlanMonth
from gpufleet.store.plans import StoredPlan

PLANNED_COLUMNS = ["contract", "provider", "month", "quarter", "gpu_hours", "cash_usd"]


def case_allocation(allocation: pd.DataFrame, case: str | None = None) -> pd.DataFrame:
    """The allocation of one case (default, or a case the plan did not solve: its first, the base)."""
    if allocation.empty:
        return allocation
    cases = set(allocation["case"])
    name = case if case in cases else str(allocation["case"].iloc[0])
    return allocation[allocation["case"] == name]


def follow_plan(
    loaded: LoadedScenario, planned: LoadedScenario, plan: StoredPlan, case: str | None = None
) -> tuple[LoadedScenario, list[PlanMonth]]:
    """`loaded` (maybe under a revenue case) with the plan's options signed and the `plan` provider
    policy, and the months that policy follows. `planned`: the FILE as planned, checked against the
    plan's scenario hash (a plan is for the scenario it was solved on)."""
    m = plan.meta
    if planned.content_hash != m.content_hash:
        raise InputError(
            f"plan {m.plan_id} was solved for scenario '{m.scenario_name}' (hash {m.content_hash}); this "
            f"file's hash is {planned.content_hash}: run `gpufleet plan` on it again",
            where=loaded.file,
        )
    s = signed_scenario(loaded.scenario, plan.signed.to_dict(orient="records"))
    choice = s.policies.provider_choice.model_copy(update={"name": "plan"})
    s = s.model_copy(update={"policies": s.policies.model_copy(update={"provider_choice": choice})})
    months = plan_months(s, loaded.catalog, case_allocation(plan.allocation, case))
    return dataclasses.replace(loaded, scenario=s), months


def contract_use(allocation: pd.DataFrame, months: Months) -> dict[str, np.ndarray]:
    """Planned GPU-hours (on the hardware) per contract and month."""
    index = {lab: i for i, lab in enumerate(months.labels)}
    out: dict[str, np.ndarray] = {}
    sums = allocation.groupby(["contract", "month"], as_index=False)["target_gpu_hours"].sum()
    for contract, month, gh in sums.itertuples(index=False, name=None):
        if contract and month in index:
            out.setdefault(str(contract), np.zeros(months.count))[index[month]] += float(gh)
    return out


def plan_months(
    signed: Scenario, catalog: Catalog, allocation: pd.DataFrame, cap: MonthlyCapacity | None = None
) -> list[PlanMonth]:
    """Per month: the share of each contract's GPU-hours online that the plan uses (contract indexes
    as the capacity timeline, and so the simulation, numbers them)."""
    months = horizon_months(signed.horizon)
    cap = cap or monthly_capacity(signed, catalog, months)
    online = contract_gpu_hours(cap, months)
    use = contract_use(allocation, months)
    names = [rc.name for rc in cap.timeline.contracts]
    out = []
    for m in range(months.count):
        share = {
            k: min(1.0, float(use[n][m]) / float(online[n][m]))
            for k, n in enumerate(names)
            if n in use and online[n][m] > 0 and use[n][m] > 0
        }
        first = (months.first[m] - months.start).days
        last = (months.last[m] - months.start).days
        out.append(PlanMonth(first, last, share))
    return out


def planned_bill(
    signed: Scenario, catalog: Catalog, allocation: pd.DataFrame, cap: MonthlyCapacity | None = None
) -> pd.DataFrame:
    """Per contract and month: the GPU-hours the plan uses and the cash the ledger bills for them."""
    months = horizon_months(signed.horizon)
    cap = cap or monthly_capacity(signed, catalog, months)
    bill = monthly_bill(signed, catalog, cap, months, contract_use(allocation, months))
    providers = {c.name: c.provider for c in signed.contracts}
    label = bill["month"].dt.strftime("%Y-%m")
    quarter = bill["month"].dt.year.astype(str) + "-Q" + ((bill["month"].dt.month - 1) // 3 + 1).astype(str)
    return pd.DataFrame(
        {
            "contract": bill["contract"].astype(str),
            "provider": bill["contract"].astype(str).map(providers),
            "month": label,
            "quarter": quarter,
            "gpu_hours": bill["gpu_hours_used"].astype(float),
            "cash_usd": bill["cost_due_usd"].astype(float),
        }
    )[PLANNED_COLUMNS]
