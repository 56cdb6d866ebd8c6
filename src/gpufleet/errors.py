"""Errors that reach a person: bad input (exit 2) names where and what; anything else exits 1."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    where: str  # "path/to/file.yaml:12", a file, or a request part
    field: str  # dotted field path inside the input, "" when it concerns the whole input
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.where}: {self.field}: {self.message}"
        return f"{self.where}: {self.message}"


class GpufleetError(Exception):
    """A failure we can explain in one message; the CLI prints it and exits 1."""

    exit_code = 1


class InputError(GpufleetError):
    """Bad input: a scenario, trace or request that is wrong. The CLI exits 2, the API answers 422."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem] | str, where: str = "input") -> None:
        if isinstance(problems, str):
            problems = [Problem(where, "", problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
