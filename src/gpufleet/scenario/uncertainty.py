"""The scenario's `uncertainty` section: named inputs drawn from distributions, for `gpufleet sweep`.

Each input is a change in the overrides grammar (scenario/overrides.py): a path, an operator (`=`,
`*=`, `+=`) and a distribution its value is drawn from. Inputs may be rank-correlated (a Gaussian
copula over a correlation matrix) and drawn by Latin hypercube. Its own pydantic models, held by the
Scenario root in one field; whether each path names something in the scenario is checked when a
sweep starts (risk/sweep.py), at the input's line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator

_Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
DistributionKind = Literal["normal", "lognormal", "triangular", "uniform", "discrete"]

# which parameters each kind takes: required, then optional
PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "normal": (("mean", "sd"), ("low", "high")),
    "lognormal": (("median", "sigma"), ("low", "high")),
    "triangular": (("low", "mode", "high"), ()),
    "uniform": (("low", "high"), ()),
    "discrete": (("values",), ("weights",)),
}
PSD_TOLERANCE = 1e-9  # smallest eigenvalue allowed below zero (rounding in a stated matrix)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


class Distribution(_Strict):
    """One distribution; which fields it takes depends on `kind` (PARAMETERS).

    normal: mean, sd, optional low/high (truncated there). lognormal: median (e^mu), sigma (of the
    log), optional low/high (truncated). triangular: low, mode, high. uniform: low, high. discrete:
    values (numbers, or any YAML values for `=`), optional weights (normalized).
    """

    kind: DistributionKind = Field(description="normal, lognormal, triangular, uniform or discrete.")
    mean: float | None = Field(None, description="normal: the mean (before truncation).")
    sd: PositiveFloat | None = Field(None, description="normal: the standard deviation (before truncation).")
    median: PositiveFloat | None = Field(None, description="lognormal: the median, e^mu.")
    sigma: PositiveFloat | None = Field(None, description="lognormal: the standard deviation of the log.")
    low: float | None = Field(
        None, description="uniform, triangular: the lowest value; normal, lognormal: truncated below here."
    )
    mode: float | None = Field(None, description="triangular: the most likely value.")
    high: float | None = Field(
        None, description="uniform, triangular: the highest value; normal, lognormal: truncated above here."
    )
    values: list[Any] | None = Field(
        None, min_length=1, description="discrete: the values it takes (numbers, or any YAML value with =)."
    )
    weights: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, description="discrete: each value's weight (normalized); default equal."
    )

    @model_validator(mode="after")
    def _parameters(self) -> Distribution:
        required, optional = PARAMETERS[self.kind]
        given = {
            k
            for k in ("mean", "sd", "median", "sigma", "low", "mode", "high", "values", "weights")
            if getattr(self, k) is not None
        }
        missing = [k for k in required if k not in given]
        if missing:
            raise ValueError(f"a {self.kind} distribution needs {', '.join(missing)}")
        extra = sorted(given - set(required) - set(optional))
        if extra:
            allowed = ", ".join((*required, *optional))
            raise ValueError(f"a {self.kind} distribution takes {allowed}, not {', '.join(extra)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low {self.low:g} must be below high {self.high:g}")
        if self.kind == "triangular" and not (self.low or 0) <= (self.mode or 0) <= (self.high or 0):
            raise ValueError("a triangular distribution needs low <= mode <= high")
        if self.kind == "lognormal" and self.high is not None and self.high <= 0:
            raise ValueError("a lognormal's high bound must be positive")
        if self.kind == "discrete":
            values = self.values or []
            if self.weights is not None and len(self.weights) != len(values):
                raise ValueError(f"{len(values)} values but {len(self.weights)} weights")
            if self.weights is not None and sum(self.weights) <= 0:
                raise ValueError("the weights must not all be zero")
        return self

    @property
    def numeric(self) -> bool:
        """Whether every value it can take is a number (all kinds but a discrete of other values)."""
        return self.kind != "discrete" or all(_is_number(v) for v in self.values or [])

    def typical(self) -> Any:
        """A value it takes, for checking an input's path before a sweep: the centre, or the first value."""
        if self.kind == "normal":
            return self.mean
        if self.kind == "lognormal":
            return self.median
        if self.kind == "triangular":
            return self.mode
        if self.kind == "uniform":
            return ((self.low or 0.0) + (self.high or 0.0)) / 2
        return (self.values or [None])[0]


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


class UncertainInput(_Strict):
    """A named input: `path op value` with the value drawn from `distribution` for each sample."""

    name: _Id = Field(description="The input's name, as results and correlations call it.")
    path: str = Field(min_length=1, description="What it changes, in the overrides grammar (`--set`).")
    op: Literal["=", "*=", "+="] = Field("=", description="= sets the value; *= scales; += adds.")
    distribution: Distribution = Field(description="What each sample's value is drawn from.")
    integer: bool = Field(False, description="Round each drawn value to a whole number (a slip in months).")
    description: str = Field("", description="What the input stands for and why this distribution.")

    @model_validator(mode="after")
    def _numbers_for_arithmetic(self) -> UncertainInput:
        if self.op != "=" and not self.distribution.numeric:
            raise ValueError(f"'{self.op}' needs numbers; a discrete distribution of other values needs '='")
        return self


class Correlation(_Strict):
    """Rank (Spearman) correlation between named inputs: a matrix in the order of `inputs`."""

    inputs: list[_Id] = Field(min_length=2, description="The inputs the matrix's rows and columns name.")
    matrix: list[list[float]] = Field(description="Symmetric, unit diagonal, positive semidefinite.")

    @model_validator(mode="after")
    def _valid_matrix(self) -> Correlation:
        n = len(self.inputs)
        if len(set(self.inputs)) != n:
            raise ValueError("each input at most once")
        if len(self.matrix) != n or any(len(row) != n for row in self.matrix):
            raise ValueError(f"the matrix must be {n} x {n}, one row and column per input")
        m = np.array(self.matrix, dtype=float)
        if np.any(np.abs(m) > 1):
            raise ValueError("correlations lie between -1 and 1")
        if not np.allclose(np.diag(m), 1.0):
            raise ValueError("the matrix's diagonal must be 1 (each input with itself)")
        if not np.allclose(m, m.T):
            i, j = np.argwhere(~np.isclose(m, m.T))[0]
            raise ValueError(
                f"the matrix must be symmetric: row {i + 1} column {j + 1} differs from column's row"
            )
        smallest = float(np.linalg.eigvalsh(m).min())
        if smallest < -PSD_TOLERANCE:
            raise ValueError(
                f"not a valid correlation matrix: not positive semidefinite (eigenvalue {smallest:.3g})"
            )
        return self


class UncertaintySection(_Strict):
    """What a sweep samples: inputs, their correlation, and how they are drawn."""

    inputs: list[UncertainInput] = Field(min_length=1, description="The inputs each sample draws.")
    correlation: Correlation | None = Field(
        None, description="Rank correlation between inputs (Gaussian copula); default independent."
    )
    sampling: Literal["random", "lhs"] = Field(
        "random", description="random: independent draws; lhs: Latin hypercube (one draw per stratum)."
    )

    @model_validator(mode="after")
    def _names(self) -> UncertaintySection:
        names = [i.name for i in self.inputs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"input names must be unique: {', '.join(twice)}")
        if self.correlation is not None:
            unknown = [n for n in self.correlation.inputs if n not in names]
            if unknown:
                raise ValueError(
                    f"correlation names unknown inputs: {', '.join(unknown)}; inputs: {', '.join(names)}"
                )
        return self

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.inputs]
