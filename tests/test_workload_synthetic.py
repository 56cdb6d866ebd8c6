"""Synthetic streams: fit on Philly, KS D per marginal, hour-of-day shares, offered load, scenario streams."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ks_2samp

from gpufleet.errors import InputError
from gpufleet.fleet.capacity import build_capacity
from gpufleet.scenario.load import load_scenario
from gpufleet.workload.jobs import JobBatch
from gpufleet.workload.readers import read_trace
from gpufleet.workload.readers.params_file import load_params, save_params
from gpufleet.workload.stats import hour_of_day
from gpufleet.workload.streams import schedule_gpus_per_day, stream_jobs, synthesize
from gpufleet.workload.synthetic import builtin_params, fit, params_from_dict, params_to_dict

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces"
PHILLY = DATA / "philly" / "philly.csv"
needs_data = pytest.mark.skipif(not PHILLY.is_file(), reason=f"Philly trace not found at {PHILLY}")

# Stated thresholds on the two-sample KS statistic D (not a p-value), synth vs source:
D_SIZE, D_DURATION, D_GAP = 0.02, 0.02, 0.08
HOUR_SHARE_TOL = 0.006  # absolute, per hour, on 300k jobs over ~200 days


@pytest.fixture(scope="module")
def philly() -> JobBatch:
    return read_trace(PHILLY, "philly")


@needs_data
def test_synth_marginals_close_to_source(philly: JobBatch) -> None:
    p = fit(philly, name="philly", source_gpus=2490)
    s = synthesize(p, np.random.default_rng(7), n_jobs=len(philly), jobs_per_day=p.jobs_per_day)
    assert len(s) == len(philly)
    assert ks_2samp(philly.gpus, s.gpus).statistic < D_SIZE
    assert ks_2samp(philly.duration_s, s.duration_s).statistic < D_DURATION
    assert ks_2samp(np.diff(philly.submit_s), np.diff(s.submit_s)).statistic < D_GAP
    assert set(np.unique(s.gpus)) <= set(np.unique(philly.gpus))


@needs_data
def test_hour_of_day_shares_and_offered_load_per_gpu(philly: JobBatch) -> None:
    p = fit(philly, name="philly", source_gpus=2490)
    source_shares = np.bincount(hour_of_day(philly), minlength=24) / len(philly)
    s = synthesize(p, np.random.default_rng(3), n_jobs=300_000, target_gpus=5_000)  # ~200 days
    shares = np.bincount((s.submit_s // 3600).astype(int) % 24, minlength=24) / len(s)
    assert np.abs(shares - source_shares).max() < HOUR_SHARE_TOL
    # offered load per GPU kept: source GPU-seconds per day per GPU, computed from the trace itself
    span = philly.submit_s[-1] - philly.submit_s[0]
    source_load = float(philly.gpu_seconds.sum()) / span / 2490 * (len(philly) - 1) / len(philly)
    synth_load = float(s.gpu_seconds.sum()) / float(s.submit_s[-1]) / 5_000
    assert synth_load == pytest.approx(source_load, rel=0.05)


@needs_data
def test_fit_save_load_round_trip_and_builtin(philly: JobBatch, tmp_path: Path) -> None:
    p = fit(philly, name="philly", source_gpus=2490)
    f = tmp_path / "p.yaml"
    save_params(p, f)
    q = load_params(f)
    assert q.sizes == p.sizes and q.hour_shares == pytest.approx(p.hour_shares, abs=1e-6)
    assert q.gpu_seconds_per_job == pytest.approx(p.gpu_seconds_per_job, rel=1e-4)
    shipped = builtin_params("philly")
    assert shipped.jobs == len(philly)
    assert shipped.sizes == p.sizes
    assert shipped.jobs_per_day == pytest.approx(p.jobs_per_day, rel=1e-5)


def test_fleet_share_tracks_capacity() -> None:
    p = builtin_params("philly")
    cap = np.concatenate([np.zeros(10), np.linspace(0, 3.5e6, 50), np.full(40, 3.5e6)])
    s = synthesize(p, np.random.default_rng(1), horizon_s=100 * 86400, fleet_share=0.1,
                   capacity_gpus_per_day=cap, size_scale=512)  # fmt: skip
    assert len(s) > 0 and np.all(s.gpus % 512 == 0)
    assert s.submit_s[0] >= 10 * 86400  # nothing while no capacity is online
    day = (s.submit_s // 86400).astype(int)
    offered = np.bincount(day, weights=s.gpu_seconds, minlength=100)
    target = 0.1 * cap * 86400
    late = slice(60, 100)  # full capacity: 40 days of offered GPU-seconds vs the target
    assert offered[late].sum() == pytest.approx(target[late].sum(), rel=0.15)
    assert abs(offered[60:].sum() / offered[35:45].sum() - target[60:].sum() / target[35:45].sum()) < 0.5 * (
        target[60:].sum() / target[35:45].sum()
    )


def test_synthesize_is_deterministic_per_seed() -> None:
    p = builtin_params("philly")
    a = synthesize(p, np.random.default_rng(5), horizon_s=30 * 86400, jobs_per_day=500)
    b = synthesize(p, np.random.default_rng(5), horizon_s=30 * 86400, jobs_per_day=500)
    assert np.array_equal(a.submit_s, b.submit_s) and np.array_equal(a.duration_s, b.duration_s)
    assert np.all(a.submit_s < 30 * 86400)
    assert len(a) == pytest.approx(15000, rel=0.1)


def test_default_scenario_streams() -> None:
    loaded = load_scenario(None)
    sc = loaded.scenario.model_copy(
        update={
            "horizon": loaded.scenario.horizon.model_copy(
                update={"end": loaded.scenario.horizon.start.replace(year=2027)}
            )
        }
    )
    cap = build_capacity(sc, loaded.catalog).gpus.sum(axis=0)
    streams = [w.stream for w in sc.workloads if w.stream is not None]
    assert streams
    for i, st in enumerate(streams):
        b = stream_jobs(st, sc, loaded.catalog, np.random.default_rng(i), cap, loaded.base_dir)
        assert b.workload == st.name and len(b) > 0
        assert set(b.team.tolist()) == {st.team}
        assert np.all(b.submit_s < len(cap) * 86400)
        assert st.synthetic is not None
        assert np.all(b.gpus % st.synthetic.size_scale == 0)
        syn = st.synthetic
        if syn.gpus_schedule is not None:  # a planned schedule of busy GPUs, whatever is online
            want = float(schedule_gpus_per_day(syn.gpus_schedule, sc.horizon.start, len(cap)).sum()) * 86400
        else:
            assert syn.fleet_share is not None
            want = syn.fleet_share * float(cap.sum()) * 86400
        assert float(b.gpu_seconds.sum()) == pytest.approx(want, rel=0.15)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("size_probs", "zeros", "size_probs"),
        ("size_probs", "negative", "size_probs"),
        ("jobs_per_day", 0.0, "jobs_per_day"),
        ("source_gpus", -5.0, "source_gpus"),
        ("gap_quantiles", "descending", "gap_quantiles"),
    ],
)
def test_parameters_the_sampler_cannot_use_are_refused(key: str, value: object, message: str) -> None:
    d = params_to_dict(builtin_params("philly"))
    if value == "zeros":
        value = [0.0] * len(d["size_probs"])
    elif value == "negative":
        value = [-x for x in d["size_probs"]]
    elif value == "descending":
        value = list(reversed(d["gap_quantiles"]))
    d[key] = value
    with pytest.raises(ValueError, match=message):
        params_from_dict(d)


def test_saving_parameters_where_no_file_can_be_written_is_bad_input(tmp_path: Path) -> None:
    params = builtin_params("philly")
    with pytest.raises(InputError, match="cannot write"):
        save_params(params, tmp_path / "no-such-folder" / "p.yaml")
    with pytest.raises(InputError, match="cannot write"):
        save_params(params, tmp_path)


def test_a_trace_stream_starts_at_its_date_and_counts_jobs_after_the_horizon(tmp_path: Path) -> None:
    from gpufleet.workload.streams import place_trace

    small = (Path(__file__).parent / "scenarios" / "small.yaml").read_text()  # horizon 2026-01-01..03-31
    text = small.replace(
        "      synthetic: {source: philly, jobs_per_day: 200, size_scale: 8}",
        "      synthetic: {source: philly, jobs_per_day: 200, size_scale: 8}\n"
        "  - stream:\n      name: traced\n      team: research\n"
        "      trace: {path: tr.csv, format: generic, start: 2026-03-01}",
    )
    (tmp_path / "s.yaml").write_text(text)
    # trace days 0, 10, 31 and 40: from 1 March only days 0 and 10 fall in the horizon (to 31 March)
    (tmp_path / "tr.csv").write_text(
        "submit_s,duration_s,gpus\n0,60,1\n864000,60,1\n2678400,60,1\n3456000,60,1\n"
    )
    loaded = load_scenario(tmp_path / "s.yaml")
    stream = next(w.stream for w in loaded.scenario.workloads if w.stream and w.stream.name == "traced")
    b = stream_jobs(stream, loaded.scenario, loaded.catalog, np.random.default_rng(0), None, loaded.base_dir)
    march = (dt.date(2026, 3, 1) - dt.date(2026, 1, 1)).days * 86400
    assert b.submit_s.tolist() == [march, march + 864000]
    assert b.skipped == {"after_horizon": 2}
    assert (
        place_trace(read_trace(tmp_path / "tr.csv", "generic"), stream, loaded.scenario).skipped == b.skipped
    )


def test_max_gpus_caps_large_jobs_and_keeps_their_gpu_hours() -> None:
    params = builtin_params("philly")
    kw = {"horizon_s": 30 * 86400.0, "jobs_per_day": 2000.0, "size_scale": 64}
    free = synthesize(params, np.random.default_rng(5), **kw)  # type: ignore[arg-type]
    capped = synthesize(params, np.random.default_rng(5), max_gpus=256, **kw)  # type: ignore[arg-type]
    over = free.gpus > 256
    assert over.sum() > 0, "the trace's 8+-GPU jobs exceed 256 GPUs at x64"
    assert capped.gpus.max() == 256 and capped.adjusted == {"capped_at_max_gpus": int(over.sum())}
    np.testing.assert_array_equal(capped.gpus[~over], free.gpus[~over])
    np.testing.assert_allclose(capped.gpus * capped.duration_s, free.gpus * free.duration_s)
    np.testing.assert_allclose(capped.duration_s[over], free.duration_s[over] * free.gpus[over] / 256)
    with pytest.raises(ValueError, match="max_gpus"):
        synthesize(params, np.random.default_rng(5), max_gpus=32, **kw)  # type: ignore[arg-type]
