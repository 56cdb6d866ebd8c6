"""The scenario file's shape: pydantic v2 models, units in field names, unknown keys refused.

A scenario says what the lab has contracted (providers, sites, clusters, contracts) and the work it
must run (teams, workloads), how the scheduler decides (policies) and how money comes in (finance).
Cross-references (a cluster's site, a contract's clusters) are checked in `validate.py`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PositiveFloat,
    PositiveInt,
    Tag,
    model_validator,
)

from gpufleet.catalog.model import Accelerator, Precision, Price, Product
from gpufleet.scenario.options import PlanSection
from gpufleet.scenario.uncertainty import UncertaintySection
from gpufleet.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="A short lowercase id: letters, digits, - _ .")]
PriorityClass = Literal["inference", "training", "research", "best-effort"]
DEFAULT_CLASS_ORDER: tuple[PriorityClass, ...] = ("inference", "training", "research", "best-effort")
TopologyLevel = Literal["domain", "block", "cluster"]
Share = Annotated[float, Field(ge=0, le=1)]

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)$")
_UNIT_S = {"s": 1.0, "m": 60.0, "min": 60.0, "h": SECONDS_PER_HOUR, "d": SECONDS_PER_DAY}
_UNIT_S["w"] = 7 * SECONDS_PER_DAY


def duration_seconds(text: str) -> float:
    """Seconds in a duration such as '1d', '6h', '30m', '1w'."""
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"expected a duration such as 30m, 6h, 1d or 1w, got {text!r}")
    seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def _check_duration(text: str) -> str:
    duration_seconds(text)
    return text


Duration = Annotated[str, AfterValidator(_check_duration)]


class Strict(BaseModel):
    """Base of every scenario model: a key we do not know is an error, never ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


# ----------------------------------------------------------------------------------------- fleet


class Horizon(Strict):
    start: dt.date = Field(description="First day simulated (00:00 UTC).")
    end: dt.date = Field(description="Last day simulated, inclusive (the run stops at its 24:00 UTC).")
    step: Duration = Field("1d", description="Reporting step of the time series: 1h, 6h, 1d, 1w ...")

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @property
    def step_s(self) -> float:
        return duration_seconds(self.step)


class Site(Strict):
    name: Name
    provider: Name
    region: str = Field(description="The provider's region or campus, as the provider names it.")
    geo: Name = Field("us", description="Demand region served from here (matches inference demand regions).")
    power_mw: PositiveFloat = Field(description="Facility power budget in MW (IT load x PUE must fit).")
    pue: float = Field(1.2, ge=1.0, le=3.0, description="Power usage effectiveness of the facility.")
    power_usd_per_kwh: float | None = Field(
        None, ge=0, description="Set when the lab pays for power apart from the GPU-hour price."
    )


class Cluster(Strict):
    name: Name
    site: Name
    product: str = Field(description="Catalog product id, provider/sku.")
    blocks: PositiveInt = Field(description="Spine blocks in the cluster's network.")
    domains_per_block: PositiveInt = Field(description="NVLink domains under one spine block.")


class Term(Strict):
    start: dt.date
    end: dt.date = Field(description="Last day of the term, inclusive.")

    @model_validator(mode="after")
    def _ordered(self) -> Term:
        if self.end < self.start:
            raise ValueError(f"term end {self.end} is before its start {self.start}")
        return self


class RampStep(Strict):
    date: dt.date
    domains: int = Field(ge=0, description="Domains online from this date, cumulative over the contract.")


class ShareStep(Strict):
    date: dt.date
    share: Share = Field(description="Share of the contract's derived full size online from this date.")


class DerivedRamp(Strict):
    """Full size = commitment / (price x GPUs per domain x ramp-weighted hours), reached by the schedule.

    Ramp-weighted hours = the sum over the schedule's steps of share x hours from the step's date to the
    next step (or the term's end): the hours the fleet delivers over the term, as a share of full size.
    """

    derive: Literal["commitment"] = "commitment"
    schedule: list[ShareStep] = Field(min_length=1)
    sizing: Literal["ramp-weighted", "term-hours"] = Field(
        "ramp-weighted",
        description="ramp-weighted: capacity delivered over the term, priced, equals the commitment; "
        "term-hours: full size = commitment / (term hours x price x GPUs per domain), as if all of it "
        "were online from the term's start (the fleet then delivers less than the commitment).",
    )


def _ramp_kind(value: Any) -> str:
    return "derived" if isinstance(value, dict | DerivedRamp) else "dated"


# Tagged by the input's shape, so an error names the field inside the form the user wrote.
Ramp = Annotated[
    Annotated[list[RampStep], Tag("dated")] | Annotated[DerivedRamp, Tag("derived")],
    Discriminator(_ramp_kind),
]
UNION_TAGS = frozenset({"dated", "derived"})


class Commitment(Strict):
    total_usd: float | None = Field(None, gt=0, description="Total committed spend over the term.")
    min_per_year_usd: float | None = Field(None, gt=0, description="Minimum spend per contract year.")
    take_or_pay: bool = Field(True, description="Unused commitment is paid all the same.")

    @model_validator(mode="after")
    def _something(self) -> Commitment:
        if self.total_usd is None and self.min_per_year_usd is None:
            raise ValueError("a commitment needs total_usd, min_per_year_usd or both")
        return self


BillingModel = Literal["reserved", "spend-commitment", "prepaid", "on-demand", "capacity-block"]


class Payment(Strict):
    """One stated payment of a prepaid contract: a share of the commitment or an amount, on a date."""

    date: dt.date = Field(description="Day the payment is invoiced (inside the term).")
    share: Share | None = Field(None, description="Share of commitment.total_usd paid on this date.")
    amount_usd: PositiveFloat | None = Field(None, description="Or: the amount paid on this date.")

    @model_validator(mode="after")
    def _one(self) -> Payment:
        if (self.share is None) == (self.amount_usd is None):
            raise ValueError("give share or amount_usd")
        return self


class Billing(Strict):
    """How the provider bills the contract (docs/finance.md, "Billing models", has the arithmetic)."""

    model: BillingModel = Field(
        description="reserved: each month, price x GPUs delivered x hours, used or not. "
        "spend-commitment: usage x price as it happens, the commitment's minimums trued up (see true_up). "
        "prepaid: the stated payments on their dates, recognized over the term in proportion to "
        "capacity delivered. on-demand / capacity-block: usage x price only."
    )
    true_up: Literal["period-end", "monthly"] = Field(
        "period-end",
        description="spend-commitment: when a minimum's shortfall is billed. period-end: at the end of "
        "the contract year (yearly minimum) or term (total). monthly: the minimum is invoiced in monthly "
        "instalments in proportion to capacity delivered, usage drawing them down; each month bills "
        "usage + the change in max(0, instalments to date - usage to date), so the period pays "
        "max(usage, minimum) in all.",
    )
    prorate_minimum: bool = Field(
        True,
        description="spend-commitment and prepaid: a minimum (or prepayment) is pro-rated to capacity "
        "delivered against the planned (unslipped) ramp: minimum x min(1, delivered / planned GPU-hours "
        "in the period). false: the minimum stands whatever is delivered.",
    )
    service_credit_rate: Share = Field(
        0.0,
        description="Share of the price credited per GPU-hour planned but not delivered (late delivery "
        "or withdrawn capacity), in the month it was due.",
    )
    payments: list[Payment] = Field(
        default_factory=list, description="prepaid: the stated payments (dates, shares or amounts)."
    )

    @model_validator(mode="after")
    def _payments(self) -> Billing:
        if self.model == "prepaid" and not self.payments:
            raise ValueError("a prepaid contract needs payments")
        if self.model != "prepaid" and self.payments:
            raise ValueError(f"payments are for prepaid contracts, not {self.model}")
        if self.true_up != "period-end" and self.model != "spend-commitment":
            raise ValueError(f"true_up is for spend-commitment contracts, not {self.model}")
        return self


class ProviderEvent(Strict):
    """Capacity withdrawn from a date (a default, a lost campus): the ramp's domains cut from then on."""

    provider: Name
    date: dt.date = Field(description="First day without the withdrawn capacity.")
    withdraw_share: Share = Field(
        1.0, description="Share of the provider's capacity withdrawn from the date."
    )
    contracts: list[Name] | None = Field(None, description="Contracts hit; default: all of the provider's.")


def _contract_field_path(path: str) -> str:
    """A provenance key names a field of a contract: `price_per_gpu_hour_usd`, `commitment.total_usd`."""
    from gpufleet.scenario.load import _keys_at

    parts = path.split(".")
    for k, part in enumerate(parts):
        allowed = _keys_at(("contracts", 0, *parts[:k]))
        if part not in allowed:
            where = ".".join(parts[:k]) or "a contract"
            raise ValueError(f"'{path}' is not a field of {where}; fields: {', '.join(allowed) or 'none'}")
    return path


FieldPath = Annotated[str, AfterValidator(_contract_field_path)]


class Provenance(Strict):
    """Where one figure comes from: a public fact (with its source) or our assumption (with its reason)."""

    kind: Literal["fact", "assumption"] = Field(
        description="fact: a public figure (name its source); assumption: ours (say why in the note)."
    )
    source: str | None = Field(
        None, description="A catalog source key (sources.yaml) or the source in words; a fact needs one."
    )
    note: str = Field("", description="What the figure rests on, in a few words.")

    @model_validator(mode="after")
    def _fact_has_source(self) -> Provenance:
        if self.kind == "fact" and not (self.source or "").strip():
            raise ValueError("a fact needs its source")
        return self


class Contract(Strict):
    name: Name
    provider: Name
    kind: Literal["committed", "on-demand", "capacity-block"] = "committed"
    clusters: list[Name] = Field(min_length=1, description="Filled in this order as the ramp grows.")
    product: str | None = Field(None, description="Catalog product; default: the clusters' product.")
    term: Term | None = Field(None, description="Required for committed contracts; default the horizon.")
    ramp: Ramp | None = Field(
        None,
        description="Dated domain counts, or derived from commitment and price; none = all at term start.",
    )
    price_per_gpu_hour_usd: PositiveFloat | None = Field(
        None, description="Negotiated price; default the catalog's list price for the product."
    )
    commitment: Commitment | None = None
    cap_gpus: PositiveInt | None = Field(None, description="On-demand / capacity-block: most GPUs at once.")
    billing: Billing | None = Field(
        None, description="How the contract bills; default: spend-commitment (committed) or its kind."
    )
    slip_months: int = Field(
        0,
        ge=0,
        le=120,
        description="Delivery late by this many months: every ramp date moves later (steps past the term's "
        "end never arrive); the term, the commitment and the planned ramp stay.",
    )
    provenance: dict[FieldPath, Provenance] = Field(
        default_factory=dict,
        description="Per figure (a field of this contract: price_per_gpu_hour_usd, commitment.total_usd, "
        "term, ramp ...): a public fact with its source, or an assumption. Read by `scenario show` and "
        "the report; not part of the run's content hash.",
    )

    @property
    def billing_model(self) -> BillingModel:
        """The billing model in force: stated, else spend-commitment (committed) or the contract's kind."""
        if self.billing is not None:
            return self.billing.model
        return "spend-commitment" if self.kind == "committed" else self.kind

    @model_validator(mode="after")
    def _kind_rules(self) -> Contract:
        if self.kind == "committed":
            if self.term is None:
                raise ValueError("a committed contract needs a term")
            if self.cap_gpus is not None:
                raise ValueError("cap_gpus is for on-demand and capacity-block contracts")
        else:
            if self.commitment is not None:
                raise ValueError(f"a {self.kind} contract carries no commitment")
            if self.cap_gpus is None:
                raise ValueError(f"a {self.kind} contract needs cap_gpus")
        if isinstance(self.ramp, DerivedRamp) and (
            self.commitment is None or self.commitment.total_usd is None
        ):
            raise ValueError("a ramp derived from the commitment needs commitment.total_usd")
        model = self.billing_model
        if self.kind != "committed" and model != self.kind:
            raise ValueError(f"a {self.kind} contract bills as {self.kind}, not {model}")
        if model in ("on-demand", "capacity-block") and self.commitment is not None:
            raise ValueError(f"{model} billing carries no commitment")
        if model == "reserved" and self.commitment is not None and self.commitment.min_per_year_usd:
            raise ValueError("reserved billing charges capacity delivered; a yearly minimum does not apply")
        if model == "prepaid":
            if self.commitment is None or self.commitment.total_usd is None:
                raise ValueError("prepaid billing needs commitment.total_usd (what the payments add up to)")
            assert self.billing is not None
            total = self.commitment.total_usd
            paid = sum(p.amount_usd if p.amount_usd is not None else (p.share or 0.0) * total
                       for p in self.billing.payments)  # fmt: skip
            if abs(paid - total) > 1e-6 * total:
                raise ValueError(
                    f"prepaid payments add up to {paid:,.0f}, not commitment.total_usd {total:,.0f}"
                )
        return self


class Team(Strict):
    name: Name
    quota_share: Share = Field(description="Share of the fleet this team is entitled to.")
    priority_class: PriorityClass = "research"
    can_borrow: bool = Field(False, description="May use idle quota of others (reclaimed by preemption).")


# ------------------------------------------------------------------------------------- workloads


class Topology(Strict):
    require: TopologyLevel | None = Field(None, description="The job must fit inside one such unit.")
    prefer: TopologyLevel | None = Field(None, description="Placed inside one such unit where possible.")


class Checkpointing(Strict):
    interval_s: PositiveFloat | None = Field(
        None, description="Training seconds between checkpoints. Default: the optimum for cost and MTBF."
    )
    cost_s: float = Field(30.0, ge=0, description="Time a checkpoint stalls training.")
    restart_s: float | None = Field(None, ge=0, description="Restart overhead; default grows with job size.")


class TrainingRun(Strict):
    name: Name
    team: Name
    priority_class: PriorityClass | None = Field(None, description="Default: the team's class.")
    params: PositiveFloat = Field(description="Parameters N.")
    tokens: PositiveFloat = Field(description="Training tokens D.")
    accelerator: str = Field(description="Catalog accelerator id the run is planned on.")
    precision: Precision | None = None
    gpus: PositiveInt
    mfu: float | None = Field(
        None, gt=0, le=1, description="Default: catalog MFU for the accelerator and scale."
    )
    sequence_length: PositiveInt | None = Field(None, description="Adds the attention FLOPs term when given.")
    layers: PositiveInt | None = None
    hidden_size: PositiveInt | None = None
    topology: Topology = Field(default_factory=lambda: Topology(require="cluster", prefer="block"))
    earliest_start: dt.date | None = None
    deadline: dt.date | None = None
    checkpoint: Checkpointing = Field(default_factory=Checkpointing)
    allowed_providers: list[Name] | None = None

    @model_validator(mode="after")
    def _dates(self) -> TrainingRun:
        if self.earliest_start and self.deadline and self.deadline < self.earliest_start:
            raise ValueError(f"deadline {self.deadline} is before earliest_start {self.earliest_start}")
        return self


class RegionDemand(Strict):
    share: Share = Field(description="Share of users in this region.")
    utc_offset_h: float = Field(0.0, ge=-12, le=14, description="Time zone of the region's daily cycle.")


class SCurve(Strict):
    midpoint: dt.date
    saturation_weekly_users: PositiveFloat
    steepness_per_year: PositiveFloat = 2.0


class RevenueDriver(Strict):
    """Tokens that follow the business: revenue x share / realized price per token."""

    share: Share = Field(
        description="Share of the lab's revenue (the run's case) earned by this service's tokens."
    )
    usd_per_million_tokens: PositiveFloat = Field(
        description="Realized price per million output tokens at the start."
    )
    price_decline_per_year: float = Field(
        0.0, ge=0, lt=1, description="Yearly fall of the realized price (cheaper models, competition)."
    )


class InferenceDemand(Strict):
    weekly_users: PositiveFloat | None = Field(None, description="Weekly active users at the horizon start.")
    tokens_per_user_per_day: PositiveFloat | None = Field(
        None, description="Tokens generated per weekly user per day at the horizon start."
    )
    tokens_per_user_growth_per_year: float = Field(
        0.0, ge=-0.9, le=10.0, description="Compound yearly growth of tokens per user (reasoning, agents)."
    )
    growth_per_month: float = Field(0.0, ge=-0.5, le=2.0, description="Compound monthly user growth.")
    s_curve: SCurve | None = Field(None, description="Logistic user growth instead of a monthly rate.")
    revenue: RevenueDriver | None = Field(
        None, description="Tokens from the revenue path of the run's case, the alternative to users."
    )
    driver: Literal["revenue", "users"] | None = Field(
        None, description="Which path drives the demand when both are given (the run reports their gap)."
    )
    daily_peak_to_mean: float = Field(1.6, ge=1.0, le=5.0)
    weekend_factor: float = Field(0.85, gt=0, le=2.0, description="Weekend demand relative to weekdays.")
    regions: dict[Name, RegionDemand] = Field(
        default_factory=lambda: {"us": RegionDemand(share=1.0, utc_offset_h=-6)}
    )

    @model_validator(mode="after")
    def _shares(self) -> InferenceDemand:
        total = sum(r.share for r in self.regions.values())
        if self.regions and abs(total - 1.0) > 1e-6:
            raise ValueError(f"region shares add up to {total:g}, not 1")
        if self.s_curve is not None and self.growth_per_month:
            raise ValueError("give growth_per_month or s_curve, not both")
        has_users = self.weekly_users is not None or self.tokens_per_user_per_day is not None
        if has_users and (self.weekly_users is None or self.tokens_per_user_per_day is None):
            raise ValueError("the users path needs weekly_users and tokens_per_user_per_day")
        if not has_users and self.revenue is None:
            raise ValueError("give a users path (weekly_users, tokens_per_user_per_day) or revenue")
        if has_users and self.revenue is not None and self.driver is None:
            raise ValueError("users and revenue both given: say which drives the demand (driver)")
        if self.driver == "users" and not has_users:
            raise ValueError("driver users needs weekly_users and tokens_per_user_per_day")
        if self.driver == "revenue" and self.revenue is None:
            raise ValueError("driver revenue needs revenue")
        return self

    @property
    def driven_by(self) -> Literal["revenue", "users"]:
        """The path that drives the demand: the stated driver, else the only one given."""
        if self.driver is not None:
            return self.driver
        return "revenue" if self.revenue is not None else "users"


class Inference(Strict):
    name: Name
    team: Name
    priority_class: PriorityClass | None = None
    model_class: Name = Field(description="Throughput class in the catalog (e.g. frontier-moe, dense-400b).")
    replica_gpus: PositiveInt
    headroom: float = Field(1.2, ge=1.0, le=5.0, description="Capacity above demand kept for bursts.")
    tokens_per_s_per_gpu: dict[str, PositiveFloat] = Field(
        default_factory=dict, description="Overrides of catalog throughput by accelerator id."
    )
    demand: InferenceDemand
    allowed_providers: list[Name] | None = None
    allowed_regions: list[Name] | None = Field(None, description="Site geos where replicas may run.")


class TraceSource(Strict):
    path: str = Field(description="Trace file, relative to the scenario file.")
    format: Literal["philly", "openb", "generic"]
    team_map: dict[str, Name] = Field(default_factory=dict, description="Trace field value -> team.")
    class_map: dict[str, PriorityClass] = Field(default_factory=dict, description="Trace value -> class.")
    start: dt.date | None = Field(
        None, description="Trace time 0 is shifted to this date; default horizon start."
    )


class GpuStep(Strict):
    date: dt.date
    gpus: int = Field(ge=0, description="GPUs the work keeps busy on average from this date.")


class SyntheticSource(Strict):
    source: str = Field("philly", description="Fitted parameters: a catalog name or a file path.")
    jobs_per_day: PositiveFloat | None = Field(None, description="Fixed arrival rate.")
    fleet_share: Share | None = Field(
        None, description="Or: offered load as this share of the GPUs online, arrivals following the ramp."
    )
    gpus_schedule: list[GpuStep] | None = Field(
        None,
        min_length=1,
        description="Or: offered load as GPUs busy on average, a planned schedule (steps by date), "
        "independent of the capacity online.",
    )
    size_scale: PositiveInt = Field(1, description="Each job's GPUs multiplied (coarser research jobs).")
    max_gpus: PositiveInt | None = Field(
        None, description="Largest job; bigger ones run on this many GPUs for longer (same GPU-hours)."
    )
    start: dt.date | None = None
    end: dt.date | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> SyntheticSource:
        given = [x is not None for x in (self.jobs_per_day, self.fleet_share, self.gpus_schedule)]
        if sum(given) != 1:
            raise ValueError("give exactly one of jobs_per_day, fleet_share or gpus_schedule")
        if self.gpus_schedule is not None:
            dates = [g.date for g in self.gpus_schedule]
            if dates != sorted(set(dates)):
                raise ValueError("gpus_schedule dates must increase")
        if self.max_gpus is not None and self.max_gpus < self.size_scale:
            raise ValueError(f"max_gpus {self.max_gpus} is below size_scale {self.size_scale}")
        return self


class Stream(Strict):
    name: Name
    team: Name
    priority_class: PriorityClass | None = None
    trace: TraceSource | None = None
    synthetic: SyntheticSource | None = None
    topology: Topology = Field(default_factory=lambda: Topology(require="cluster", prefer="domain"))
    allowed_providers: list[Name] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Stream:
        if (self.trace is None) == (self.synthetic is None):
            raise ValueError("a stream needs exactly one of trace or synthetic")
        return self


class AcceleratorStep(Strict):
    date: dt.date = Field(description="Runs starting from this date use this accelerator.")
    accelerator: str = Field(description="Catalog accelerator id.")
    precision: Precision | None = None


class Roadmap(Strict):
    """Frontier runs generated on a cadence: run i starts first_start + i x every_months, with k^i times
    the first run's compute (6 N D, tokens per parameter kept), on first_gpus x gpu_growth^i GPUs capped
    at max_gpus (the largest cluster planned); a post-training/RL run follows each at a share of its
    compute. Generated runs are named NAME-1, NAME-1-post, NAME-2 ..."""

    name: Name
    team: Name
    priority_class: PriorityClass | None = None
    first_start: dt.date
    every_months: PositiveInt
    until: dt.date | None = Field(None, description="No run starts after this date; default the horizon end.")
    first_params: PositiveFloat = Field(description="Parameters of the first pre-training run.")
    first_tokens: PositiveFloat = Field(description="Tokens of the first pre-training run.")
    compute_growth: float = Field(
        ge=1.0, le=100.0, description="k: each run's compute over the previous one's."
    )
    first_gpus: PositiveInt
    gpu_growth: float = Field(1.0, ge=1.0, le=100.0, description="Each run's GPUs over the previous one's.")
    max_gpus: PositiveInt = Field(description="Cap on a run's GPUs: what fits the largest cluster planned.")
    max_flop: PositiveFloat | None = Field(
        None,
        description="Cap on a run's compute (6 N D): what the largest cluster trains in the longest run "
        "planned, stated by the scenario.",
    )
    gpu_multiple: PositiveInt = Field(
        1, description="GPU counts rounded down to a multiple (a domain's GPUs)."
    )
    accelerators: list[AcceleratorStep] = Field(min_length=1, description="Accelerator by start date.")
    post_training_share: Share = Field(0.0, description="Post-training/RL compute over the pre-training's.")
    post_training_gpus: PositiveInt | None = None
    post_training_lag_months: int = Field(
        0, ge=0, le=120, description="Post-training starts this long after its pre-training's start."
    )
    topology: Topology = Field(default_factory=lambda: Topology(require="cluster", prefer="block"))
    checkpoint: Checkpointing = Field(default_factory=Checkpointing)
    allowed_providers: list[Name] | None = None

    @model_validator(mode="after")
    def _shape(self) -> Roadmap:
        dates = [a.date for a in self.accelerators]
        if dates != sorted(set(dates)):
            raise ValueError("accelerators dates must increase")
        if dates[0] > self.first_start:
            raise ValueError(f"no accelerator for the first run ({self.first_start}): first step {dates[0]}")
        if self.first_gpus > self.max_gpus:
            raise ValueError(f"first_gpus {self.first_gpus} is above max_gpus {self.max_gpus}")
        if self.gpu_multiple > self.first_gpus:
            raise ValueError(f"gpu_multiple {self.gpu_multiple} is above first_gpus {self.first_gpus}")
        if self.post_training_share > 0 and self.post_training_gpus is None:
            raise ValueError("post_training_share needs post_training_gpus")
        return self


class Workload(Strict):
    """One list item, holding exactly one kind of workload."""

    training_run: TrainingRun | None = None
    inference: Inference | None = None
    stream: Stream | None = None
    roadmap: Roadmap | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict):
            keys = ("training_run", "inference", "stream", "roadmap")
            kinds = [k for k in keys if data.get(k) is not None]
            if len(kinds) > 1:
                raise ValueError(f"one workload per list item, got {', '.join(kinds)}")
            if not kinds and not (set(data) - set(keys)):
                raise ValueError("a workload item needs one of training_run, inference, stream or roadmap")
        return data

    @property
    def item(self) -> TrainingRun | Inference | Stream | Roadmap:
        found = self.training_run or self.inference or self.stream or self.roadmap
        assert found is not None
        return found


# -------------------------------------------------------------------------------------- policies


class ProviderChoice(Strict):
    name: Literal["cheapest", "commitment-first", "price-order", "diversify", "pinned", "plan"] = Field(
        "commitment-first",
        description="cheapest | commitment-first | price-order | diversify | pinned | plan (follow a stored "
        "plan's monthly allocation: simulate --plan sets it; without a plan it ranks as commitment-first).",
    )
    max_share: Share | None = Field(
        None, description="diversify: cap on one provider's share of a team's use."
    )
    provider: Name | None = Field(None, description="pinned: the provider every workload uses.")


class Preemption(Strict):
    enabled: bool = True
    order: list[PriorityClass] = Field(
        default_factory=lambda: list(DEFAULT_CLASS_ORDER),
        description="Highest class first; a class may preempt those after it.",
    )


class Failures(Strict):
    enabled: bool = True
    rate_per_gpu_hour: dict[str, PositiveFloat] = Field(
        default_factory=dict, description="Overrides of the catalog's interruption rate by accelerator id."
    )
    repair_hours: PositiveFloat = Field(4.0, description="Time a failed node is out of service.")


QueueName = Literal["fair-share", "priority", "fifo", "strict-fifo"]


class Policies(Strict):
    """How the scheduler decides (`queue` replaces the older `mode` and `fair_share`, still read)."""

    queue: QueueName = Field(
        "fair-share",
        description="The queue order. fair-share: priority classes in order, FIFO by submit time within "
        "each, every team held to its quota share (a team that may borrow goes beyond it, preemptibly); "
        "priority: the same without quotas; fifo: one queue of every class by submit time, no quotas "
        "(backfill and preemption as set); strict-fifo: the reference mode, priority FIFO on clusters "
        "pooled as plain GPUs, no topology, failures, backfill or preemption.",
    )
    placement: Literal["best-fit", "first-fit"] = "best-fit"
    backfill: Literal["easy", "none"] = "easy"
    preemption: Preemption = Field(default_factory=Preemption)
    provider_choice: ProviderChoice = Field(default_factory=ProviderChoice)
    overflow: bool = Field(False, description="May work spill onto on-demand / capacity-block contracts?")
    failures: Failures = Field(default_factory=Failures)
    autoscale_interval: Duration = Field("1h", description="Inference autoscaling tick.")

    @model_validator(mode="before")
    @classmethod
    def _old_queue_fields(cls, data: Any) -> Any:
        """`mode: normal | strict-fifo` and `fair_share: bool`, the form before `queue`, read as `queue`:
        stored runs keep their scenario's text and are read again (reports, what-ifs, sweeps)."""
        if not isinstance(data, dict) or not ({"mode", "fair_share"} & set(data)):
            return data
        if "queue" in data:
            raise ValueError("give the queue order once: `queue` replaces `mode` and `fair_share`")
        out = {k: v for k, v in data.items() if k not in ("mode", "fair_share")}
        mode, fair = data.get("mode", "normal"), data.get("fair_share", True)
        if mode not in ("normal", "strict-fifo") or not isinstance(fair, bool):
            given = ", ".join(f"{k} {data[k]!r}" for k in ("mode", "fair_share") if k in data)
            raise ValueError(
                f"{given}: write `queue: fair-share | priority | fifo | strict-fifo` instead (mode and "
                "fair_share are its older form)"
            )
        out["queue"] = "strict-fifo" if mode == "strict-fifo" else "fair-share" if fair else "priority"
        return out

    @property
    def strict(self) -> bool:
        """The strict-FIFO reference mode: pooled clusters, no failures, backfill or preemption."""
        return self.queue == "strict-fifo"


# --------------------------------------------------------------------------------------- finance


class RevenueScenario(Strict):
    start_usd: PositiveFloat | None = Field(None, description="Revenue in start_year.")
    start_year: int | None = Field(None, ge=2000, le=2100, description="Default: the horizon's first year.")
    growth_per_year: float = Field(0.0, ge=-0.9, le=10.0)
    by_year_usd: dict[Annotated[int, Field(ge=2000, le=2100)], PositiveFloat] | None = Field(
        None,
        description="Or revenue anchors by calendar year; years between follow constant growth, years "
        "outside the growth of the nearest pair of anchors.",
    )
    usd_per_million_tokens: PositiveFloat | None = Field(None, description="Or revenue from tokens served.")
    weight: Share | None = Field(None, description="Probability of the case (the plan weighs cases by it).")

    @model_validator(mode="after")
    def _one_way(self) -> RevenueScenario:
        given = [x is not None for x in (self.start_usd, self.by_year_usd, self.usd_per_million_tokens)]
        if sum(given) != 1:
            raise ValueError(
                "give one of start_usd (with growth_per_year), by_year_usd or usd_per_million_tokens"
            )
        if self.by_year_usd is not None and not self.by_year_usd:
            raise ValueError("by_year_usd needs at least one year")
        return self

    @property
    def is_path(self) -> bool:
        """A revenue path stated in dollars (not derived from tokens served)."""
        return self.usd_per_million_tokens is None

    def growth_pieces(self, default_start_year: int) -> list[tuple[int, float, float, int]]:
        """The dollar path as pieces (from year y0, revenue r0 there, ratio q, span): a year y of piece k
        has r0 x q ** ((y - y0) / span). Piece k serves the years up to the next piece's y0; the first
        and the last reach out (the growth of the nearest pair of anchors goes on)."""
        if self.start_usd is not None:
            y0 = self.start_year if self.start_year is not None else default_start_year
            return [(y0, self.start_usd, 1.0 + self.growth_per_year, 1)]
        if self.by_year_usd is None:
            raise ValueError("a revenue case from tokens served has no dollar path")
        points = sorted(self.by_year_usd.items())
        if len(points) == 1:
            return [(points[0][0], points[0][1], 1.0, 1)]
        return [(y0, r0, r1 / r0, y1 - y0) for (y0, r0), (y1, r1) in itertools.pairwise(points)]

    def usd_in_year(self, year: float, default_start_year: int) -> float:
        """Revenue of a calendar year on this path (year may be fractional: the path between years)."""
        pieces = self.growth_pieces(default_start_year)
        y0, r0, q, span = pieces[bisect.bisect_left([p[0] for p in pieces], year, 1) - 1]
        return float(r0 * q ** ((year - y0) / span))


class Finance(Strict):
    revenue_scenarios: dict[Name, RevenueScenario] = Field(
        default_factory=dict, description="The revenue cases, e.g. bear, base, bull."
    )
    base_case: Name | None = Field(
        None, description="The case a run uses unless told otherwise; default 'base', else the first."
    )
    inference_revenue_share: Share = Field(
        1.0, description="Share of revenue attributed to inference, for its gross margin."
    )

    @model_validator(mode="after")
    def _cases(self) -> Finance:
        cases = self.revenue_scenarios
        if self.base_case is not None and self.base_case not in cases:
            raise ValueError(f"base_case '{self.base_case}' is not a revenue scenario ({', '.join(cases)})")
        weights = [c.weight for c in cases.values()]
        if any(w is not None for w in weights):
            if any(w is None for w in weights):
                raise ValueError("give every revenue case a weight, or none")
            total = sum(w or 0.0 for w in weights)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"revenue case weights add up to {total:g}, not 1")
        return self

    @property
    def default_case(self) -> str | None:
        """The base case: stated, else 'base', else the first case; None without cases."""
        if self.base_case is not None:
            return self.base_case
        if "base" in self.revenue_scenarios:
            return "base"
        return next(iter(self.revenue_scenarios), None)


class CatalogOverrides(Strict):
    accelerators: list[Accelerator] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    prices: list[Price] = Field(default_factory=list)


# -------------------------------------------------------------------------------------- scenario


class Scenario(Strict):
    name: Name
    description: str = ""
    horizon: Horizon
    seed: int = Field(0, ge=0)
    catalog: CatalogOverrides = Field(default_factory=CatalogOverrides)
    providers: list[Name] = Field(min_length=1)
    sites: list[Site] = Field(min_length=1)
    clusters: list[Cluster] = Field(min_length=1)
    contracts: list[Contract] = Field(min_length=1)
    teams: list[Team] = Field(default_factory=list)
    workloads: list[Workload] = Field(default_factory=list)
    policies: Policies = Field(default_factory=Policies)
    finance: Finance = Field(default_factory=Finance)
    provider_events: list[ProviderEvent] = Field(
        default_factory=list, description="Capacity withdrawn from a date (defaults, lost sites)."
    )
    plan: PlanSection = Field(
        default_factory=PlanSection, description="Candidate contracts for `gpufleet plan`."
    )
    uncertainty: UncertaintySection | None = Field(
        None, description="Inputs drawn from distributions for `gpufleet sweep` (scenario/uncertainty.py)."
    )

    def with_case(self, case: str | None) -> Scenario:
        """The scenario run under revenue case `case` (None: its base case); an unknown case is an error."""
        if case is None:
            return self
        cases = self.finance.revenue_scenarios
        if case not in cases:
            raise ValueError(f"unknown revenue case '{case}'; known: {', '.join(cases) or 'none'}")
        finance = self.finance.model_copy(update={"base_case": case})
        return self.model_copy(update={"finance": finance})

    @model_validator(mode="after")
    def _roadmaps(self) -> Scenario:
        """Each roadmap's generated runs are appended to the workloads as training runs."""
        from gpufleet.scenario.roadmap import roadmap_runs

        generated = [
            Workload(training_run=run)
            for w in self.workloads
            if w.roadmap is not None
            for run in roadmap_runs(w.roadmap, self.horizon.end)
        ]
        if generated:
            self.workloads = [*self.workloads, *generated]
        return self
