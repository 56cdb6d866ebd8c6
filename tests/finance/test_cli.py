"""`gpufleet finance`, `gpufleet finance export` and `gpufleet deal` from the command line; the
simulation is replaced by hand-built tables so that only the command layer and finance are exercised."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import run_cli

from finance.test_ledger import BASE, GPUS, monthly, usage_frame
from gpufleet import __version__
from gpufleet.finance import compute_finance
from gpufleet.finance.focus import FOCUS_MANDATORY
from gpufleet.pipeline import RunResult
from gpufleet.scenario import LoadedScenario
from gpufleet.store import RunMeta, open_store
from gpufleet.tables import RunTables

MINIMUM = GPUS * 8760 * 4.0
TEXT = BASE.format(
    h0="2025-01-01",
    h1="2025-12-31",
    t0="2025-01-01",
    t1="2025-12-31",
    commitment=f"{{min_per_year_usd: {MINIMUM}}}",
    price=4.0,
    ramp="",
    power="",
)


def fake_tables() -> RunTables:
    usage = usage_frame(monthly("tp", dt.date(2025, 1, 1), dt.date(2025, 12, 31), GPUS * 24.0, 0.6))
    return RunTables(usage=usage)


def meta(loaded: LoadedScenario, run_id: str = "20250101-000000-abcdef") -> RunMeta:
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return RunMeta(
        run_id, loaded.scenario.name, loaded.content_hash, 0, __version__, now, now, "finished", 0.0
    )


@pytest.fixture
def scenario_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(TEXT)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # `finance FILE` stores its run in ./gpufleet-results.duckdb
    calls: list[int | None] = []

    def run_scenario(
        loaded: LoadedScenario, seed: int | None = None, progress: object = None, plan_months: object = ()
    ) -> RunResult:
        calls.append(seed)  # like the real pipeline, the run comes back with its finance computed
        return RunResult(meta(loaded), compute_finance(fake_tables(), loaded.scenario, loaded.catalog))

    monkeypatch.setattr("gpufleet.pipeline.run_scenario", run_scenario)
    return path


def test_finance_prints_used_and_unused_commitment_by_year(
    scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_cli("finance", str(scenario_file), "--quiet", capsys=capsys)
    assert r.code == 0, r.stderr
    assert "Ledger by contract and contract year" in r.stdout
    assert "Portfolio by year" in r.stdout
    assert "tp" in r.stdout
    assert f"${0.4 * MINIMUM / 1e6:,.2f}M" in r.stdout  # the unused commitment paid at the true-up
    # capacity all year is worth exactly the minimum: nothing structural, the idle 40% is demand
    assert f"structural $0.00 + demand ${0.4 * MINIMUM / 1e6:,.2f}M" in r.stdout
    assert "Cash out and accrued cost by provider and year" in r.stdout
    # no revenue scenario: the funding need is the year's cash out, peaking in 2025
    assert f"Peak funding need (none): ${MINIMUM / 1e6:,.2f}M by the end of 2025" in r.stdout


def test_finance_json(scenario_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli("finance", str(scenario_file), "--json", "--quiet", capsys=capsys)
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    tp = [row for row in data["contracts_by_year"] if row["contract"] == "tp"]
    assert len(tp) == 1
    assert tp[0]["committed_usd"] == pytest.approx(MINIMUM)
    assert tp[0]["used_commitment_usd"] == pytest.approx(0.6 * MINIMUM)
    assert tp[0]["unused_commitment_usd"] == pytest.approx(0.4 * MINIMUM)
    assert tp[0]["cost_due_usd"] == pytest.approx(MINIMUM)
    assert data["portfolio"] and data["spend"]
    assert data["spend"][0]["spend_usd"] == pytest.approx(MINIMUM)
    assert data["unused_commitment"]["structural_unused_usd"] == pytest.approx(0.0, abs=1e-6)
    assert data["unused_commitment"]["demand_unused_usd"] == pytest.approx(0.4 * MINIMUM)
    total = [c for c in data["cash_and_cost_by_year"] if c["provider"] == "total"]
    assert [c["year"] for c in total] == [2025]
    assert total[0]["cash_out_usd"] == pytest.approx(MINIMUM)  # true-up billed at the year's end
    assert total[0]["accrued_cost_usd"] == pytest.approx(MINIMUM)
    assert data["funding_peaks"] == [
        {"scenario": "none", "peak_funding_need_usd": pytest.approx(MINIMUM), "peak_year": 2025}
    ]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_finance_export_writes_focus_rows(
    scenario_file: Path, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"bill.{fmt}"
    r = run_cli("finance", "export", str(scenario_file), "--format", fmt, "-o", str(out), "-q", capsys=capsys)
    assert r.code == 0, r.stderr
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert set(FOCUS_MANDATORY) <= set(frame.columns)
    assert frame["BilledCost"].sum() == pytest.approx(MINIMUM)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["case.yaml", "cwd", out.name]
    )  # no temp file left
    if fmt == "csv":
        assert str(frame["ChargePeriodStart"].iloc[0]).endswith("Z")


def test_finance_export_bad_input_exits_2_and_writes_nothing(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_cli(
        "finance", "export", str(scenario_file), "--format", "xlsx", "-o", str(tmp_path / "b"), capsys=capsys
    )
    assert r.code == 2 and "--format" in r.stderr
    r = run_cli(
        "finance", "export", str(scenario_file), "-o", str(tmp_path / "none" / "b.csv"), capsys=capsys
    )
    assert r.code == 2 and "none/b.csv: cannot write here: No such file or directory" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml", "cwd"]
    assert not any((tmp_path / "cwd").iterdir())  # no run simulated or stored for bad input


def test_finance_reads_a_stored_run(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gpufleet.scenario import load_scenario

    loaded = load_scenario(scenario_file)
    store_path = tmp_path / "runs.duckdb"
    with open_store(store_path) as st:
        st.save_run(meta(loaded, "20250101-000000-stored"), fake_tables())  # no ledger stored: computed
    r = run_cli(
        "finance", str(scenario_file), "--run", "latest", "--store", str(store_path), "--json", capsys=capsys
    )
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["run_id"] == "20250101-000000-stored"
    assert sum(row["cost_due_usd"] for row in data["contracts_by_year"]) == pytest.approx(MINIMUM)
    r = run_cli("finance", "--run", "latest", "--store", str(store_path), capsys=capsys)
    assert r.code == 2 and "give the scenario FILE" in r.stderr
    r = run_cli("finance", "--run", "nope", "--store", str(store_path), capsys=capsys)
    assert r.code == 2 and "no run 'nope'" in r.stderr


# ------------------------------------------------------------------------------------------- deal


def test_deal_reproduces_the_38b_arithmetic(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli("deal", "--amount", "38e9", "--years", "7", "--product", "aws/u-p6e-gb200x72", capsys=capsys)
    assert r.code == 0, r.stderr
    assert "58,562" in r.stdout  # at the $10.582 capacity-block list price
    assert "$10.58" in r.stdout and "$3.00" in r.stdout  # a range below the list price by default
    r = run_cli(
        "deal",
        "--amount",
        "38e9",
        "--years",
        "7",
        "--product",
        "aws/u-p6e-gb200x72",
        "--gpus",
        "200000",
        "--json",
        capsys=capsys,
    )
    data = json.loads(r.stdout)
    implied = [p for p in data["points"] if p["label"].startswith("implied")]
    assert implied[0]["price_per_gpu_hour_usd"] == pytest.approx(38e9 / (7 * 8760 * 200_000))
    assert round(implied[0]["price_per_gpu_hour_usd"], 2) == 3.10


def test_deal_reverse_and_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(
        "deal",
        "--years",
        "7",
        "--product",
        "aws/u-p6e-gb200x72",
        "--gpus",
        "1000",
        "--price",
        "3",
        "--json",
        capsys=capsys,
    )
    assert r.code == 0, r.stderr
    given = [p for p in json.loads(r.stdout)["points"] if p["label"] == "given"]
    assert given[0]["amount_usd"] == pytest.approx(1000 * 3 * 8760 * 7)
    for args, where in [
        (["--amount", "-1", "--years", "7", "--product", "aws/u-p6e-gb200x72"], "--amount"),
        (["--amount", "1e9", "--years", "7", "--product", "aws/u-p6e-gb200"], "--product"),
        (["--years", "7", "--product", "aws/u-p6e-gb200x72"], "--amount"),
        (["--amount", "1e9", "--years", "7", "--product", "aws/u-p6e-gb200x72", "--price", "0"], "--price"),
    ]:
        r = run_cli("deal", *args, capsys=capsys)
        assert r.code == 2, args
        assert where in r.stderr and "Traceback" not in r.stderr


def test_a_pool_no_workload_may_use_is_one_line_not_a_row_a_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """small.yaml with overflow off: its capacity-block pool is never used nor billed; the ledger table
    lists no zero rows for it (once a year of its term) but says once what it is."""
    small = Path(__file__).resolve().parents[1] / "scenarios" / "small.yaml"
    scenario = tmp_path / "pool.yaml"
    scenario.write_text(small.read_text().replace("overflow: true", "overflow: false"))
    store = tmp_path / "s.duckdb"
    args = ("--store", str(store), "--no-report", "--quiet")
    assert run_cli("simulate", str(scenario), *args, capsys=capsys).code == 0
    r = run_cli("finance", "--run", "latest", "--store", str(store), capsys=capsys)
    assert r.code == 0
    contracts = yaml.safe_load(scenario.read_text())["contracts"]
    pools = [c["name"] for c in contracts if c.get("kind", "committed") != "committed"]
    assert pools
    for pool in pools:
        assert f"{pool}: no workload may use it" in r.stdout
        assert not any(line.startswith(f"│ {pool}") for line in r.stdout.splitlines())
