"""A hand-made, internally consistent RunTables for store and report tests (and checks that it is consistent).

Two providers, three clusters, two committed contracts, daily steps over 90 days that cross a year end.
Other test modules import `make_tables` from here; it uses only gpufleet.tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gpufleet.tables import PRIORITY_CLASSES, SCHEMAS, TIME, RunTables
from gpufleet.tables import check_table as _check


def check_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """check_table, after filling columns added to tables.py since this builder was written (0, "", NaT)."""
    df = df.copy()
    for col, dtype in SCHEMAS[name].items():
        if col not in df.columns:
            df[col] = pd.NaT if dtype == TIME else ("" if dtype == "string" else 0)
    return _check(name, df)


CLUSTERS = {  # cluster -> (provider, contract, GPUs at start, GPUs at end)
    "aws-use1-a": ("aws", "aws-gb200", 72 * 40, 72 * 100),
    "aws-use1-b": ("aws", "aws-gb200", 72 * 10, 72 * 60),
    "azure-tx-a": ("azure", "azure-gb300", 72 * 50, 72 * 50),
}
CONTRACTS = {  # contract -> (provider, price $/GPU-h, minimum over the 90-day term)
    "aws-gb200": ("aws", 3.0, 40e6),
    "azure-gb300": ("azure", 3.5, 30e6),
}
REVENUE = {"bear": 2.0e7, "base": 6.0e7}  # $ per month
START = pd.Timestamp("2025-11-15", tz="UTC")


def make_tables(seed: int = 0, days: int = 90, n_jobs: int = 300) -> RunTables:
    rng = np.random.default_rng(seed)
    times = pd.date_range(START, periods=days, freq="D").astype("datetime64[us, UTC]")
    horizon_end = times[-1] + pd.Timedelta(days=1)
    step_h = 24.0

    # ---- series: conservation allocated + failed + idle = capacity, every cluster and step
    rows = []
    for cluster, (provider, contract, g0, g1) in CLUSTERS.items():
        cap = np.round(np.linspace(g0, g1, days) / 72) * 72
        shares = rng.dirichlet([3, 6, 3, 1, 0.3, 1.2], size=days)  # 4 classes, failed, idle
        alloc = shares[:, :4] * cap[:, None] * 0.95
        failed = shares[:, 4] * cap * 0.05
        idle = cap - alloc.sum(axis=1) - failed
        for i, t in enumerate(times):
            rows.append(
                {
                    "time": t,
                    "cluster": cluster,
                    "provider": provider,
                    "contract": contract,
                    "capacity_gpus": cap[i],
                    "allocated_inference_gpus": alloc[i, 0],
                    "allocated_training_gpus": alloc[i, 1],
                    "allocated_research_gpus": alloc[i, 2],
                    "allocated_best_effort_gpus": alloc[i, 3],
                    "failed_gpus": failed[i],
                    "idle_gpus": idle[i],
                    "stranded_gpus": float(int(idle[i]) // 3),  # part of the idle GPUs
                    "power_mw": cap[i] * 1.4 * 1.2 / 1000,
                }
            )
    series = check_table("series", pd.DataFrame(rows))

    # ---- jobs: every job finished, failed (with a reason), or queued/running at the horizon
    classes = rng.choice(["training", "research", "best-effort"], size=n_jobs, p=[0.2, 0.5, 0.3])
    submit = times[0] + pd.to_timedelta(rng.uniform(0, days * 86400, n_jobs), unit="s")
    wait = rng.lognormal(8.0, 1.5, n_jobs)
    wait[rng.random(n_jobs) < 0.08] = 40 * 86400.0  # some still waiting at the horizon
    run_s = rng.lognormal(10.0, 1.0, n_jobs)
    start = submit + pd.to_timedelta(wait, unit="s")
    end = start + pd.to_timedelta(run_s, unit="s")
    cluster_names = list(CLUSTERS)
    jobs_rows = []
    for j in range(n_jobs):
        cl = cluster_names[j % 3]
        provider, contract, _, _ = CLUSTERS[cl]
        failed = rng.random() < 0.08
        row = {
            "id": j + 1,
            "workload": f"{classes[j]}-stream",
            "team": ["pretrain", "post", "agents"][j % 3],
            "class": classes[j],
            "gpus": int(rng.choice([8, 64, 512, 2048])),
            "submit": submit[j],
            "start": start[j],
            "end": end[j],
            "cluster": cl,
            "provider": provider,
            "contract": contract,
            "wait_s": float(wait[j]),
            "restarts": int(rng.poisson(0.3)),
            "preemptions": int(rng.poisson(0.2)) if classes[j] != "training" else 0,
            "lost_gpu_hours": float(rng.exponential(50.0)),
            "state": "failed" if failed else "finished",
            "reason": "node failure, restarts exhausted" if failed else "",
        }
        if start[j] >= horizon_end:  # never started: queued at the horizon
            row.update(start=pd.NaT, end=pd.NaT, cluster=pd.NA, provider=pd.NA, contract=pd.NA)
            row.update(state="queued", reason="", wait_s=float((horizon_end - submit[j]).total_seconds()))
            row.update(restarts=0, preemptions=0, lost_gpu_hours=0.0)
        elif end[j] >= horizon_end:
            row.update(end=pd.NaT, state="running", reason="")
        jobs_rows.append(row)
    jobs = check_table("jobs", pd.DataFrame(jobs_rows))

    # ---- usage per contract and month, from the series (GPU-hours = GPUs x 24 h per daily step)
    s = series.assign(month=series["time"].dt.tz_localize(None).dt.to_period("M").dt.start_time)
    s["month"] = s["month"].dt.tz_localize("UTC").clip(lower=START)
    cls_cols = {c: f"allocated_{c.replace('-', '_')}_gpus" for c in PRIORITY_CLASSES}
    g = s.groupby(["contract", "provider", "month"], as_index=False)[
        ["capacity_gpus", *cls_cols.values()]
    ].sum()
    usage = pd.DataFrame(
        {
            "contract": g["contract"],
            "provider": g["provider"],
            "month": g["month"],
            "gpu_hours_available": g["capacity_gpus"] * step_h,
            **{f"gpu_hours_used_{c.replace('-', '_')}": g[col] * step_h for c, col in cls_cols.items()},
            "overflow_gpu_hours": 0.0,
        }
    )
    used_cols = [f"gpu_hours_used_{c.replace('-', '_')}" for c in PRIORITY_CLASSES]
    usage["gpu_hours_used"] = usage[used_cols].sum(axis=1)
    usage = check_table("usage", usage)

    # ---- inference per service, region and step
    inf_rows = []
    for service in ("chat", "api"):
        for region in ("us-east", "us-south"):
            demand = rng.uniform(2e6, 5e6) * np.linspace(1.0, 1.8, days)
            served = np.minimum(demand, rng.uniform(0.9, 1.05, days) * demand)
            for i, t in enumerate(times):
                replicas = served[i] / 20000.0
                inf_rows.append(
                    {
                        "service": service,
                        "region": region,
                        "time": t,
                        "demand_tokens_s": demand[i],
                        "served_tokens_s": served[i],
                        "replicas": replicas,
                        "gpus": replicas * 8,
                    }
                )
    inference = check_table("inference", pd.DataFrame(inf_rows))

    # ---- queue per step and class
    q_rows = [
        {"time": t, "class": c, "queued_jobs": float(rng.poisson(3)), "queued_gpus": float(rng.poisson(300))}
        for t in times
        for c in PRIORITY_CLASSES
    ]
    queue = check_table("queue", pd.DataFrame(q_rows))

    # ---- unmet: research's backlog per month, with each contract's idle GPU-hours that month
    def month_of(t: pd.Series) -> pd.Series:
        return t.dt.tz_localize(None).dt.to_period("M").dt.to_timestamp().dt.tz_localize("UTC")

    research_q = queue[queue["class"] == "research"]
    backlog = (research_q["queued_gpus"] * step_h).groupby(month_of(research_q["time"]).to_numpy()).sum()
    held = (series["allocated_research_gpus"] * step_h).groupby(month_of(series["time"]).to_numpy()).sum()
    idle = (
        (series["idle_gpus"] * step_h)
        .groupby([month_of(series["time"]).to_numpy(), series["contract"]])
        .sum()
    )
    u_rows = []
    for month, unmet in backlog.items():
        per = idle.loc[month].sort_values(ascending=False)
        u_rows.append(
            {
                "month": month,
                "kind": "research",
                "demand": "research",
                "demand_gpu_hours": held[month] + unmet,
                "served_gpu_hours": held[month],
                "unmet_gpu_hours": unmet,
                "unmet_pct": 100 * unmet / (held[month] + unmet),
                "demand_tokens": np.nan,
                "served_tokens": np.nan,
                "unmet_tokens": np.nan,
                "start_delay_days": np.nan,
                "idle_gpu_hours": float(per.sum()),
                "capacity_short_gpu_hours": max(0.0, unmet - float(per.sum())),
                "idle_contracts": "; ".join(f"{c}:{h:.0f}" for c, h in per.items()),
            }
        )
    unmet_table = check_table("unmet", pd.DataFrame(u_rows))

    # ---- ledger: minimum accrued by days; true-up at the term end (the 90 days are one contract year)
    led_rows = []
    for contract, (provider, price, minimum) in CONTRACTS.items():
        u = usage[usage["contract"] == contract].sort_values("month").reset_index(drop=True)
        days_in = s[s["contract"] == contract].groupby("month")["time"].nunique().sort_index().to_numpy()
        usage_cost = u["gpu_hours_used"].to_numpy() * price
        accrued = minimum * days_in / days
        true_up = np.zeros(len(u))
        true_up[-1] = max(0.0, minimum - usage_cost.sum())
        cap = u["gpu_hours_available"].to_numpy()
        for i in range(len(u)):
            led_rows.append(
                {
                    "contract": contract,
                    "provider": provider,
                    "kind": "committed",
                    "month": u.loc[i, "month"],
                    "contract_year": 1,
                    "gpu_hours_available": cap[i],
                    "gpu_hours_used": u.loc[i, "gpu_hours_used"],
                    "overflow_gpu_hours": 0.0,
                    "price_per_gpu_hour_usd": price,
                    "usage_cost_usd": usage_cost[i],
                    "minimum_accrued_usd": accrued[i],
                    "true_up_usd": true_up[i],
                    "cost_due_usd": usage_cost[i] + true_up[i],
                    "unused_commitment_usd": true_up[i],
                    "overflow_cost_usd": 0.0,
                    "plan_usd": minimum * cap[i] / cap.sum(),
                    "projected_shortfall_usd": max(0.0, minimum - usage_cost.sum()),
                    "power_cost_usd": 0.0,
                    "utilization_pct": 100 * u.loc[i, "gpu_hours_used"] / cap[i],
                    "coverage_pct": 100.0,
                    "waste_pct": 100 * (1 - u.loc[i, "gpu_hours_used"] / cap[i]),
                    "usd_per_used_gpu_hour": (usage_cost[i] + true_up[i]) / u.loc[i, "gpu_hours_used"],
                    "usd_per_pflop": 0.5,
                }
            )
    ledger = check_table("ledger", pd.DataFrame(led_rows))

    # ---- spend per year and provider; portfolio per year and revenue scenario
    led = ledger.assign(year=ledger["month"].dt.year)
    sp = led.groupby(["year", "provider"], as_index=False).agg(
        spend_usd=("cost_due_usd", "sum"), commitment_due_usd=("true_up_usd", "sum")
    )
    sp["share_pct"] = 100 * sp["spend_usd"] / sp.groupby("year")["spend_usd"].transform("sum")
    spend = check_table("spend", sp)
    port_rows = []
    for scen, per_month in REVENUE.items():
        cum = 0.0
        for year, grp in sp.groupby("year"):
            total = float(grp["spend_usd"].sum())
            months = led[led["year"] == year]["month"].nunique()
            revenue = per_month * months
            cum = max(0.0, cum + total - revenue)
            port_rows.append(
                {
                    "year": year,
                    "scenario": scen,
                    "spend_usd": total,
                    "power_cost_usd": 0.0,
                    "hhi": float((grp["share_pct"] ** 2).sum()),
                    "revenue_usd": revenue,
                    "inference_cost_usd": total * 0.3,
                    "inference_gross_margin_pct": 100 * (1 - total * 0.3 / revenue),
                    "cash_gap_usd": total - revenue,
                    "cumulative_funding_need_usd": cum,
                    "years_of_revenue_to_cover": 0.0,
                }
            )
    portfolio = check_table("portfolio", pd.DataFrame(port_rows))
    return RunTables(
        jobs=jobs,
        series=series,
        usage=usage,
        inference=inference,
        queue=queue,
        unmet=unmet_table,
        ledger=ledger,
        spend=spend,
        portfolio=portfolio,
    )


# ------------------------------------------------------------------ the builder is what it claims to be


def test_builder_conserves_gpus_and_accounts_for_every_job() -> None:
    t = make_tables(seed=3)
    s = t.series
    parts = s[[c for c in s.columns if c.startswith("allocated_")] + ["failed_gpus", "idle_gpus"]].sum(axis=1)
    np.testing.assert_allclose(parts, s["capacity_gpus"], rtol=1e-12)
    assert (s["idle_gpus"] >= 0).all()
    assert set(t.jobs["state"]) <= {"finished", "failed", "queued", "running"}
    assert (t.jobs.loc[t.jobs["state"] == "failed", "reason"] != "").all()
    assert t.jobs.loc[t.jobs["state"] == "queued", "start"].isna().all()
    assert len(t.series) == 90 * 3
    assert {"queued", "running", "failed", "finished"} <= set(t.jobs["state"])


def test_builder_ledger_never_below_minimum() -> None:
    t = make_tables(seed=4)
    for contract, (_, _, minimum) in CONTRACTS.items():
        led = t.ledger[t.ledger["contract"] == contract]
        assert led["cost_due_usd"].sum() >= minimum - 1e-6
        assert (
            abs(
                t.usage[t.usage["contract"] == contract]["gpu_hours_used"].sum() - led["gpu_hours_used"].sum()
            )
            < 1e-6
        )
    assert t.spend["spend_usd"].sum() == pytest.approx(t.ledger["cost_due_usd"].sum())
