"""YAML text -> plain data plus a map from field paths to line numbers, so errors can say file:line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from gpufleet.errors import InputError, Problem

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """('contracts', 0, 'term', 'end') -> 'contracts[0].term.end'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class SourceMap:
    """Where each field of a YAML document starts, by its path."""

    file: str
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """Line (1-based) of the longest prefix of `path` that the document has."""
        for n in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:n]))
            if found is not None:
                return found
        return None

    def where(self, path: Path) -> str:
        line = self.line(path)
        return f"{self.file}:{line}" if line is not None else self.file

    def problem(self, path: Path, message: str) -> Problem:
        return Problem(self.where(path), format_path(path), message)


def in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems sorted by line number (stable: same-line problems keep their order)."""

    def line(p: Problem) -> int:
        tail = p.where.rsplit(":", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    return sorted(problems, key=line)


def _walk(node: yaml.Node, path: Path, smap: SourceMap, problems: list[Problem]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            smap.lines[child] = key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(smap.where(child), format_path(child), "duplicate key"))
            seen.add(key)
            _walk(value_node, child, smap, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            smap.lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), smap, problems)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: pydantic parses them and reports an impossible date
    (2026-02-30) as a field error with its line, instead of a crash inside the YAML library."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
# YAML 1.1 reads 38e9 or 18.0e9 as text; people write them as numbers (YAML 1.2 agrees)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document; a syntax error or duplicate key is an InputError naming file:line."""
    smap = SourceMap(file)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}" if mark is not None else file
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise InputError([Problem(where, "", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(file, "", f"YAML error: {exc}")]) from None
    if node is not None:
        smap.lines[()] = node.start_mark.line + 1
        problems: list[Problem] = []
        _walk(node, (), smap, problems)
        if problems:
            raise InputError(problems)
    return data, smap
