"""Deal calculator: DESIGN.md's $38B / 7-year arithmetic and round trips between dollars, GPUs and price."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.catalog import load_builtin_catalog
from gpufleet.finance.deal import DEFAULT_PUE, amount_for, evaluate_deal, gpus_for, price_for

PRODUCT = "aws/u-p6e-gb200x72"


def test_38b_over_7_years() -> None:
    assert round(gpus_for(38e9, 7, 10.58), -2) == 58_600  # ~58.6k at the list price
    assert round(gpus_for(38e9, 7, 4.0), -3) == 155_000  # ~155k
    assert round(gpus_for(38e9, 7, 3.0), -3) == 207_000  # ~207k
    assert price_for(38e9, 7, 200_000) == pytest.approx(3.10, abs=0.005)


def test_evaluate_deal_at_list_price_range_and_implied_price() -> None:
    catalog = load_builtin_catalog()
    deal = evaluate_deal(catalog, PRODUCT, 7, 38e9)
    listed = catalog.list_price(PRODUCT)
    assert listed is not None and deal.list_price_usd == listed.usd_per_gpu_hour
    first = deal.points[0]
    assert first.label.startswith("list")
    assert first.gpus == pytest.approx(38e9 / (7 * 8760 * listed.usd_per_gpu_hour))
    assert first.racks == math.floor(first.gpus / 72)
    assert first.facility_mw == pytest.approx(first.racks * 132 * DEFAULT_PUE / 1000)
    assert first.gpu_hours_per_year == pytest.approx(first.gpus * 8760)
    assert DEFAULT_PUE == 1.2  # the scenario schema's default site PUE
    ranged = [p.price_per_gpu_hour_usd for p in deal.points if p.label == "range"]
    assert ranged and all(p < listed.usd_per_gpu_hour for p in ranged) and 3.0 in ranged
    with_gpus = evaluate_deal(catalog, PRODUCT, 7, 38e9, gpus=200_000)
    implied = next(p for p in with_gpus.points if p.label.startswith("implied"))
    assert implied.gpus == pytest.approx(200_000)
    assert implied.racks == 2777  # 200,000 / 72 = 2,777.8 racks, whole racks only
    given_price = evaluate_deal(catalog, PRODUCT, 7, 38e9, prices=(2.5,))
    assert [p.label for p in given_price.points] == [first.label, "given"]


@given(
    amount=st.floats(1e6, 1e12),
    years=st.floats(0.5, 15),
    price=st.floats(0.5, 50),
)
def test_round_trips(amount: float, years: float, price: float) -> None:
    gpus = gpus_for(amount, years, price)
    assert amount_for(gpus, years, price) == pytest.approx(amount, rel=1e-12)
    assert price_for(amount, years, gpus) == pytest.approx(price, rel=1e-12)
    assert gpus * years * 8760 * price == pytest.approx(amount, rel=1e-12)


def test_without_an_amount_a_gpu_count_is_priced() -> None:
    deal = evaluate_deal(load_builtin_catalog(), PRODUCT, 2, gpus=720, prices=(3.0,))
    given = next(p for p in deal.points if p.label == "given")
    assert given.amount_usd == pytest.approx(720 * 3.0 * 8760 * 2)
    assert given.racks == 10 and given.usd_per_year == pytest.approx(720 * 3.0 * 8760)
    with pytest.raises(ValueError):
        evaluate_deal(load_builtin_catalog(), PRODUCT, 2)
