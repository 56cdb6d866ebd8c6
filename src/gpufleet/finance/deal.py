"""The deal calculator: what a dollar amount over some years buys (GPUs, racks, facility MW, GPU-hours)
at a price per GPU-hour, the price a stated GPU count implies, and the dollars a GPU count costs.

DESIGN.md, "Deal arithmetic": GPUs implied = amount / (years x 8,760 h x price per GPU-hour). The
GPUs are those paid for around the clock; how much of them is used is a separate figure.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from gpufleet.catalog import Catalog, Product
from gpufleet.scenario.schema import Site

HOURS_PER_YEAR = 8_760.0  # the convention deal announcements use: 365 days x 24 h
DEFAULT_PUE: float = float(Site.model_fields["pue"].default)  # a site's default PUE in the scenario schema
# Round prices shown when no --price is given: a presentation choice, not catalog figures.
PRICE_RANGE_USD: tuple[float, ...] = (8.0, 6.0, 5.0, 4.0, 3.5, 3.0, 2.5, 2.0)


def gpus_for(amount_usd: float, years: float, price: float) -> float:
    """GPUs an amount pays for, around the clock, over `years` at `price` per GPU-hour."""
    return amount_usd / (years * HOURS_PER_YEAR * price)


def price_for(amount_usd: float, years: float, gpus: float) -> float:
    """The price per GPU-hour at which an amount over `years` pays for `gpus`."""
    return amount_usd / (years * HOURS_PER_YEAR * gpus)


def amount_for(gpus: float, years: float, price: float) -> float:
    """Dollars that `gpus` cost over `years` at `price` per GPU-hour."""
    return gpus * years * HOURS_PER_YEAR * price


@dataclass(frozen=True, slots=True)
class DealPoint:
    """The deal at one price."""

    label: str  # "list (capacity-block)", "given", "implied by 200,000 GPUs", "range"
    price_per_gpu_hour_usd: float
    gpus: float  # paid for around the clock
    racks: int  # whole NVLink domains (racks for NVL72 products) those GPUs fill
    facility_mw: float  # racks x domain IT kW x PUE
    gpu_hours_per_year: float
    amount_usd: float
    usd_per_year: float


@dataclass(frozen=True, slots=True)
class Deal:
    """A deal worked out at several prices."""

    product: str
    accelerator: str
    gpus_per_rack: int
    rack_it_kw: float
    pue: float
    years: float
    amount_usd: float | None
    list_price_usd: float | None
    list_price_kind: str | None
    points: tuple[DealPoint, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def point(
    label: str,
    product: Product,
    years: float,
    price: float,
    pue: float,
    *,
    amount: float | None = None,
    gpus: float | None = None,
) -> DealPoint:
    """The deal at `price`, from an amount (GPUs follow) or a GPU count (the amount follows)."""
    if amount is None:
        assert gpus is not None
        amount = amount_for(gpus, years, price)
    else:
        gpus = gpus_for(amount, years, price)
    racks = math.floor(gpus / product.gpus_per_domain + 1e-9)
    return DealPoint(
        label=label,
        price_per_gpu_hour_usd=price,
        gpus=gpus,
        racks=racks,
        facility_mw=racks * product.domain_it_kw * pue / 1000.0,
        gpu_hours_per_year=gpus * HOURS_PER_YEAR,
        amount_usd=amount,
        usd_per_year=amount / years,
    )


def evaluate_deal(
    catalog: Catalog,
    product_id: str,
    years: float,
    amount_usd: float | None = None,
    prices: tuple[float, ...] = (),
    gpus: float | None = None,
    pue: float = DEFAULT_PUE,
) -> Deal:
    """The deal at the catalog list price and the given prices (or a range of round prices when none is
    given), and, with both an amount and a GPU count, at the price that count implies. Without an
    amount, a GPU count is priced: dollars at each price. Arguments are checked by the caller."""
    if amount_usd is None and gpus is None:
        raise ValueError("give an amount, a GPU count, or both")
    product = catalog.products[product_id]
    listed = catalog.list_price(product_id)
    pts: list[DealPoint] = []

    def at(label: str, price: float) -> DealPoint:
        if amount_usd is not None:
            return point(label, product, years, price, pue, amount=amount_usd)
        return point(label, product, years, price, pue, gpus=gpus)

    if listed is not None:
        pts.append(at(f"list ({listed.kind}, {listed.region})", listed.usd_per_gpu_hour))
    if amount_usd is not None and gpus is not None:
        pts.append(at(f"implied by {gpus:,.0f} GPUs", price_for(amount_usd, years, gpus)))
    pts.extend(at("given", p) for p in prices)
    if not prices and not (amount_usd is not None and gpus is not None):
        ceiling = listed.usd_per_gpu_hour if listed is not None else math.inf
        pts.extend(at("range", p) for p in PRICE_RANGE_USD if p < ceiling)
    return Deal(
        product=product_id,
        accelerator=product.accelerator,
        gpus_per_rack=product.gpus_per_domain,
        rack_it_kw=product.domain_it_kw,
        pue=pue,
        years=years,
        amount_usd=amount_usd,
        list_price_usd=listed.usd_per_gpu_hour if listed else None,
        list_price_kind=listed.kind if listed else None,
        points=tuple(pts),
    )
