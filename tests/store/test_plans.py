"""Plans in the store: a round trip of a solved plan, an older store gains the plan tables, runs link."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from gpufleet.errors import InputError
from gpufleet.plan.record import plan_record
from gpufleet.plan.run import PlanResult, make_plan
from gpufleet.store import open_store
from gpufleet.store.schema import (
    PLAN_ALLOCATION_TABLE,
    PLAN_CASH_TABLE,
    PLAN_SIGNED_TABLE,
    PLANS_TABLE,
    RUN_PLANS_TABLE,
)
from store.test_builder import make_tables
from store.test_roundtrip import make_meta
from tests.plan.test_plan import flat
from tests.plan.tiny import HOURS, tiny

PLAN_TABLES = (PLANS_TABLE, PLAN_SIGNED_TABLE, PLAN_ALLOCATION_TABLE, PLAN_CASH_TABLE, RUN_PLANS_TABLE)


LS = tiny()


def _solved() -> PlanResult:
    return make_plan(flat(LS, 1000.0), values=False)


def test_a_plan_round_trips_with_its_signed_options_and_allocation(tmp_path: Path) -> None:
    result = _solved()
    record = plan_record(result, LS.scenario, LS.catalog, "abc", {"extra_mw": 1000.0})
    path = tmp_path / "s.duckdb"
    with open_store(path) as st:
        plan_id = st.save_plan(record)
    with open_store(path, read_only=True) as st:
        back = st.load_plan(plan_id[:12])  # a unique prefix
        assert st.resolve_plan("latest") == plan_id
        assert [m.plan_id for m in st.list_plans()] == [plan_id]
    assert plan_id.startswith("plan-")
    assert back.meta == record.meta
    assert back.figures["signed"] == record.figures["signed"] and back.figures["extra_mw"] == 1000.0
    # 4 domains of `more` signed (the hand-solved case of tests/plan), kept as a row
    signed = back.signed[["option", "domains", "gpus", "start"]].values.tolist()
    assert signed == [["more", 4, 288, "2026-01"]]
    assert back.allocation.shape == record.allocation.shape
    # 1000 GPUs all year: every reference GPU-hour of demand is allocated, split between c-aa and `more`
    assert back.allocation["gpu_hours"].sum() == pytest.approx(1000.0 * HOURS)
    assert set(back.allocation["contract"]) == {"k-aa", "more"}
    # the planned bill: both reserved, so the year's cash is every GPU online priced, used or not
    assert back.cash["cash_usd"].sum() == pytest.approx(720 * HOURS * 2.0 + 288 * HOURS * 3.0)
    used = back.cash.groupby("contract")["gpu_hours"].sum()
    assert used.sum() == pytest.approx(1000 * HOURS)  # reserved both: where it runs is indifferent
    assert used["k-aa"] <= 720 * HOURS + 1e-6 and used["more"] <= 288 * HOURS + 1e-6
    assert back.cash["cash_usd"].sum() == pytest.approx(back.meta.cost_pv_usd)  # no discount in `tiny`


def test_an_unknown_plan_is_bad_input_naming_the_store(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_store(path).close()
    with open_store(path, read_only=True) as st, pytest.raises(InputError, match="holds no plans"):
        st.load_plan("plan-nope")


def test_an_older_store_gains_the_plan_tables_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    meta = make_meta("run-old")
    with open_store(path) as st:
        st.save_run(meta, make_tables())
    con = duckdb.connect(str(path))
    for name in PLAN_TABLES:
        con.execute(f'DROP TABLE "{name}"')  # as the store was before plans
    con.close()
    result = _solved()
    with open_store(path) as st:
        assert st.run_ids() == ["run-old"]
        plan_id = st.save_plan(plan_record(result, LS.scenario, LS.catalog, "abc"))
        assert st.plan_ids() == [plan_id]


def test_a_run_records_the_plan_it_followed_and_forgets_it_when_deleted(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with open_store(path) as st:
        st.save_run(make_meta("run-a"), make_tables(), plan_id="plan-x")
        st.save_run(make_meta("run-b"), make_tables())
        assert st.plan_of_run("run-a") == "plan-x" and st.plan_of_run("run-b") is None
        st.delete_run("run-a")
        assert st.plan_of_run("run-a") is None
