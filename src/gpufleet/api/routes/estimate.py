"""`POST /v1/estimate/training` and `POST /v1/deal`: the workload and deal models, as the CLI gives them."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gpufleet.errors import InputError, Problem
from gpufleet.jsontext import finite

router = APIRouter(tags=["estimates"])
BODY = "<request body>"


class TrainingEstimate(BaseModel):
    """A training run to estimate: the fields of a scenario's training run, plus rate and price."""

    model_config = ConfigDict(extra="forbid")
    params: float = Field(gt=0, description="Parameters N, e.g. 405e9.")
    tokens: float = Field(gt=0, description="Training tokens D, e.g. 15.6e12.")
    accelerator: str = Field(description="Catalog accelerator id (h100, gb200 ...).")
    gpus: int = Field(gt=0)
    precision: str | None = None
    mfu: float | None = None
    sequence_length: int | None = None
    layers: int | None = None
    hidden_size: int | None = None
    checkpoint: dict[str, float | None] = Field(
        default_factory=dict, description="cost_s, interval_s, restart_s"
    )
    failure_rate_per_gpu_hour: float | None = Field(default=None, ge=0)
    price_per_gpu_hour_usd: float | None = Field(default=None, gt=0)


class DealRequest(BaseModel):
    """A deal: amount and/or GPUs over a term on a catalog product, at given prices (or a range)."""

    model_config = ConfigDict(extra="forbid")
    product: str
    years: float = Field(gt=0)
    amount_usd: float | None = Field(default=None, gt=0)
    gpus: float | None = Field(default=None, gt=0)
    prices: list[float] = Field(default_factory=list, max_length=50)
    pue: float | None = Field(default=None, ge=1.0, le=3.0)


def _problems(exc: ValidationError) -> InputError:
    from gpufleet.scenario.load import error_message

    return InputError(
        [Problem(BODY, ".".join(str(x) for x in e["loc"]), error_message(e)) for e in exc.errors()]
    )


@router.post("/v1/estimate/training")
def estimate_training(body: TrainingEstimate) -> dict[str, Any]:
    """FLOPs, achieved TFLOP/s per GPU, wall time, GPU-hours, cost, interruptions and goodput."""
    from gpufleet.catalog import load_builtin_catalog
    from gpufleet.scenario.schema import TrainingRun
    from gpufleet.workload.training import plan_training

    catalog = load_builtin_catalog()
    if body.accelerator not in catalog.accelerators:
        known = ", ".join(catalog.accelerators)
        raise InputError(
            [Problem(BODY, "accelerator", f"unknown accelerator {body.accelerator!r}; known: {known}")]
        )
    fields = body.model_dump(exclude={"failure_rate_per_gpu_hour", "price_per_gpu_hour_usd"})
    try:
        run = TrainingRun.model_validate({"name": "estimate", "team": "estimate"} | fields)
    except ValidationError as exc:
        raise _problems(exc) from None
    plan = plan_training(run, catalog, failure_rate_override=body.failure_rate_per_gpu_hour)
    price = body.price_per_gpu_hour_usd
    finite_hours = math.isfinite(plan.expected_gpu_hours)
    return dict(
        finite(asdict(plan))
        | {
            "achieved_tflops_per_gpu": plan.achieved_flops_per_gpu / 1e12,
            "compute_days": plan.compute_s / 86400,
            "expected_wall_days": plan.expected_wall_s / 86400
            if math.isfinite(plan.expected_wall_s)
            else None,
            "price_per_gpu_hour_usd": price,
            "expected_cost_usd": plan.expected_gpu_hours * price if price and finite_hours else None,
        }
    )


@router.post("/v1/deal")
def deal(body: DealRequest) -> dict[str, Any]:
    """What a deal buys: GPUs, racks, facility MW and GPU-hours a year at each price."""
    from gpufleet.catalog import load_builtin_catalog
    from gpufleet.finance.deal import DEFAULT_PUE, HOURS_PER_YEAR, evaluate_deal

    if body.amount_usd is None and body.gpus is None:
        raise InputError([Problem(BODY, "amount_usd", "give amount_usd, gpus, or both")])
    bad = [p for p in body.prices if not (math.isfinite(p) and p > 0)]
    if bad:
        raise InputError([Problem(BODY, "prices", f"every price must be positive, got {bad[0]:g}")])
    catalog = load_builtin_catalog()
    if body.product not in catalog.products:
        raise InputError([Problem(BODY, "product", f"unknown product {body.product!r}")])
    result = evaluate_deal(
        catalog, body.product, body.years, body.amount_usd, tuple(body.prices), body.gpus,
        DEFAULT_PUE if body.pue is None else body.pue,
    )  # fmt: skip
    return dict(finite(result.to_dict() | {"hours_per_year": HOURS_PER_YEAR}))
