"""Shapes of the packaged workload data (inference, training, reliability, synthetic streams); every
figure names its sources and a confidence, as the catalog's other entries do."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Annotated, Any, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from gpufleet.catalog.model import Confidence, Precision

Share = Annotated[float, Field(ge=0)]


def _ascending_values(q: list[float]) -> list[float]:
    if any(b < a for a, b in itertools.pairwise(q)):
        raise ValueError("expected values in ascending order")
    return q


Quantiles = Annotated[list[float], AfterValidator(_ascending_values)]
PRECISIONS: tuple[str, ...] = get_args(Precision)


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Figure(_Shape):
    """A figure (or a group of figures) with its sources: keys of sources.yaml."""

    sources: list[str] = Field(min_length=1)
    confidence: Confidence
    note: str = ""


def _follow_likes(table: Mapping[str, Any], where: str = "") -> None:
    """Every `like` names an entry of the same table, and following them ends (no cycle)."""
    for name in table:
        seen = [name]
        like = table[name].like
        while like is not None:
            if like not in table:
                raise ValueError(f"{where}{seen[-1]}: like '{like}', which is not in the table")
            if like in seen:
                raise ValueError(f"{where}{name}: the like entries loop ({' -> '.join([*seen, like])})")
            seen.append(like)
            like = table[like].like


# ------------------------------------------------------------------------------ inference.yaml


class Throughput(_Figure):
    """Output tokens/s per GPU of one accelerator on one model class: measured (an MLPerf system), or
    `like` another accelerator times a factor, with the basis of that factor."""

    tokens_per_s_per_gpu: float | None = Field(None, gt=0)
    system: str | None = None
    like: str | None = None
    factor: float | None = Field(None, gt=0)
    basis: str | None = None

    @model_validator(mode="after")
    def _measured_or_like(self) -> Throughput:
        if self.like is None:
            if self.tokens_per_s_per_gpu is None or not self.system:
                raise ValueError("a measured entry needs tokens_per_s_per_gpu and system (or give like)")
            if self.factor is not None or self.basis is not None:
                raise ValueError("factor and basis go with like")
        elif self.factor is None or not self.basis or self.tokens_per_s_per_gpu is not None:
            raise ValueError("a like entry needs factor and basis, and no tokens_per_s_per_gpu of its own")
        return self


class DailyShape(_Figure):
    peak_hour_local: float = Field(ge=0, lt=24)


class WithinHour(_Figure):
    """Within-hour burstiness and token mix of a request kind, measured on a trace."""

    requests: int = Field(gt=0)
    minute_peak_to_mean: float = Field(ge=1)
    prompt_tokens_per_output_token: float = Field(ge=0)
    mean_output_tokens: float = Field(gt=0)


class InferenceData(_Shape):
    """inference.yaml: throughput by model class and accelerator, the daily and within-hour shapes."""

    throughput: dict[str, dict[str, Throughput]] = Field(min_length=1)
    daily_shape: DailyShape
    within_hour: dict[str, WithinHour] = Field(min_length=1)

    @field_validator("throughput")
    @classmethod
    def _likes(cls, throughput: dict[str, dict[str, Throughput]]) -> dict[str, dict[str, Throughput]]:
        for model_class, table in throughput.items():
            _follow_likes(table, f"{model_class}.")
        return throughput


# ------------------------------------------------------------------------------- training.yaml


class PrecisionDefault(_Figure):
    precision: Precision


class ScaleRule(_Figure):
    """How MFU falls beyond a curve's last point: per doubling of GPUs, never below a share of it."""

    per_doubling: float = Field(gt=0, le=1)
    floor_share: float = Field(gt=0, le=1)


class Speedup(_Figure):
    speedup: float = Field(gt=0)


class PrecisionSpeedups(_Shape):
    """Achieved throughput of each precision relative to BF16 on the same accelerator and scale."""

    bf16: Speedup
    fp8: Speedup
    fp4: Speedup

    def of(self, precision: str) -> float:
        if precision not in PRECISIONS:
            raise KeyError(f"no speedup for precision {precision!r}")
        s: Speedup = getattr(self, precision)
        return s.speedup


class MfuPoint(_Shape):
    gpus: int = Field(gt=0)
    mfu: float = Field(gt=0, lt=1)


class MfuCurve(_Figure):
    points: list[MfuPoint] = Field(min_length=1)


class MfuEntry(_Shape):
    """One accelerator's MFU: curves by precision, or `like` another accelerator times a factor."""

    like: str | None = None
    factor: float | None = Field(None, gt=0)
    sources: list[str] = Field(default_factory=list)
    confidence: Confidence | None = None
    note: str = ""
    bf16: MfuCurve | None = None
    fp8: MfuCurve | None = None
    fp4: MfuCurve | None = None

    def curve(self, precision: str) -> MfuCurve | None:
        """The curve at a precision (None: none here, or not a precision)."""
        c: MfuCurve | None = getattr(self, precision) if precision in PRECISIONS else None
        return c

    @model_validator(mode="after")
    def _curves_or_like(self) -> MfuEntry:
        curves = [c for c in (self.bf16, self.fp8, self.fp4) if c is not None]
        if self.like is None:
            if not curves:
                raise ValueError("give a curve (bf16, fp8 or fp4) or like")
            if self.factor is not None or self.sources or self.confidence is not None:
                raise ValueError("factor, sources and confidence go with like (a curve names its own)")
        elif curves or self.factor is None or not self.sources or self.confidence is None:
            raise ValueError("a like entry needs factor, sources and confidence, and no curve of its own")
        return self


class MoeReference(_Figure):
    run: str
    mfu: float = Field(gt=0, lt=1)


class CheckpointFigures(_Figure):
    """Checkpoint bytes per parameter (its sources) and the storage's write bandwidth (its own)."""

    bytes_per_param: float = Field(gt=0)
    write_bandwidth_bytes_s: float = Field(gt=0)
    bandwidth_sources: list[str] = Field(min_length=1)
    bandwidth_confidence: Confidence


class TrainingData(_Shape):
    """training.yaml: default precisions, MFU curves and their scale rule, checkpoint figures."""

    default_precision: dict[str, PrecisionDefault]
    scale: ScaleRule
    precision_speedup: PrecisionSpeedups
    mfu: dict[str, MfuEntry]
    moe_references: list[MoeReference] = Field(default_factory=list)
    checkpoint: CheckpointFigures

    @field_validator("default_precision", "mfu")
    @classmethod
    def _default(cls, table: dict[str, Any]) -> dict[str, Any]:
        if "default" not in table:
            raise ValueError("needs a `default` entry (for an accelerator not listed)")
        return table

    @field_validator("mfu")
    @classmethod
    def _likes(cls, table: dict[str, MfuEntry]) -> dict[str, MfuEntry]:
        _follow_likes(table)
        return table


# ---------------------------------------------------------------------------- reliability.yaml


class Calibration(_Figure):
    """Interruptions seen on one accelerator: a count over days on a number of GPUs."""

    accelerator: str
    unexpected_interruptions: int = Field(gt=0)
    days: float = Field(gt=0)
    gpus: int = Field(gt=0)


class Multiplier(_Figure):
    multiplier: float = Field(gt=0)


class RestartPoint(_Shape):
    gpus: int = Field(gt=0)
    seconds: float = Field(gt=0)


class RestartFigures(_Figure):
    """Restart overhead at two or more job sizes (ascending), and a floor with its own sources."""

    points: list[RestartPoint] = Field(min_length=2)
    floor_s: float = Field(ge=0)
    floor_sources: list[str] = Field(min_length=1)
    floor_confidence: Confidence = "assumption"
    floor_note: str = ""

    @field_validator("points")
    @classmethod
    def _ascending(cls, points: list[RestartPoint]) -> list[RestartPoint]:
        if any(b.gpus <= a.gpus for a, b in itertools.pairwise(points)):
            raise ValueError("expected points by ascending gpus, each size once")
        return points


class ReliabilityData(_Shape):
    """reliability.yaml: the calibration, per-accelerator multipliers, the restart overhead."""

    calibration: Calibration
    multipliers: dict[str, Multiplier]
    default_multiplier: Multiplier
    restart: RestartFigures


# ------------------------------------------------------------------- synthetic stream parameters


class DurationGroupFigures(_Shape):
    min_gpus: int = Field(ge=1)
    max_gpus: int = Field(ge=1)
    jobs: int = Field(ge=0)
    log_duration_s_quantiles: Quantiles


class SyntheticParamsFile(_Shape):
    """A synthetic job stream's fitted parameters as a file (`gpufleet trace fit` writes one; the
    catalog ships philly's): workload.synthetic reads them as SyntheticParams."""

    name: str = ""
    source: str = ""
    sources: list[str] = Field(default_factory=list)
    confidence: Confidence = "estimate"
    jobs: int = Field(ge=0)
    span_s: float = Field(ge=0)
    jobs_per_day: float = Field(gt=0)
    gpu_seconds_per_job: float = Field(gt=0)
    source_gpus: float | None = Field(None, gt=0)
    hour_shares: list[Share] = Field(min_length=24, max_length=24)
    sizes: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    size_probs: list[Share] = Field(min_length=1)
    quantile_points: int = Field(ge=2)
    duration_groups: list[DurationGroupFigures] = Field(min_length=1)
    gap_quantiles: Annotated[list[Share], AfterValidator(_ascending_values)]

    @field_validator("hour_shares", "size_probs")
    @classmethod
    def _positive_sum(cls, values: list[float]) -> list[float]:
        if not sum(values) > 0:
            raise ValueError("expected shares >= 0 with a positive sum")
        return values

    @model_validator(mode="after")
    def _consistent(self) -> SyntheticParamsFile:
        if len(self.sizes) != len(self.size_probs):
            raise ValueError("sizes and size_probs differ in length")
        n = self.quantile_points
        lengths = [len(self.gap_quantiles), *(len(g.log_duration_s_quantiles) for g in self.duration_groups)]
        if any(k != n for k in lengths):
            raise ValueError(f"every quantile list needs quantile_points = {n} values")
        for s in self.sizes:
            if not any(g.min_gpus <= s <= g.max_gpus for g in self.duration_groups):
                raise ValueError(f"duration_groups: no group holds size {s}")
        return self


class PackagedSyntheticParams(SyntheticParamsFile):
    """The catalog's own parameters: they name their sources, as every catalog figure does."""

    sources: list[str] = Field(min_length=1)
