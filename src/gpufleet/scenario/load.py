"""Loads a scenario: YAML -> validated models -> cross-checks, every problem at once with file:line."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import types
import typing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path as FsPath
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from gpufleet.catalog import Catalog, load_builtin_catalog
from gpufleet.errors import InputError, Problem
from gpufleet.scenario.limits import check_limits
from gpufleet.scenario.schema import UNION_TAGS, Scenario
from gpufleet.scenario.source import (
    MAX_TEXT_CHARS,
    Path,
    SourceMap,
    format_path,
    in_file_order,
    parse_yaml,
    too_big_message,
)

DEFAULT_NAME = "default"


@dataclass(frozen=True)
class LoadedScenario:
    """A scenario that passed every check, with the catalog it sees and where it came from."""

    scenario: Scenario
    catalog: Catalog
    file: str
    base_dir: FsPath  # relative trace paths resolve from here
    text: str
    source_map: SourceMap

    @property
    def content_hash(self) -> str:
        """Hash of the scenario's content, insensitive to comments and formatting."""
        # provenance says where figures come from, like comments: it changes no result
        canonical = self.scenario.model_dump_json(
            round_trip=True, exclude={"contracts": {"__all__": {"provenance"}}}
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _unwrap(tp: Any) -> list[Any]:
    """The concrete types a field annotation can hold (Optional, unions and Annotated unwrapped)."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in get_args(tp) for t in _unwrap(a)]
    return [tp]


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at a location of the scenario, for did-you-mean suggestions."""
    current: list[Any] = [Scenario]
    for part in loc:
        nxt: list[Any] = []
        for tp in current:
            origin = get_origin(tp)
            if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
                if part in tp.model_fields:
                    nxt.extend(_unwrap(tp.model_fields[part].annotation))
            elif origin is list and isinstance(part, int):
                nxt.extend(_unwrap(get_args(tp)[0]))
            elif origin is dict and isinstance(part, str):
                nxt.extend(_unwrap(get_args(tp)[1]))
        current = nxt
    return sorted(
        {f for tp in current if isinstance(tp, type) and issubclass(tp, BaseModel) for f in tp.model_fields}
    )


def error_message(err: Any) -> str:
    """A pydantic error as a person reads it: no 'Value error,' prefix, the bad input, typo hints."""
    kind = err["type"]
    loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _keys_at(loc[:-1])
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key '{key}'{hint}; allowed: {', '.join(allowed)}"
    if kind == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind not in ("value_error", "assertion_error") and "input" in err:
        shown = repr(err["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg = f"{msg} (got {shown})"
    return msg


def _pydantic_problems(exc: ValidationError, smap: SourceMap) -> list[Problem]:
    problems = []
    for err in exc.errors():
        # pydantic adds the union member's name to a location ("list[RampStep]"); drop those parts
        loc: Path = tuple(
            p for p in err["loc"] if isinstance(p, int) or ("[" not in p and p not in UNION_TAGS)
        )
        problems.append(Problem(smap.where(loc), format_path(loc), error_message(err)))
    return in_file_order(problems)


def load_scenario_text(text: str, file: str, base_dir: FsPath | None = None) -> LoadedScenario:
    """Parse, validate and cross-check a scenario given as text. Raises InputError with every problem."""
    data, smap = parse_yaml(text, file)
    return load_scenario_data(data, smap, text, file, base_dir)


def load_scenario_data(
    data: Any, smap: SourceMap, text: str, file: str, base_dir: FsPath | None = None
) -> LoadedScenario:
    """Validate and cross-check parsed scenario data; `smap` says where each of its fields came from."""
    from gpufleet.scenario.validate import cross_check

    if not isinstance(data, dict):
        raise InputError([Problem(smap.where(()), "", "a scenario is a YAML mapping of keys to values")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        from gpufleet.scenario.partial import cross_check_valid_part

        both = _pydantic_problems(exc, smap) + cross_check_valid_part(data, exc, smap)
        raise InputError(in_file_order(both)) from None
    catalog = load_builtin_catalog().with_overrides(
        scenario.catalog.accelerators, scenario.catalog.products, scenario.catalog.prices
    )
    problems = check_limits(scenario, catalog, smap)  # first: an absurd size is refused at once
    if problems:
        raise InputError(problems)
    problems = cross_check(scenario, catalog, smap)
    if problems:
        raise InputError(problems)
    return LoadedScenario(scenario, catalog, file, base_dir or FsPath.cwd(), text, smap)


def load_scenario_file(path: str | FsPath) -> LoadedScenario:
    p = FsPath(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_TEXT_CHARS:  # refused before it is read
            raise InputError([Problem(str(p), "", too_big_message(p.stat().st_size))])
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem(str(p), "", "no such file")]) from None
    except IsADirectoryError:
        raise InputError([Problem(str(p), "", "is a folder, not a scenario file")]) from None
    except UnicodeDecodeError as exc:
        raise InputError([Problem(str(p), "", f"not UTF-8 text ({exc.reason})")]) from None
    except OSError as exc:
        raise InputError([Problem(str(p), "", f"cannot read: {exc.strerror}")]) from None
    return load_scenario_text(text, str(p), p.resolve().parent)


def builtin_scenario_text(name: str = DEFAULT_NAME) -> str:
    files = resources.files("gpufleet.scenario").joinpath("data")
    entry = files.joinpath(f"{name}.yaml")
    if not entry.is_file():
        known = sorted(f.name.removesuffix(".yaml") for f in files.iterdir() if f.name.endswith(".yaml"))
        raise InputError(f"no built-in scenario '{name}'; built-in: {', '.join(known)}", where="scenario")
    return entry.read_text(encoding="utf-8")


def load_builtin_scenario(name: str = DEFAULT_NAME) -> LoadedScenario:
    return load_scenario_text(builtin_scenario_text(name), f"<built-in {name}.yaml>")


def load_scenario(path: str | FsPath | None) -> LoadedScenario:
    """A file path, or the default scenario when none is given."""
    return load_builtin_scenario() if path is None else load_scenario_file(path)


def with_case(loaded: LoadedScenario, case: str | None) -> LoadedScenario:
    """The loaded scenario run under revenue case `case` (None: its base case, unchanged)."""
    if case is None:
        return loaded
    try:
        scenario = loaded.scenario.with_case(case)
    except ValueError as exc:
        raise InputError(str(exc), where="--case") from None
    follows_revenue = any(w.inference is not None and w.inference.demand.revenue for w in scenario.workloads)
    if follows_revenue and not scenario.finance.revenue_scenarios[case].is_path:
        raise InputError(
            f"case '{case}' prices tokens served: demand that follows revenue needs a case in dollars",
            where="--case",
        )
    return dataclasses.replace(loaded, scenario=scenario)
