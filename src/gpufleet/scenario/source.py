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


# Bounds on what one YAML document may cost (docs/scenario.md, "Limits"): aliases are allowed but may
# add at most ALIAS_NODE_BUDGET nodes beyond those written out (a "billion laughs" file is refused as
# it is read, in linear time), and nesting deeper than MAX_DEPTH is refused before Python recursion is.
MAX_DEPTH = 64
MAX_TEXT_CHARS = 1 << 20  # 1 MiB: the shipped scenarios are under 20 kB


def too_big_message(size: int) -> str:
    return (
        f"{size:,} bytes, more than the {MAX_TEXT_CHARS:,} a scenario may have: put jobs in a trace "
        "file (stream.trace) rather than in the scenario"
    )


ALIAS_NODE_BUDGET = 10_000


class _Limit(Exception):
    """A bound of the document was crossed at `mark` (or its text there is not Unicode)."""

    def __init__(self, mark: yaml.Mark | None, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: pydantic parses them and reports an impossible date
    (2026-02-30) as a field error with its line, instead of a crash inside the YAML library.

    It also bounds the document: nesting depth, and the nodes that aliases add when expanded (each
    node's expanded size is computed once, bottom-up, so the check itself is linear).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._written = 0  # nodes as written in the text
        self._expanded: dict[int, int] = {}  # id(node) -> nodes it stands for with aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            alias = super().compose_node(parent, index)
            assert alias is not None
            return alias
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise _Limit(mark, f"nested deeper than {MAX_DEPTH} levels")
        node = super().compose_node(parent, index)
        assert node is not None
        self._depth -= 1
        self._written += 1
        size = 1
        if isinstance(node, yaml.MappingNode):
            size += sum(self._expanded.get(id(k), 1) + self._expanded.get(id(v), 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size += sum(self._expanded.get(id(item), 1) for item in node.value)
        self._expanded[id(node)] = size
        if size > self._written + ALIAS_NODE_BUDGET:
            raise _Limit(
                node.start_mark,
                f"aliases expand this to {size:,} nodes, more than {ALIAS_NODE_BUDGET:,} beyond the "
                f"{self._written:,} written (an alias bomb?); write the values out instead",
            )
        return node


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


def _unicode_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    """A string, with the surrogate pairs that JSON writes for characters beyond U+FFFF ("\\ud83d\\ude00",
    which the YAML library leaves as two halves) joined into one character; a lone half is refused."""
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    try:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError as exc:
        half = text.encode("utf-16-le", "surrogatepass")[exc.start : exc.start + 2].decode(
            "utf-16-le", "surrogatepass"
        )
        raise _Limit(node.start_mark, f"not Unicode text: a lone surrogate \\u{ord(half):04x}") from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
_Loader.add_constructor("tag:yaml.org,2002:str", _unicode_text)
# YAML 1.1 reads 38e9 or 18.0e9 as text; people write them as numbers (YAML 1.2 agrees)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document; a syntax error or duplicate key is an InputError naming file:line."""
    smap = SourceMap(file)
    if len(text) > MAX_TEXT_CHARS:
        raise InputError([Problem(file, "", too_big_message(len(text)))])
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except _Limit as exc:
        where = f"{file}:{exc.mark.line + 1}" if exc.mark is not None else file
        raise InputError([Problem(where, "", exc.message)]) from None
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
