"""What a what-if answers, computed where it is asked for: in a server thread (changes only, fast) or in
a worker process (with the stress set, seconds of CPU kept off the server's threads)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gpufleet.risk.metrics import Metrics
    from gpufleet.scenario import LoadedScenario
    from gpufleet.scenario.overrides import Override

WHERE = "overrides[{i}]"  # how a change is named in errors: its place in the body's list


def parse_changes(texts: list[str]) -> list[Override]:
    """The changes as `gpufleet whatif --set` reads them; a bad one is an InputError naming its place."""
    from gpufleet.scenario.overrides import parse_override

    return [parse_override(text, WHERE.format(i=i)) for i, text in enumerate(texts)]


def whatif_answer(
    loaded: LoadedScenario, figures: Metrics, run_id: str, texts: list[str], stress: bool, html: bool
) -> dict[str, Any] | str:
    """The fluid model on the run's scenario and on the changed one, the run's figures moved by the change,
    and with `stress` the standard stress set (its tornado's HTML page with `html`)."""
    from gpufleet.report.tornado import render_tornado
    from gpufleet.risk.error import fluid_error_json, fluid_error_note
    from gpufleet.risk.fluid import FluidModel
    from gpufleet.risk.whatif import fluid_whatif, stresses_json, tornado_panels
    from gpufleet.scenario.overrides import Editable

    overrides = parse_changes(texts)
    edit = Editable.of(loaded)
    changed = edit.apply(overrides)  # a change the scenario refuses: 422 naming it
    model = FluidModel.of(loaded)
    out: dict[str, Any] = {"run_id": run_id, "changes": [o.text for o in overrides], "fidelity": "fluid",
                           "run": figures}  # fmt: skip
    if overrides:
        w = fluid_whatif(model, loaded, changed)
        out |= {"fluid_run_scenario": w.base, "fluid_changed": w.changed, "fluid_change": w.change,
                "estimate": w.estimate(figures)}  # fmt: skip
    if stress:
        rows = stresses_json(model, edit, overrides, loaded)
        if html:
            notes = [f"changes first applied: {'; '.join(out['changes']) or 'none'}", fluid_error_note()]
            panels = tornado_panels(rows)
            return render_tornado(panels, {m: m for m in panels}, f"Stresses on run {run_id}", notes)
        out["stress"] = rows
    out["fluid_error"] = fluid_error_json()
    out["fluid_error_note"] = fluid_error_note()
    return out
