"""Changes to a scenario named by path (`--set PATH=VALUE`, stresses, sampled inputs), checked like the file.

One grammar serves what-ifs, stress sets and the uncertainty section of sweeps:

- `PATH=VALUE` sets a value (VALUE is read as YAML: `6`, `0.8`, `monthly`, `[1, 2]`);
- `PATH*=FACTOR` scales a number, or every number inside a list or mapping (a revenue path);
- `PATH+=DELTA` adds to a number.

PATH is keys joined by dots. In a list, an item is chosen by its `name` (a workload's name reaches
into its `training_run:`/`inference:` wrapper), by its index, or `*` for every item; names may hold
dots themselves. An integer field stays an integer (rounded) after `*=`. The changed scenario is
validated and cross-checked like a file, its problems reported at the change that caused them.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, replace
from typing import Any

import yaml

from gpufleet.errors import InputError
from gpufleet.scenario.load import LoadedScenario, load_scenario_data
from gpufleet.scenario.source import Path, SourceMap, parse_yaml

OPS = ("*=", "+=", "=")
_SPLIT = re.compile(r"^(?P<path>.+?)\s*(?P<op>\*=|\+=|=)\s*(?P<value>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Override:
    """One change: `path` as written, its operator and the value (a number for *= and +=)."""

    path: str
    op: str
    value: Any
    source: str = "--set"  # where it was given, for errors

    @property
    def text(self) -> str:
        return f"{self.path}{self.op}{_show(self.value)}"

    @property
    def where(self) -> str:
        return f"{self.source} {self.text}"


def _show(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def parse_override(text: str, source: str = "--set") -> Override:
    """`PATH=VALUE`, `PATH*=FACTOR` or `PATH+=DELTA` as given on a command line."""
    m = _SPLIT.match(text.strip())
    if m is None or not m["path"].strip():
        raise InputError(f"'{text}' is not PATH=VALUE, PATH*=FACTOR or PATH+=DELTA", where=source)
    raw = m["value"].strip()
    try:
        value = yaml.safe_load(raw) if raw else None
    except yaml.YAMLError:
        raise InputError(f"'{raw}' is not a YAML value", where=f"{source} {text}") from None
    over = Override(m["path"].strip(), m["op"], value, source)
    if over.op != "=" and not _is_number(value):
        raise InputError(f"'{over.op}' takes a number, got '{raw}'", where=over.where)
    return over


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _named(item: Any) -> dict[str, Any] | None:
    """The mapping that holds a list item's name: the item, or the one mapping it wraps."""
    if isinstance(item, dict):
        if "name" in item:
            return item
        if len(item) == 1:
            inner = next(iter(item.values()))
            if isinstance(inner, dict) and "name" in inner:
                return inner
    return None


def _child_steps(item: Any) -> Path:
    """Path steps from a list item to the mapping `_named` found (the wrapper key, if any)."""
    if isinstance(item, dict) and "name" not in item and len(item) == 1:
        return (next(iter(item)),)
    return ()


def _labels(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [str(k) for k in node]
    if isinstance(node, list):
        return [str(n["name"]) for n in map(_named, node) if n is not None] or [
            str(i) for i in range(len(node))
        ]
    return []


def _resolve(data: Any, parts: list[str], over: Override) -> list[Path]:
    """Concrete paths that `parts` names in `data`; a missing last key of a mapping may be created."""
    found: list[Path] = []

    def walk(node: Any, at: Path, rest: list[str]) -> None:
        if not rest:
            found.append(at)
            return
        if isinstance(node, list):
            if rest[0] == "*":
                for i, item in enumerate(node):
                    named = _named(item)
                    target, steps = (named, _child_steps(item)) if named is not None else (item, ())
                    walk(target, (*at, i, *steps), rest[1:])
                return
            if rest[0].isdigit() and int(rest[0]) < len(node):
                walk(node[int(rest[0])], (*at, int(rest[0])), rest[1:])
                return
            for n in range(len(rest), 0, -1):  # names may hold dots: the longest name that matches
                label = ".".join(rest[:n])
                for i, item in enumerate(node):
                    named = _named(item)
                    if named is not None and str(named["name"]) == label:
                        walk(named, (*at, i, *_child_steps(item)), rest[n:])
                        return
            raise _missing(at, rest[0], node, over)
        if isinstance(node, dict):
            if rest[0] == "*":
                for k, v in node.items():
                    walk(v, (*at, k), rest[1:])
                return
            for n in range(len(rest), 0, -1):
                label = ".".join(rest[:n])
                for k in node:
                    if str(k) == label:
                        walk(node[k], (*at, k), rest[n:])
                        return
            if len(rest) == 1 and (over.op == "=" or "*" not in over.path):
                found.append((*at, rest[0]))  # a key the file leaves at its default
                return
            if "*" in over.path:
                return  # a wildcard reached an item without this field: not every item must have it
            raise _missing(at, rest[0], node, over)
        if "*" in over.path:
            return  # a wildcard reached an item without this field: not every item must have it
        raise _missing(at, rest[0], node, over)

    walk(data, (), parts)
    if not found:
        raise InputError(f"'{over.path}' matches nothing in the scenario", where=over.where)
    return found


def _missing(at: Path, key: str, node: Any, over: Override) -> InputError:
    here = ".".join(str(p) for p in at) or "the top level"
    labels = _labels(node)
    known = f"; there: {', '.join(labels[:12])}{', ...' if len(labels) > 12 else ''}" if labels else ""
    return InputError(f"no '{key}' at {here}{known}", where=over.where)


def _get(data: Any, path: Path) -> Any:
    for p in path:
        data = data[p]
    return data


def _combined(old: Any, over: Override, at: Path) -> Any:
    if over.op == "=":
        return copy.deepcopy(over.value)
    if isinstance(old, dict):
        return {k: _combined(v, over, (*at, k)) for k, v in old.items()}
    if isinstance(old, list):
        return [_combined(v, over, (*at, i)) for i, v in enumerate(old)]
    if not _is_number(old):
        where = ".".join(str(p) for p in at)
        raise InputError(f"'{over.op}' needs a number at {where}, found {_show(old)}", where=over.where)
    new = old * over.value if over.op == "*=" else old + over.value
    return round(new) if isinstance(old, int) else float(new)


def edit(data: Any, overrides: list[Override], defaults: Any = None) -> tuple[Any, dict[Path, Override]]:
    """A changed deep copy of parsed scenario data, and which override changed each path.

    `defaults` (the validated scenario, dumped) gives the value a field the file leaves out has, so
    that `*=` and `+=` work on it too.
    """
    out = copy.deepcopy(data)
    changed: dict[Path, Override] = {}
    for over in overrides:
        for path in _resolve(out, over.path.split("."), over):
            parent: Any = _get(out, path[:-1])
            key = path[-1]
            has = key in parent if isinstance(parent, dict) else isinstance(parent, list)
            old = parent[key] if has else _default(defaults, path)
            if old is None and over.op != "=":
                raise InputError(
                    f"'{over.op}' needs a value to change; the scenario has none", where=over.where
                )
            parent[key] = _combined(old, over, path)
            changed[path] = over
    return out, changed


def _default(defaults: Any, path: Path) -> Any:
    try:
        return copy.deepcopy(_get(defaults, path)) if defaults is not None else None
    except (KeyError, IndexError, TypeError):
        return None


class _ChangedMap(SourceMap):
    """Problems under a changed path point at the change, the rest at the file's lines."""

    def __init__(self, base: SourceMap, changed: dict[Path, Override]) -> None:
        super().__init__(base.file, base.lines)
        self.changed = changed

    def where(self, path: Path) -> str:
        for n in range(len(path), 0, -1):
            over = self.changed.get(tuple(path[:n]))
            if over is not None:
                return over.where
        return super().where(path)


@dataclass(frozen=True)
class Editable:
    """A loaded scenario parsed once, so that many sets of changes (sweep samples) skip the YAML parse."""

    loaded: LoadedScenario
    data: Any
    smap: SourceMap
    defaults: Any  # the validated scenario as plain data: values of fields the file leaves out

    @classmethod
    def of(cls, loaded: LoadedScenario) -> Editable:
        data, smap = parse_yaml(loaded.text, loaded.file)
        case = loaded.scenario.finance.base_case
        if case is not None and isinstance(data, dict) and isinstance(data.get("finance"), dict):
            data["finance"]["base_case"] = case  # a case chosen with --case stays chosen
        return cls(loaded, data, smap, loaded.scenario.model_dump())

    def apply(self, overrides: list[Override]) -> LoadedScenario:
        """The scenario with the changes made, validated and cross-checked.

        Its text is the changed YAML (what a stored run keeps); its problems point at the file's lines,
        or at the change for a changed field.
        """
        if not overrides:
            return self.loaded
        data, changed = edit(self.data, overrides, self.defaults)
        where = _ChangedMap(self.smap, changed)
        loaded = self.loaded
        checked = load_scenario_data(data, where, loaded.text, loaded.file, loaded.base_dir)
        header = "".join(f"# {o.where}\n" for o in overrides)
        body = yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=110)
        return replace(checked, text=f"# {loaded.file}, changed by:\n{header}{body}")


_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when the wheel has it


def apply_overrides(loaded: LoadedScenario, overrides: list[Override]) -> LoadedScenario:
    """The scenario with the changes made (see Editable.apply)."""
    return Editable.of(loaded).apply(overrides)
