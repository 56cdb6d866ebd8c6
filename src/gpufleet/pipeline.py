"""One run end to end: read the files (traces, stream parameters), simulate, account, stamp the metadata.

The CLI and any other front end call `run_scenario`; the core below it never touches a file.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from gpufleet import __version__
from gpufleet.scenario import LoadedScenario
from gpufleet.sched.planned import PlanMonth
from gpufleet.store.meta import RunMeta, new_run_id
from gpufleet.tables import RunTables
from gpufleet.workload.jobs import JobBatch
from gpufleet.workload.synthetic import SyntheticParams

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class RunResult:
    meta: RunMeta
    tables: RunTables
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)  # trace stream -> reason -> jobs


def read_traces(loaded: LoadedScenario) -> dict[str, JobBatch]:
    """Every trace-based stream's jobs, read from disk and placed in seconds from the horizon start."""
    from gpufleet.workload.readers import read_trace
    from gpufleet.workload.streams import place_trace, stream_class

    s = loaded.scenario
    out: dict[str, JobBatch] = {}
    for w in s.workloads:
        stream = w.stream
        if stream is None or stream.trace is None:
            continue
        tr = stream.trace
        batch = read_trace(
            loaded.base_dir / tr.path,
            tr.format,
            team_map=tr.team_map,
            class_map=tr.class_map,
            default_team=stream.team,
            default_class=stream_class(stream, s),
            workload=stream.name,
        )
        out[stream.name] = place_trace(batch, stream, s)
    return out


def read_stream_params(loaded: LoadedScenario) -> dict[str, SyntheticParams]:
    """The parameters of every synthetic stream whose source is a file, read relative to the scenario."""
    from gpufleet.workload.streams import is_builtin_source, load_stream_params

    out: dict[str, SyntheticParams] = {}
    for w in loaded.scenario.workloads:
        stream = w.stream
        if stream is None or stream.synthetic is None or is_builtin_source(stream.synthetic.source):
            continue
        out[stream.name] = load_stream_params(stream.synthetic.source, loaded.base_dir)
    return out


def with_unmet(tables: RunTables, loaded: LoadedScenario) -> RunTables:
    """The run's tables with `unmet` filled: demand not served, per month, and who had idle GPUs."""
    from gpufleet.unmet import unmet_table

    t, s = tables, loaded.scenario
    return replace(tables, unmet=unmet_table(t.jobs, t.series, t.inference, t.queue, s, loaded.catalog))


def run_scenario(
    loaded: LoadedScenario,
    seed: int | None = None,
    progress: Progress | None = None,
    plan_months: Sequence[PlanMonth] = (),
) -> RunResult:
    """Simulate a loaded scenario, compute its finance and its unmet demand; every run table filled.
    `plan_months`: the months a `plan` provider choice follows (simulate --plan)."""
    from gpufleet.assemble import simulate
    from gpufleet.finance import compute_finance

    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    run_seed = loaded.scenario.seed if seed is None else seed
    traces = read_traces(loaded)
    params = read_stream_params(loaded)
    tables = simulate(loaded.scenario, loaded.catalog, run_seed, traces, progress, params, plan_months)
    tables = compute_finance(tables, loaded.scenario, loaded.catalog)
    tables = with_unmet(tables, loaded)
    meta = RunMeta(
        run_id=new_run_id(started),
        scenario_name=loaded.scenario.name,
        content_hash=loaded.content_hash,
        seed=run_seed,
        gpufleet_version=__version__,
        started=started,
        finished=dt.datetime.now(dt.UTC),
        status="finished",
        wall_s=time.perf_counter() - clock,
    )
    skipped = {name: dict(b.skipped) for name, b in traces.items() if b.skipped}
    return RunResult(meta, tables, skipped)
