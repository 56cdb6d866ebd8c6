"""A stored plan as an HTML page: what to sign, the allocation by provider and quarter, cash, values."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from gpufleet import __version__
from gpufleet.files import atomic_write
from gpufleet.report.html import page, shared_plotly
from gpufleet.report.tables_html import ReportTable, frame_html
from gpufleet.store.plans import StoredPlan


def plan_tables(plan: StoredPlan) -> list[ReportTable]:
    """The plan's tables, from what the store holds (the same figures `plans show --json` prints)."""
    f: dict[str, Any] = plan.figures
    alloc = plan.allocation
    out = [
        ReportTable("signed", "What to sign", "Options the plan signs: start, size, price.", plan.signed),
    ]
    if not alloc.empty:
        by = alloc.groupby(["provider", "quarter"], as_index=False).agg({"target_gpu_hours": "sum"})
        wide = by.pivot_table(index="quarter", columns="provider", values="target_gpu_hours", aggfunc="sum")
        wide = wide.fillna(0.0).add_suffix(" gpu_hours").reset_index()
        out.append(
            ReportTable(
                "allocation",
                "Allocation by provider and quarter",
                "GPU-hours the plan runs on each provider (on the hardware it runs on; expected over the "
                "demand cases when there are several).",
                wide,
            )
        )
    years = f.get("cash_by_year_usd", {})
    out.append(
        ReportTable(
            "cash",
            "Cash out by year",
            "Expected cash out of the plan (existing contracts and signed options).",
            pd.DataFrame({"year": [int(y) for y in years], "cash_usd": list(years.values())}),
        )
    )
    unmet = f.get("unmet_gpu_hours", {})
    out.append(
        ReportTable(
            "unmet",
            "Unmet demand",
            "Reference GPU-hours the plan leaves unserved, by class.",
            pd.DataFrame({"class": list(unmet), "gpu_hours": list(unmet.values())}),
        )
    )
    cases = f.get("cases", {})
    if len(cases) > 1:
        out.append(
            ReportTable(
                "cases",
                "Demand cases",
                "Options signed once, routing per case; regret of signing for the base case alone: "
                + _usd(f.get("regret_of_base_plan_usd")),
                pd.DataFrame(
                    [
                        {
                            "case": k,
                            "weight": c["weight"],
                            "cost_pv_usd": c["cost_pv_usd"],
                            "objective_pv_usd": c["objective_pv_usd"],
                        }
                        for k, c in cases.items()
                    ]
                ),
            )
        )
    sites = sorted(set(f.get("power_shadow_usd_per_mw", {})) | set(f.get("value_of_extra_power_usd", {})))
    if sites:
        out.append(
            ReportTable(
                "power",
                "Power",
                f"Shadow price of a MW held over the horizon (LP relaxation) and the value of "
                f"+{f.get('extra_mw', 1000.0):g} MW per site (the plan re-solved).",
                pd.DataFrame(
                    {
                        "site": sites,
                        "shadow_per_mw_usd": [f["power_shadow_usd_per_mw"].get(s) for s in sites],
                        "value_of_extra_power_usd": [f["value_of_extra_power_usd"].get(s) for s in sites],
                    }
                ),
            )
        )
    values = f.get("option_value_usd", {})
    if values:
        out.append(
            ReportTable(
                "options",
                "Value of each option",
                "The objective lost when the option is left out.",
                pd.DataFrame({"option": list(values), "value_usd": list(values.values())}),
            )
        )
    return out


def _usd(x: object) -> str:
    return "–" if not isinstance(x, int | float) else f"${x:,.0f}"


def versus_table(versus: pd.DataFrame, run_id: str) -> ReportTable:
    """Planned vs simulated use and cash by contract and quarter (report/plan_compare.py)."""
    return ReportTable(
        "versus",
        f"Planned vs simulated (run {run_id})",
        "GPU-hours used and cash out per contract and quarter: the plan's base case billed by the ledger, "
        "and the run's usage and ledger.",
        versus,
    )


def render_plan(
    plan: StoredPlan, source: str = "", plotly_src: str | None = None, extra: list[ReportTable] | None = None
) -> str:
    m = plan.meta
    items = [
        ("plan", m.plan_id),
        ("status", m.status),
        ("cost PV", _usd(m.cost_pv_usd)),
        ("objective PV", _usd(m.objective_pv_usd)),
        ("created", f"{m.created:%Y-%m-%d %H:%M} UTC"),
        ("scenario hash", m.content_hash[:19]),
        ("gpufleet", m.gpufleet_version),
    ]
    meta = (
        '<div class="meta">'
        + "".join(f"<span>{html.escape(k)} <b>{html.escape(v)}</b></span>" for k, v in items)
        + "</div>"
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in plan.figures.get("notes", []))
    body = [frame_html(t) for t in [*plan_tables(plan), *(extra or [])]]
    if notes:
        body.append(f'<section class="findings"><h2>Notes</h2><ul>{notes}</ul></section>')
    return page(
        title=f"gpufleet · {m.scenario_name} · {m.plan_id}",
        kicker="gpufleet · capacity plan",
        heading=html.escape(m.scenario_name),
        meta=meta,
        body="\n".join(body),
        footer=f"Read from the results store {html.escape(source)} (plan {html.escape(m.plan_id)}). "
        f"Written by gpufleet {html.escape(__version__)}; works offline.",
        plotly_src=plotly_src,
    )


def write_plan_report(
    plan: StoredPlan,
    path: Path,
    source: str = "",
    share_plotly: bool = True,
    extra: list[ReportTable] | None = None,
) -> Path:
    """The plan's page at `path` (temp file, then rename); `extra`: tables after the plan's own."""
    shared = shared_plotly(path.parent) if share_plotly else None
    text = render_plan(plan, source, shared, extra)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), make_parent=True)
    return path
