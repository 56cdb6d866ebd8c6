"""The monthly model's demand of a research stream given as a schedule of busy GPUs, by hand."""

from __future__ import annotations

import numpy as np

from gpufleet.aggregate.demand import monthly_demand
from gpufleet.aggregate.months import horizon_months
from tests.plan.tiny import tiny

SCHEDULE = """\
teams: [{name: res, quota_share: 1.0}]
workloads:
  - stream:
      name: research
      team: res
      synthetic:
        source: philly
        gpus_schedule: [{date: 2026-01-01, gpus: 100}, {date: 2026-07-01, gpus: 300}]
        end: 2026-11-16
"""


def test_a_gpu_schedule_is_its_gpus_times_the_hours_of_each_month_inside_the_window() -> None:
    ls = tiny(workloads=SCHEDULE)
    months = horizon_months(ls.scenario.horizon)
    demand = monthly_demand(ls.scenario, ls.catalog, months, ["gb200"], np.zeros(months.count))
    (k,) = demand.classes
    assert k.kind == "research"
    assert k.gpu_hours[0] == 100 * 31 * 24  # January
    assert k.gpu_hours[5] == 100 * 30 * 24  # June: the step holds until July
    assert k.gpu_hours[6] == 300 * 31 * 24  # July
    assert k.gpu_hours[10] == 300 * 15 * 24  # November: the stream ends on the 16th (exclusive)
    assert k.gpu_hours[11] == 0.0
