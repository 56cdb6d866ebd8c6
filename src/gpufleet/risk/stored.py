"""Where a what-if on a stored run starts: the scenario it ran (under its revenue case) and its figures."""

from __future__ import annotations

from gpufleet.errors import InputError, Problem
from gpufleet.risk.metrics import Metrics
from gpufleet.scenario.load import LoadedScenario, load_scenario_text
from gpufleet.store.store import Store


def stored_run_base(store: Store, run_id: str, where: str = "RUN") -> tuple[LoadedScenario, Metrics]:
    """The run's kept scenario, under the revenue case it ran, and the run's own metrics (its finance
    computed again when the store kept none). InputError, naming `where`, when it kept no scenario."""
    from gpufleet.finance import compute_finance
    from gpufleet.report.context import run_context
    from gpufleet.risk.metrics import run_metrics
    from gpufleet.scenario import with_case

    tables = store.load_run(run_id)
    text = store.load_scenario_text(run_id)
    if text is None:
        raise InputError([Problem(where, "", f"run {run_id} kept no scenario text: nothing to change")])
    kept = load_scenario_text(text, f"<scenario of run {run_id}>")
    port = tables.portfolio
    ran = [str(x) for x in port.loc[port["run_case"].astype(bool), "scenario"]] if len(port) else []
    case = ran[0] if ran else kept.scenario.finance.default_case
    loaded = with_case(kept, case if case in kept.scenario.finance.revenue_scenarios else None)
    if tables.ledger.empty and not tables.usage.empty:
        tables = compute_finance(tables, loaded.scenario, loaded.catalog)
    return loaded, run_metrics(tables, run_context(loaded.scenario, loaded.catalog), case or "none")
