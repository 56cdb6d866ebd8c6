"""The scenario's `plan` section: candidate contracts (`options`) and the planner's settings.

Its own pydantic models, held by the Scenario root in one field; docs/plan.md states what each figure
does in the model. Cross-references (a site, a product) are checked by `gpufleet.plan.inputs`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

_Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]

DEFAULT_DISCOUNT_RATE = (
    0.08  # per year: an assumption (a large lab's cost of capital), stated in docs/plan.md
)
DEFAULT_UNMET_PENALTY = 30.0  # $ per GPU-hour not served: above every catalog list price (the top is $27.04)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


class CandidateOption(_Strict):
    """A contract the lab could sign: the plan decides whether, how big and when."""

    name: _Id = Field(description="The option's id, as the plan reports it.")
    provider: _Id = Field(description="The provider selling it (the site's provider).")
    site: _Id = Field(description="Site the capacity would sit at (its power budget and geo apply).")
    product: str = Field(description="Catalog product id, provider/sku.")
    price_per_gpu_hour_usd: PositiveFloat | None = Field(None, description="Default: the catalog list price.")
    billing: Literal["reserved", "spend-commitment", "on-demand", "capacity-block"] = Field(
        "reserved",
        description="reserved / capacity-block: capacity x price each month, used or not. spend-commitment: "
        "usage x price with a take-or-pay minimum per contract year of min_share x capacity priced. "
        "on-demand: usage x price only, up to max_domains (nothing to sign).",
    )
    min_share: float = Field(
        0.8, ge=0, le=1, description="spend-commitment: yearly minimum as a share of the capacity, priced."
    )
    min_domains: int = Field(0, ge=0, description="Smallest size if signed, in NVLink domains.")
    max_domains: PositiveInt = Field(description="Largest size, in NVLink domains.")
    earliest_start: dt.date | None = Field(None, description="Default: the horizon's start.")
    lead_time_months: int = Field(
        0, ge=0, le=60, description="Months from signing (horizon start) to delivery."
    )
    term_months: PositiveInt = Field(36, le=240, description="Term from delivery.")
    start_every_months: PositiveInt = Field(3, le=24, description="Start dates considered: every N months.")

    @model_validator(mode="after")
    def _sizes(self) -> CandidateOption:
        if self.min_domains > self.max_domains:
            raise ValueError(f"min_domains {self.min_domains} is above max_domains {self.max_domains}")
        return self


class PlanSection(_Strict):
    """Candidate contracts and the planner's settings (defaults stated in docs/plan.md)."""

    options: list[CandidateOption] = Field(default_factory=list, description="Candidate contracts.")
    discount_rate_per_year: float = Field(
        DEFAULT_DISCOUNT_RATE, ge=0, le=1, description="Discount rate of cash out (present value)."
    )
    unmet_penalty_usd_per_gpu_hour: PositiveFloat = Field(
        DEFAULT_UNMET_PENALTY, description="Cost of a GPU-hour of demand not served."
    )
    max_provider_share: float | None = Field(
        None, gt=0, le=1, description="Cap on any provider's share of use."
    )
    yearly_budget_usd: dict[int, PositiveFloat] = Field(
        default_factory=dict, description="Calendar year -> cap on cash out that year."
    )
    max_cumulative_cash_usd: PositiveFloat | None = Field(
        None, description="Cap on cumulative cash out over the horizon (a funding cap)."
    )
