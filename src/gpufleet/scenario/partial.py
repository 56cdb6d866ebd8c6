"""Cross-checks of the part of a scenario the schema accepted, so one `validate` lists both kinds of problem.

When schema errors sit inside items of top-level lists (a site, a cluster, a contract ...), those items
are left out and the rest is cross-checked; problems are reported at the lines of the original file, and
a reference to a left-out item is not reported again as unknown. An error anywhere else (the horizon,
the policies) leaves nothing to cross-check: the schema's problems come alone, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from gpufleet.errors import Problem
from gpufleet.scenario.source import Path, SourceMap, format_path


@dataclass
class _Renumbered(SourceMap):
    """The source map of the original file, read with the indices of the shortened lists."""

    kept: dict[str, list[int]] = field(default_factory=dict)

    def original(self, path: Path) -> Path:
        if len(path) >= 2 and isinstance(path[0], str) and isinstance(path[1], int) and path[0] in self.kept:
            return (path[0], self.kept[path[0]][path[1]], *path[2:])
        return path

    def line(self, path: Path) -> int | None:
        return super().line(self.original(path))

    def problem(self, path: Path, message: str) -> Problem:
        return Problem(self.where(path), format_path(self.original(path)), message)


def cross_check_valid_part(data: dict[str, Any], exc: ValidationError, smap: SourceMap) -> list[Problem]:
    """Cross-check problems of `data` less the list items the schema refused (none where it cannot)."""
    from gpufleet.catalog import load_builtin_catalog
    from gpufleet.scenario.schema import Scenario
    from gpufleet.scenario.validate import cross_check

    refused: dict[str, set[int]] = {}
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) < 2 or not isinstance(loc[1], int) or not isinstance(data.get(str(loc[0])), list):
            return []
        refused.setdefault(str(loc[0]), set()).add(loc[1])
    kept = {key: [i for i in range(len(data[key])) if i not in bad] for key, bad in refused.items()}
    reduced = dict(data) | {key: [data[key][i] for i in idx] for key, idx in kept.items()}
    try:
        scenario = Scenario.model_validate(reduced)
    except ValidationError:
        return []
    left_out = {
        str(item.get("name") if isinstance(item, dict) else item)
        for key, bad in refused.items()
        for item in (data[key][i] for i in bad)
    }
    try:
        catalog = load_builtin_catalog().with_overrides(
            scenario.catalog.accelerators, scenario.catalog.products, scenario.catalog.prices
        )
        problems = cross_check(scenario, catalog, _Renumbered(smap.file, smap.lines, kept))
    except Exception:  # best effort on a scenario with holes: the schema's problems still stand
        return []
    return [p for p in problems if not any(f"'{name}'" in p.message for name in left_out)]
