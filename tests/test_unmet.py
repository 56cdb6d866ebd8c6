"""The unmet table: a hand-built run with known shortfalls and idle contracts; invariants on a real run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import SMALL

from gpufleet.assemble import allowed_clusters
from gpufleet.fleet.usable import usable_contracts
from gpufleet.pipeline import run_scenario
from gpufleet.report.findings import findings
from gpufleet.scenario import LoadedScenario, load_scenario_text
from gpufleet.tables import TIME, RunTables, check_table, empty_table
from gpufleet.unmet import idle_contracts, unmet_table

# Two months, daily steps. aws-a: 2 NVL72 domains (144 GPUs); azure-b: 4 (288); aws-od: a capacity block
# the scenario keeps out of use (overflow off): its idle GPUs must never be offered.
TEXT = """
name: unmet-case
horizon: {start: 2026-01-01, end: 2026-02-28, step: 1d}
providers: [aws, azure]
sites:
  - {name: s-aws, provider: aws, region: us-east-1, geo: us, power_mw: 50, pue: 1.2}
  - {name: s-azure, provider: azure, region: us-central, geo: us, power_mw: 50, pue: 1.2}
clusters:
  - {name: aws-a, site: s-aws, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 2}
  - {name: aws-od, site: s-aws, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 2}
  - {name: azure-b, site: s-azure, product: azure/nd-gb300-v6, blocks: 1, domains_per_block: 4}
contracts:
  - name: aws-main
    provider: aws
    clusters: [aws-a]
    term: {start: 2026-01-01, end: 2026-12-31}
    price_per_gpu_hour_usd: 3.0
    ramp: [{date: 2026-01-01, domains: 2}]
  - {name: aws-blocks, provider: aws, kind: capacity-block, clusters: [aws-od], cap_gpus: 144}
  - name: azure-main
    provider: azure
    clusters: [azure-b]
    term: {start: 2026-01-01, end: 2026-12-31}
    price_per_gpu_hour_usd: 3.5
    ramp: [{date: 2026-01-01, domains: 4}]
teams:
  - {name: frontier, quota_share: 0.5, priority_class: training}
  - {name: serving, quota_share: 0.3, priority_class: inference}
  - {name: research, quota_share: 0.2, priority_class: research}
workloads:
  - training_run:
      {name: big, team: frontier, params: 1.0e9, tokens: 1.0e10, accelerator: gb200, gpus: 144,
       earliest_start: 2026-01-11, allowed_providers: [aws]}
  - training_run:
      {name: huge, team: frontier, params: 1.0e9, tokens: 1.0e10, accelerator: gb200, gpus: 288}
  - inference:
      name: chat
      team: serving
      model_class: frontier-moe
      replica_gpus: 72
      tokens_per_s_per_gpu: {gb300: 100.0, gb200: 50.0}
      allowed_providers: [azure]
      demand: {weekly_users: 1.0e6, tokens_per_user_per_day: 100, regions: {us: {share: 1.0}}}
  - stream:
      name: research-jobs
      team: research
      allowed_providers: [aws]
      synthetic: {source: philly, jobs_per_day: 10}
policies: {overflow: false}
"""

DAYS = pd.date_range("2026-01-01", "2026-02-28", freq="D", tz="UTC").astype("datetime64[us, UTC]")
JAN, FEB = pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-02-01", tz="UTC")
CAPACITY = {"aws-a": 144.0, "aws-od": 144.0, "azure-b": 288.0}
CONTRACT = {"aws-a": "aws-main", "aws-od": "aws-blocks", "azure-b": "azure-main"}


def _loaded() -> LoadedScenario:
    return load_scenario_text(TEXT, "unmet-case.yaml")


def _day(month: int, day: int) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime(2026, month, day, tzinfo=dt.UTC))


def _idle(cluster: str, t: pd.Timestamp) -> float:
    """Idle GPUs by hand: aws-a 10 on Jan 20-24 and 30 on Feb 1-2; azure-b 100 all January; aws-od all."""
    if cluster == "aws-a":
        if _day(1, 20) <= t <= _day(1, 24):
            return 10.0
        return 30.0 if t in (_day(2, 1), _day(2, 2)) else 0.0
    if cluster == "azure-b":
        return 100.0 if t.month == 1 else 0.0
    return CAPACITY[cluster]


def hand_tables() -> RunTables:
    series = []
    for cluster, cap in CAPACITY.items():
        for t in DAYS:
            idle = _idle(cluster, t)
            research = 20.0 if cluster == "aws-a" else 0.0
            series.append(
                {
                    "time": t, "cluster": cluster, "provider": cluster.split("-")[0],
                    "contract": CONTRACT[cluster], "capacity_gpus": cap, "allocated_inference_gpus": 0.0,
                    "allocated_training_gpus": max(cap - idle - research, 0.0),
                    "allocated_research_gpus": research, "allocated_best_effort_gpus": 0.0,
                    "failed_gpus": 0.0, "idle_gpus": idle, "stranded_gpus": 0.0, "power_mw": 0.0,
                }
            )  # fmt: skip
    # chat/us: 500 tokens/s served every day, but on Jan 3 1,000 asked and 600 served
    demand = [1000.0 if t == _day(1, 3) else 500.0 for t in DAYS]
    served = [600.0 if t == _day(1, 3) else 500.0 for t in DAYS]
    inference = pd.DataFrame(
        {"service": "chat", "region": "us", "time": DAYS, "demand_tokens_s": demand,
         "served_tokens_s": served, "replicas": 1.0, "gpus": 72.0}
    )  # fmt: skip
    # research waits for 50 GPUs on Feb 1 and 2
    queued = [50.0 if t in (_day(2, 1), _day(2, 2)) else 0.0 for t in DAYS]
    queue = pd.DataFrame(
        {
            "time": DAYS.append(DAYS),
            "class": ["research"] * len(DAYS) + ["best-effort"] * len(DAYS),
            "queued_jobs": 0.0,
            "queued_gpus": queued + [0.0] * len(DAYS),
        }
    )
    nat = pd.NaT
    jobs = pd.DataFrame(
        {
            "id": [0, 1], "workload": ["big", "huge"], "team": "frontier", "class": "training",
            "gpus": [144, 288], "submit": [_day(1, 11), _day(1, 1)], "start": [_day(2, 5), nat],
            "end": pd.Series([nat, nat], dtype=TIME), "cluster": ["aws-a", None], "provider": ["aws", None],
            "contract": ["aws-main", None], "wait_s": [25 * 86400.0, 59 * 86400.0], "restarts": 0,
            "preemptions": 0, "lost_gpu_hours": 0.0, "state": ["running", "queued"], "reason": "",
        }
    )  # fmt: skip
    return RunTables(
        jobs=check_table("jobs", jobs),
        series=check_table("series", pd.DataFrame(series)),
        inference=check_table("inference", inference),
        queue=check_table("queue", queue),
    )


def _unmet(tables: RunTables, loaded: LoadedScenario) -> pd.DataFrame:
    t = tables
    return unmet_table(t.jobs, t.series, t.inference, t.queue, loaded.scenario, loaded.catalog)


def test_hand_built_run_has_the_hand_computed_shortfalls_and_idle_contracts() -> None:
    u = _unmet(hand_tables(), _loaded())
    got = {(r.month, r.demand): r for r in u.itertuples(index=False)}
    assert list(got) == [
        (JAN, "chat/us"), (JAN, "big"), (JAN, "huge"), (FEB, "big"), (FEB, "huge"), (FEB, "research"),
    ]  # fmt: skip
    # chat/us, January: 400 tokens/s short for one day; 100 tokens/s per GPU on gb300 (azure only)
    chat = got[(JAN, "chat/us")]
    assert chat.unmet_tokens == pytest.approx(400 * 86400)
    assert chat.demand_tokens == pytest.approx((1000 + 30 * 500) * 86400)
    assert chat.unmet_gpu_hours == pytest.approx(400 * 86400 / (100 * 3600))  # 96
    assert chat.unmet_pct == pytest.approx(100 * 400 / 16000)
    assert idle_contracts(chat.idle_contracts) == {"azure-main": 2400.0}  # Jan 3 only: 100 GPUs x 24 h
    assert chat.capacity_short_gpu_hours == 0.0
    # big (144 GPUs, aws only): planned Jan 11, started Feb 5: 21 days waited in January, 4 in February
    big_jan, big_feb = got[(JAN, "big")], got[(FEB, "big")]
    assert big_jan.unmet_gpu_hours == 144 * 21 * 24 and big_jan.served_gpu_hours == 0
    assert big_jan.start_delay_days == 25 and big_feb.start_delay_days == 25
    assert idle_contracts(big_jan.idle_contracts) == {"aws-main": 10 * 5 * 24.0}  # never aws-blocks
    assert big_jan.capacity_short_gpu_hours == 144 * 21 * 24 - 1200
    assert big_feb.unmet_gpu_hours == 144 * 4 * 24
    assert big_feb.served_gpu_hours == 144 * 24 * 24  # Feb 5 to the horizon (Mar 1)
    assert idle_contracts(big_feb.idle_contracts) == {"aws-main": 30 * 2 * 24.0}
    # huge (288 GPUs) never started: the whole horizon waited; aws-a (144) cannot hold it
    huge_jan, huge_feb = got[(JAN, "huge")], got[(FEB, "huge")]
    assert huge_jan.unmet_gpu_hours == 288 * 31 * 24 and huge_jan.start_delay_days == 59
    assert idle_contracts(huge_jan.idle_contracts) == {"azure-main": 100 * 31 * 24.0}
    assert huge_feb.idle_contracts == "" and huge_feb.idle_gpu_hours == 0.0
    assert huge_feb.capacity_short_gpu_hours == 288 * 28 * 24
    # research: 50 GPUs queued for 2 days; it held 20 GPUs on aws-a all February
    res = got[(FEB, "research")]
    assert res.kind == "research"
    assert (res.unmet_gpu_hours, res.served_gpu_hours) == (50 * 48, 20 * 28 * 24)
    assert idle_contracts(res.idle_contracts) == {"aws-main": 1440.0}
    assert res.capacity_short_gpu_hours == 2400 - 1440
    assert u["demand_tokens"].isna().sum() == 5  # tokens only for inference


def test_the_worst_month_finding_names_the_idle_contracts() -> None:
    tables = hand_tables()
    tables.unmet = _unmet(tables, _loaded())
    [f] = [f for f in findings(tables) if f.kind == "unmet"]
    # January: 96 + 72,576 + 214,272 GPU-h unmet of 3,840 + 72,576 + 214,272 asked; short: 0 + (72,576 -
    # 1,200) + (214,272 - 74,400); per contract, the most one demand could have drawn
    assert f.date == "2026-01" and f.subject == "huge"
    assert f.values["unmet_gpu_hours"] == pytest.approx(96 + 72_576 + 214_272)
    assert f.values["idle_contracts"] == "azure-main,aws-main"
    assert f.text == (
        "Unmet demand: worst month Jan 2026, 286.94k of 290.69k GPU-h asked went unmet (98.7%), "
        "most by huge (214.27k); 211.25k GPU-h capacity short; contracts it may use sat idle meanwhile: "
        "azure-main (74.40k GPU-h), aws-main (1.20k GPU-h)."
    )


def test_a_month_with_no_idle_capacity_says_capacity_short() -> None:
    tables = hand_tables()
    u = _unmet(tables, _loaded())
    tables.unmet = u[u["month"] == FEB].assign(idle_contracts="", idle_gpu_hours=0.0)
    [f] = [f for f in findings(tables) if f.kind == "unmet"]
    assert f.text.endswith("; capacity short: no contract it may use had idle GPUs meanwhile.")


def test_no_unmet_finding_for_an_old_run_without_the_table() -> None:
    tables = hand_tables()  # its inference and queue show demand waiting, but it has no unmet rows
    assert not [f for f in findings(tables) if f.kind == "unmet"]
    quiet = RunTables(series=tables.series, queue=tables.queue.assign(queued_gpus=0.0))
    [f] = [f for f in findings(quiet) if f.kind == "unmet"]
    assert f.text == "Unmet demand: none in any month."


def test_nothing_unmet_gives_an_empty_table() -> None:
    t = hand_tables()
    served = t.inference.assign(served_tokens_s=t.inference["demand_tokens_s"])
    quiet = t.queue.assign(queued_gpus=0.0)
    on_time = t.jobs.assign(start=[_day(1, 11), _day(1, 1)])
    u = unmet_table(on_time, t.series, served, quiet, _loaded().scenario, _loaded().catalog)
    pd.testing.assert_frame_equal(u, empty_table("unmet"))


# ------------------------------------------------------------------------------ a real small run


@pytest.fixture(scope="module")
def pressed() -> tuple[LoadedScenario, RunTables]:
    """small.yaml with a training run too big for January's half ramp and 15x the chat users."""
    text = (
        Path(SMALL)
        .read_text()
        .replace("gpus: 576", "gpus: 1440")
        .replace("weekly_users: 2.0e6", "weekly_users: 3.0e7")
    )
    loaded = load_scenario_text(text, "pressed.yaml")
    return loaded, run_scenario(loaded).tables


def test_a_real_run_fills_every_kind(pressed: tuple[LoadedScenario, RunTables]) -> None:
    _, t = pressed
    assert {"inference", "training", "research"} <= set(t.unmet["kind"])


def test_served_plus_unmet_is_demand_and_unmet_is_never_more(
    pressed: tuple[LoadedScenario, RunTables],
) -> None:
    u = pressed[1].unmet
    d, s, m = (u[c].to_numpy(np.float64) for c in ("demand_gpu_hours", "served_gpu_hours", "unmet_gpu_hours"))
    np.testing.assert_allclose(s + m, d, rtol=1e-9)
    assert (m > 0).all() and (m <= d * (1 + 1e-12)).all()  # a row only where something went unmet
    assert (u["capacity_short_gpu_hours"] <= m + 1e-9).all()
    inf = u[u["kind"] == "inference"]
    np.testing.assert_allclose(inf["served_tokens"] + inf["unmet_tokens"], inf["demand_tokens"], rtol=1e-9)
    assert not u.duplicated(["month", "demand"]).any()


def test_unmet_inference_matches_the_inference_table(pressed: tuple[LoadedScenario, RunTables]) -> None:
    _, t = pressed
    inf = t.inference
    unserved = (inf["demand_tokens_s"] - inf["served_tokens_s"]).clip(lower=0) * 86400.0  # daily steps
    total = unserved.groupby([inf["service"].astype(str), inf["region"].astype(str)]).sum()
    rows = t.unmet[t.unmet["kind"] == "inference"]
    by_demand = rows.groupby("demand")["unmet_tokens"].sum()
    for (service, region), tokens in total.items():
        assert by_demand.get(f"{service}/{region}", 0.0) == pytest.approx(tokens, rel=1e-6, abs=1.0)


def test_a_listed_contract_was_idle_that_month_and_allowed(pressed: tuple[LoadedScenario, RunTables]) -> None:
    loaded, t = pressed
    s = loaded.scenario
    usable = usable_contracts(s)
    series = t.series.assign(
        month=t.series["time"].dt.tz_localize(None).dt.to_period("M").dt.to_timestamp().dt.tz_localize("UTC")
    )
    clusters = [c.name for c in s.clusters]
    providers = {w.item.name: getattr(w.item, "allowed_providers", None) for w in s.workloads}
    seen = 0
    for r in t.unmet.itertuples(index=False):
        listed = idle_contracts(str(r.idle_contracts))
        assert sum(listed.values()) == pytest.approx(r.idle_gpu_hours, abs=0.5 * len(listed) + 1e-9)
        name = str(r.demand).split("/")[0]
        allowed = {clusters[i] for i in allowed_clusters(s, providers.get(name))}
        for contract, hours in listed.items():
            seen += 1
            assert contract in usable
            mine = series[(series["month"] == r.month) & (series["contract"] == contract)]
            idle_that_month = float((mine["idle_gpus"].clip(lower=0) * 24.0).sum())
            assert 1.0 <= hours <= idle_that_month + 0.5
            assert set(mine["cluster"].astype(str)) & allowed
    assert seen > 0


def test_same_run_same_table(pressed: tuple[LoadedScenario, RunTables]) -> None:
    loaded, t = pressed
    again = unmet_table(t.jobs, t.series, t.inference, t.queue, loaded.scenario, loaded.catalog)
    pd.testing.assert_frame_equal(t.unmet, again, check_exact=True)
