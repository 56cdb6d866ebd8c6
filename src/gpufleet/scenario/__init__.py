"""The scenario: schema, loading with file:line errors, cross-checks, and contract ramps."""

from gpufleet.scenario.load import (
    LoadedScenario,
    builtin_scenario_text,
    load_builtin_scenario,
    load_scenario,
    load_scenario_file,
    load_scenario_text,
    with_case,
)
from gpufleet.scenario.schema import Scenario

__all__ = [
    "LoadedScenario",
    "Scenario",
    "builtin_scenario_text",
    "load_builtin_scenario",
    "load_scenario",
    "load_scenario_file",
    "load_scenario_text",
    "with_case",
]
