"""The few figures every what-if, stress and sweep sample reports, whichever fidelity computed them.

One definition for both fidelities: the full simulation's come from its run tables through the
headline (so they equal what `simulate` prints); the fluid model fills the same names.
"""

from __future__ import annotations

from gpufleet.report.context import RunContext
from gpufleet.report.headline import headline
from gpufleet.tables import RunTables

# name -> what it is (unit in the name); the order is the order of every table and chart.
METRICS: dict[str, str] = {
    "utilization_pct": "allocated / usable GPU-hours online over the run",
    "unused_commitment_usd": "committed dollars not reached by use, summed over contracts",
    "spend_usd": "cash out to providers over the run",
    "cash_peak_usd": "the largest calendar year's cash out",
    "funding_need_usd": "peak cumulative funding need under the run's revenue case",
    "inference_unserved_pct": "inference tokens demanded but not served, share over the run",
}

Metrics = dict[str, float]


def run_metrics(tables: RunTables, context: RunContext | None, case: str) -> Metrics:
    """A simulated run's metrics; `case` names the revenue case whose funding need counts."""
    head = headline(tables, context)
    by_year = tables.spend.groupby("year")["spend_usd"].sum()
    out: Metrics = {
        "utilization_pct": float(head["utilization_pct"] or 0.0),
        "unused_commitment_usd": float(head["unused_commitment_usd"] or 0.0),
        "spend_usd": float(head["spend_usd"] or 0.0),
        "cash_peak_usd": float(by_year.max()) if len(by_year) else 0.0,
        "funding_need_usd": float(head.get(f"funding_need_usd.{case}") or 0.0),
        "inference_unserved_pct": float(head["inference_unserved_pct"] or 0.0),
    }
    return out
