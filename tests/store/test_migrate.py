"""Store migrations: a store written by the previous schema (version 1) opens, migrated, with its runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from gpufleet.errors import InputError
from gpufleet.store import migrate as migrate_module
from gpufleet.store import open_store
from gpufleet.store import schema as schema_module
from gpufleet.store.schema import STORE_VERSION
from store.test_builder import make_tables
from store.test_roundtrip import make_meta

# Frozen copy of the DDL that gpufleet wrote before store versions were numbers ("version 1"); its
# meta table held a fingerprint of the layout instead of a number. Never edit: it is history.
V1_DDL = [
    'CREATE TABLE "gpufleet_store" (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)',
    (
        'CREATE TABLE "runs" ("run_id" VARCHAR PRIMARY KEY, "scenario_name" VARCHAR NOT NULL,'
        ' "content_hash" VARCHAR NOT NULL, "seed" BIGINT NOT NULL,'
        ' "gpufleet_version" VARCHAR NOT NULL, "started" TIMESTAMP NOT NULL,'
        ' "finished" TIMESTAMP NOT NULL, "status" VARCHAR NOT NULL, "wall_s" DOUBLE NOT NULL)'
    ),
    'CREATE TABLE "scenarios" (content_hash VARCHAR PRIMARY KEY, text VARCHAR NOT NULL)',
    (
        'CREATE TABLE "jobs" ("run_id" VARCHAR NOT NULL, "_row" BIGINT NOT NULL, "id" BIGINT,'
        ' "workload" VARCHAR, "team" VARCHAR, "class" VARCHAR, "gpus" BIGINT, "submit" TIMESTAMP,'
        ' "start" TIMESTAMP, "end" TIMESTAMP, "cluster" VARCHAR, "provider" VARCHAR,'
        ' "contract" VARCHAR, "wait_s" DOUBLE, "restarts" BIGINT, "preemptions" BIGINT,'
        ' "lost_gpu_hours" DOUBLE, "state" VARCHAR, "reason" VARCHAR)'
    ),
    (
        'CREATE TABLE "series" ("run_id" VARCHAR NOT NULL, "_row" BIGINT NOT NULL, "time" TIMESTAMP,'
        ' "cluster" VARCHAR, "provider" VARCHAR, "contract" VARCHAR, "capacity_gpus" DOUBLE,'
        ' "allocated_inference_gpus" DOUBLE, "allocated_training_gpus" DOUBLE,'
        ' "allocated_research_gpus" DOUBLE, "allocated_best_effort_gpus" DOUBLE, "failed_gpus" DOUBLE,'
        ' "idle_gpus" DOUBLE, "stranded_gpus" DOUBLE, "power_mw" DOUBLE)'
    ),
    (
        'CREATE TABLE "usage" ("run_id" VARCHAR NOT NULL, "_row" BIGINT NOT NULL, "contract" VARCHAR,'
        ' "provider" VARCHAR, "month" TIMESTAMP, "gpu_hours_available" DOUBLE,'
        ' "gpu_hours_used" DOUBLE, "gpu_hours_used_inference" DOUBLE,'
        ' "gpu_hours_used_training" DOUBLE, "gpu_hours_used_research" DOUBLE,'
        ' "gpu_hours_used_best_effort" DOUBLE, "overflow_gpu_hours" DOUBLE)'
    ),
    (
        'CREATE TABLE "inference" ("run_id" VARCHAR NOT NULL, "_row" BIGINT NOT NULL,'
        ' "service" VARCHAR, "region" VARCHAR, "time" TIMESTAMP, "demand_tokens_s" DOUBLE,'
        ' "served_tokens_s" DOUBLE, "replicas" DOUBLE, "gpus" DOUBLE)'
    ),
    (
        'CREATE TABLE "queue" ("run_id" VARCHAR NOT NULL, "_row" BIGINT NOT NULL, "time" TIMESTAMP,'
        ' "class" VARCHAR, "queued_jobs" DOUBLE, "queued_gpus" DOUBLE)'
    ),
    (
        'CREATE TABLE "ledger" ("run_id" VARCHAR NOT NULL, "_row" BIGINT NOT NULL, "contract" VARCHAR,'
        ' "provider" VARCHAR, "kind" VARCHAR, "month" TIMESTAMP, "contract_year" BIGINT,'
        ' "gpu_hours_available" DOUBLE, "gpu_hours_used" DOUBLE, "overflow_gpu_hours" DOUBLE,'
        ' "price_per_gpu_hour_usd" DOUBLE, "usage_cost_usd" DOUBLE, "minimum_accrued_usd" DOUBLE,'
        ' "true_up_usd" DOUBLE, "cost_due_usd" DOUBLE, "unused_commitment_usd" DOUBLE,'
        ' "overflow_cost_usd" DOUBLE, "plan_usd" DOUBLE, "projected_shortfall_usd" DOUBLE,'
        ' "power_cost_usd" DOUBLE, "utilization_pct" DOUBLE, "coverage_pct" DOUBLE,'
        ' "waste_pct" DOUBLE, "usd_per_used_gpu_hour" DOUBLE, "usd_per_pflop" DOUBLE)'
    ),
    (
        'CREATE TABLE "spend" ("run_id" VARCHAR NOT NULL, "_row" BIGINT NOT NULL, "year" BIGINT,'
        ' "provider" VARCHAR, "spend_usd" DOUBLE, "commitment_due_usd" DOUBLE, "share_pct" DOUBLE)'
    ),
    (
        'CREATE TABLE "portfolio" ("run_id" VARCHAR NOT NULL, "_row" BIGINT NOT NULL, "year" BIGINT,'
        ' "scenario" VARCHAR, "spend_usd" DOUBLE, "power_cost_usd" DOUBLE, "hhi" DOUBLE,'
        ' "revenue_usd" DOUBLE, "inference_cost_usd" DOUBLE, "inference_gross_margin_pct" DOUBLE,'
        ' "cash_gap_usd" DOUBLE, "cumulative_funding_need_usd" DOUBLE,'
        ' "years_of_revenue_to_cover" DOUBLE)'
    ),
]
V1_FINGERPRINT = "2.935feca27a06"
RUN = "20261101-080000-abcdef"
STARTED = dt.datetime(2026, 11, 1, 8, 0)


def write_v1_store(path: Path) -> None:
    """A version-1 store holding one finished run with one job, written with the frozen DDL."""
    con = duckdb.connect(str(path))
    for stmt in V1_DDL:
        con.execute(stmt)
    con.executemany(
        "INSERT INTO gpufleet_store VALUES (?, ?)", [["app", "gpufleet"], ["schema_version", V1_FINGERPRINT]]
    )
    con.execute(
        "INSERT INTO runs VALUES (?, 'old-scenario', 'hash1', 3, '0.0.9', ?, ?, 'finished', 12.5)",
        [RUN, STARTED, STARTED + dt.timedelta(seconds=12.5)],
    )
    con.execute("INSERT INTO scenarios VALUES ('hash1', 'name: old-scenario')")
    con.execute(
        "INSERT INTO jobs VALUES (?, 0, 1, 'w', 'team-a', 'research', 8, ?, ?, ?, 'c1', 'aws', 'k1', "
        "60.0, 0, 0, 0.0, 'finished', '')",
        [RUN, STARTED, STARTED + dt.timedelta(minutes=1), STARTED + dt.timedelta(hours=2)],
    )
    con.close()


def meta_version(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT value FROM gpufleet_store WHERE key = 'schema_version'").fetchone()
        assert row is not None
        return str(row[0])
    finally:
        con.close()


@pytest.mark.parametrize("read_only", [True, False])
def test_a_version_1_store_opens_migrated_with_its_run(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "old.duckdb"
    write_v1_store(path)
    with open_store(path, read_only=read_only) as store:
        assert store.run_ids() == [RUN]
        meta = store.load_meta(RUN)
        assert (meta.scenario_name, meta.seed, meta.wall_s) == ("old-scenario", 3, 12.5)
        jobs = store.load_run(RUN).jobs
        assert list(jobs["team"]) == ["team-a"] and list(jobs["gpus"]) == [8]
        assert store.load_scenario_text(RUN) == "name: old-scenario"
        [status] = store.statuses()
        assert (status.run_id, status.status, status.seed) == (RUN, "finished", 3)
    assert meta_version(path) == str(STORE_VERSION)


def test_a_migrated_store_takes_new_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    write_v1_store(path)
    new = make_meta(minutes=5)
    with open_store(path) as store:
        store.save_run(new, make_tables(seed=1))
    with open_store(path, read_only=True) as store:
        assert set(store.run_ids()) == {RUN, new.run_id}
        assert {s.run_id: s.status for s in store.statuses()} == {RUN: "finished", new.run_id: "finished"}


def test_a_failing_migration_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.duckdb"
    write_v1_store(path)
    real = migrate_module.MIGRATIONS[1]

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        real(con)
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(migrate_module.MIGRATIONS, 1, broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        open_store(path)
    assert meta_version(path) == V1_FINGERPRINT  # one transaction: still version 1, no status table
    con = duckdb.connect(str(path), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    con.close()
    assert "run_status" not in tables and "runs" in tables


def test_a_column_missing_from_the_file_is_added_and_reads_null(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    write_v1_store(path)
    con = duckdb.connect(str(path))
    con.execute('ALTER TABLE jobs DROP COLUMN "lost_gpu_hours"')  # as if tables.py added it since
    con.close()
    with open_store(path, read_only=True) as store:
        jobs = store.load_run(RUN).jobs
    assert jobs["lost_gpu_hours"].isna().all() and list(jobs["gpus"]) == [8]


def test_a_newer_or_unknown_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with open_store(path):
        pass
    for value, what in ((str(STORE_VERSION + 1), "is newer than"), ("0.deadbeef", "is unknown to")):
        con = duckdb.connect(str(path))
        con.execute("UPDATE gpufleet_store SET value = ? WHERE key = 'schema_version'", [value])
        con.close()
        with pytest.raises(InputError, match=what):
            open_store(path)


def _table_names(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()


def test_a_run_table_or_side_table_missing_from_the_file_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.duckdb"
    write_v1_store(path)
    con = duckdb.connect(str(path))
    con.execute('DROP TABLE "queue"')  # as if tables.py added the queue table since
    con.close()
    columns = {"thing_id": "VARCHAR PRIMARY KEY", "n": "BIGINT"}
    monkeypatch.setitem(schema_module.SIDE_TABLES, "things", columns)
    with open_store(path) as store:
        assert store.load_run(RUN).queue.empty  # the old run has no rows in a table it never wrote
    assert {"queue", "things"} <= _table_names(path)
    with open_store(path, read_only=True) as store:  # nothing left to migrate
        assert store.run_ids() == [RUN]


def test_a_new_store_holds_the_side_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(schema_module.SIDE_TABLES, "things", {"thing_id": "VARCHAR PRIMARY KEY"})
    path = tmp_path / "new.duckdb"
    with open_store(path):
        pass
    assert "things" in _table_names(path)
