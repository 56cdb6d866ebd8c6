"""How a plan prints: its figures as `gpufleet plan` shows them, and `plans show` again from the store."""

from __future__ import annotations

from typing import Any

import typer

from gpufleet.cli.common import fmt_num, fmt_usd, print_table


def print_plan(d: dict[str, Any], by_quarter: Any, extra_mw: float) -> None:
    """What `gpufleet plan` prints, from its JSON figures (also `plans show`)."""
    n = len(d["cases"])
    over = f" (expected over {n} revenue cases, weighted)" if n > 1 else ""
    typer.echo(
        f"plan: {d['status']}; cost PV {fmt_usd(d['cost_pv_usd'])}, "
        f"objective PV (with the unmet-demand penalty) {fmt_usd(d['objective_pv_usd'])}{over}"
    )
    rows = [
        [
            s["option"],
            s["provider"],
            s["site"],
            s["billing"],
            s["start"],
            fmt_num(s["domains"]),
            fmt_num(s["gpus"]),
        ]
        for s in d["signed"]
    ]
    print_table(
        "Sign",
        ["option", "provider", "site", "billing", "start", "domains", "GPUs"],
        rows,
        ["domains", "GPUs"],
    )
    if not rows:
        typer.echo("(sign nothing: the contracted fleet and the penalty make no option worth it)")
    if not by_quarter.empty:
        pivot = by_quarter.pivot_table(index="class", columns="provider", values="gpu_hours", aggfunc="sum")
        providers = [str(p) for p in pivot.columns]
        print_table(
            "Routing, million GPU-hours",
            ["class", *providers],
            [[str(k), *(fmt_num(v / 1e6, 1) if v == v else "-" for v in row)] for k, row in pivot.iterrows()],
            providers,
        )
        typer.echo("(GPU-hours at each class's reference accelerator; by quarter in --json, by month in -o)")
    unmet = d["unmet_gpu_hours"]
    print_table(
        "Unmet demand", ["class", "GPU-hours"], [[k, fmt_num(v)] for k, v in unmet.items()] or [["-", "0"]]
    )
    print_table(
        "Cash out by year",
        ["year", "cash"],
        [[y, fmt_usd(v)] for y, v in d["cash_by_year_usd"].items()],
        ["cash"],
    )
    shadow, extra = d["power_shadow_usd_per_mw"], d["value_of_extra_power_usd"]
    sites = sorted(set(shadow) | set(extra))
    if sites:
        print_table(
            "Power",
            ["site", "shadow $/MW (LP)", f"value of +{extra_mw:g} MW"],
            [
                [
                    s,
                    fmt_usd(d["power_shadow_usd_per_mw"].get(s)),
                    fmt_usd(d["value_of_extra_power_usd"].get(s)),
                ]
                for s in sites
            ],
            ["shadow $/MW (LP)", f"value of +{extra_mw:g} MW"],
        )
    if d["option_value_usd"]:
        print_table(
            "Value of each option",
            ["option", "value"],
            [[k, fmt_usd(v)] for k, v in d["option_value_usd"].items()],
            ["value"],
        )
    if len(d["cases"]) > 1:
        print_table(
            "Demand cases (options signed once, routing per case)",
            ["case", "weight", "cost PV", "objective PV"],
            [
                [k, f"{c['weight']:.2f}", fmt_usd(c["cost_pv_usd"]), fmt_usd(c["objective_pv_usd"])]
                for k, c in d["cases"].items()
            ],
            ["weight", "cost PV", "objective PV"],
        )
        typer.echo(f"regret of signing for the base case alone: {fmt_usd(d['regret_of_base_plan_usd'])}")
    for note in d["notes"]:
        typer.echo(f"note: {note}")


def print_added(a: dict[str, Any]) -> None:
    """The --add-capacity what-if: the capacity added where, and its value."""
    rows = [[b["site"], b["product"], fmt_num(b["domains"]), fmt_num(b["gpus"]), fmt_num(b["mw"], 1)]
            for b in a["added"]]  # fmt: skip
    print_table(
        f"What-if: +{a['mw']:,.0f} MW at {a['provider']}", ["site", "product", "domains", "GPUs", "MW"], rows,
        ["domains", "GPUs", "MW"],
    )  # fmt: skip
    per = a["value_usd_per_gpu_hour"]
    typer.echo(
        "value of the added capacity (objective PV saved, online all horizon, free): "
        + fmt_usd(a["value_usd"])
        + (f" = ${per:,.2f} per GPU-hour it adds" if per is not None else "")
    )
    if 0 < abs(a["value_usd"]) < a["tolerance_usd"]:
        typer.echo(
            f"(within the MIP gap, {fmt_usd(a['tolerance_usd'])} on this objective: solver noise as much as "
            "value; a smaller --gap sharpens it)"
        )
