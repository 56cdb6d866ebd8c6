"""Store: one table of a run, or a page of it, read alone equals that slice of the whole run's table."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.store import Store, open_store
from gpufleet.tables import SCHEMAS
from store.test_builder import make_tables
from store.test_roundtrip import make_meta


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str]]:
    """A store with two runs (the second must never leak into the first's pages), open read-only."""
    path = tmp_path_factory.mktemp("pages") / "r.duckdb"
    first, second = make_meta(minutes=0), make_meta(minutes=5, seed=8)
    with open_store(path) as store:
        store.save_run(first, make_tables(seed=1, n_jobs=257))
        store.save_run(second, make_tables(seed=2, n_jobs=120))
    with open_store(path, read_only=True) as store:
        yield store, first.run_id


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(list(SCHEMAS)),
    offset=st.integers(0, 400),
    limit=st.one_of(st.none(), st.integers(0, 400)),
)
def test_a_page_is_the_slice_of_the_whole_table(
    stored: tuple[Store, str], name: str, offset: int, limit: int | None
) -> None:
    store, run_id = stored
    whole = getattr(store.load_run(run_id), name)
    end = None if limit is None else offset + limit
    page = store.load_table(run_id, name, offset, limit)
    pd.testing.assert_frame_equal(page, whole.iloc[offset:end].reset_index(drop=True), check_exact=True)
    assert store.table_rows(run_id, name) == len(whole)


def test_whole_table_alone_equals_the_runs(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    run = store.load_run(run_id)
    for name in SCHEMAS:
        pd.testing.assert_frame_equal(store.load_table(run_id, name), getattr(run, name), check_exact=True)
    assert len(run.jobs) == 257  # the builder's job count: the other run's 120 did not leak in


def test_unknown_table_or_run_is_bad_input(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    with pytest.raises(InputError, match="no table 'nope'"):
        store.load_table(run_id, "nope")
    with pytest.raises(InputError, match="no table 'nope'"):
        store.table_rows(run_id, "nope")
    with pytest.raises(InputError, match="no run"):
        store.load_table("no-such-run", "jobs", 0, 10)
    with pytest.raises(ValueError):
        store.load_table(run_id, "jobs", -1, 10)
