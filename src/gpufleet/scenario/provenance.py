"""Which of a contract's figures are public facts (with their sources) and which are assumptions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel

from gpufleet.scenario.schema import Contract, Scenario

MAX_VALUE_CHARS = 48


@dataclass(frozen=True, slots=True)
class FigureMark:
    """One figure of one contract as its provenance marks it."""

    contract: str
    figure: str  # a field path of the contract: price_per_gpu_hour_usd, commitment.total_usd, term ...
    value: str  # the figure as the scenario states it ("-" when it states none: a default applies)
    kind: str  # fact | assumption
    source: str  # the source in words (a catalog source key resolved to its text), "" for none
    note: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def short(self) -> str:
        """`figure: kind (source; note)`, as the report's contracts table shows it."""
        why = "; ".join(x for x in (self.source, self.note) if x)
        return f"{self.figure}: {self.kind}" + (f" ({why})" if why else "")


def figure_value(contract: Contract, path: str) -> Any:
    """The value at a field path of a contract (None where the contract leaves it to a default)."""
    value: Any = contract
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part)
    return value


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_defaults=True)
    elif isinstance(value, list):
        value = [
            v.model_dump(mode="json", exclude_defaults=True) if isinstance(v, BaseModel) else v for v in value
        ]
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:g}"
    elif isinstance(value, str | int):
        text = str(value)
    else:
        text = json.dumps(value, default=str, separators=(", ", ": "))
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def resolve_source(source: str | None, sources: Mapping[str, str]) -> str:
    """A catalog source key with its text ("key: text"); anything else as written."""
    if not source:
        return ""
    key = source.strip()
    return f"{key}: {sources[key]}" if key in sources else key


def contract_marks(scenario: Scenario, sources: Mapping[str, str] = {}) -> list[FigureMark]:
    """Every marked figure of every contract, in the file's order."""
    return [
        FigureMark(
            c.name, path, _text(figure_value(c, path)), p.kind, resolve_source(p.source, sources), p.note
        )
        for c in scenario.contracts
        for path, p in c.provenance.items()
    ]


def marks_by_contract(marks: list[FigureMark]) -> dict[str, str]:
    """Per contract, its marks in one line (the report's contracts table)."""
    out: dict[str, list[str]] = {}
    for m in marks:
        out.setdefault(m.contract, []).append(m.short())
    return {name: " · ".join(parts) for name, parts in out.items()}


def marks_comment(marks: list[FigureMark]) -> str:
    """The marks as a YAML comment block (appended by `scenario show`, so the output stays YAML)."""
    if not marks:
        return "# Provenance: no contract marks its figures (a contract's `provenance:` map does).\n"
    lines = ["# Provenance of the contracts' figures (from each contract's `provenance:` map):"]
    for m in marks:
        why = "; ".join(x for x in (m.source, m.note) if x)
        lines.append(
            f"#   {m.contract} {m.figure} = {m.value}: {m.kind.upper()}" + (f" ({why})" if why else "")
        )
    return "\n".join(lines) + "\n"
