"""Shapes of the catalog's entries; every entry names its sources and a confidence."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Confidence = Literal["primary", "secondary", "estimate", "assumption"]
PriceKind = Literal["on-demand", "capacity-block", "reserved-1y", "reserved-3y", "list"]
Precision = Literal["bf16", "fp8", "fp4"]

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
PRODUCT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9_.-]*$"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    sources: list[str] = Field(min_length=1, description="Source keys (catalog) or free text (scenario).")
    confidence: Confidence = "assumption"
    notes: dict[str, str] = Field(default_factory=dict, description="Per-figure notes: estimate, caveat.")


class PeakTflops(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    bf16: float = Field(gt=0)
    fp8: float | None = Field(default=None, gt=0)
    fp4: float | None = Field(default=None, gt=0)


class Accelerator(_Entry):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    vendor: str
    tflops: PeakTflops
    hbm_gb: float = Field(gt=0)
    hbm_tbps: float = Field(gt=0)
    power_w: float = Field(gt=0)
    nvlink_domain_gpus: int = Field(gt=0)

    def peak_flops(self, precision: Precision = "bf16") -> float:
        """Dense peak FLOP/s at a precision; falls back to bf16 where the chip has no figure."""
        tf = getattr(self.tflops, precision) or self.tflops.bf16
        return float(tf) * 1e12


class Product(_Entry):
    id: str = Field(pattern=PRODUCT_ID_PATTERN)
    provider: str = Field(pattern=ID_PATTERN)
    sku: str
    accelerator: str
    gpus_per_node: int = Field(gt=0)
    nodes_per_domain: int = Field(gt=0)
    domain_it_kw: float = Field(gt=0)
    network: str = ""

    @property
    def gpus_per_domain(self) -> int:
        return self.gpus_per_node * self.nodes_per_domain


class Price(_Entry):
    product: str = Field(pattern=PRODUCT_ID_PATTERN)
    region: str
    kind: PriceKind
    usd_per_gpu_hour: float = Field(gt=0)
    as_of: dt.date


class Anchor(BaseModel):
    """A public figure about the lab the default models: an input it takes, or a check a run must meet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=ID_PATTERN)
    value: float = Field(gt=0)
    use: Literal["input", "check"]
    sources: list[str] = Field(min_length=1)
    confidence: Confidence
    note: str = Field(min_length=1)
    unit: str = ""
    takes: str = Field("", description="Inputs: where the default scenario takes the figure.")
    measure: str | None = Field(None, description="Checks: how a run's tables give the figure.")
    service: str | None = Field(None, description="Checks on one inference service: its name.")
    at: dt.date | None = Field(None, description="Checks: the day, month start or window start.")
    until: dt.date | None = Field(None, description="Checks over a window: its last day.")
