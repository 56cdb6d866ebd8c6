"""Billing models, each against a hand-computed case (mid-month start, a 366-day contract year, a slip),
and the spend invariant of DESIGN.md for every model under random usage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpufleet.finance import build_focus, build_ledger
from gpufleet.finance.summary import contract_year_summary
from gpufleet.scenario import LoadedScenario, load_scenario_text
from gpufleet.tables import check_table, empty_table

PRICE = 4.0
TEXT = """
name: billing-case
horizon: {{start: 2027-01-01, end: 2029-12-31, step: 1d}}
providers: [aws]
sites:
  - {{name: s1, provider: aws, region: us-east-1, power_mw: 50, pue: 1.2}}
clusters:
  - {{name: c1, site: s1, product: aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 10}}
contracts:
  - name: k
    provider: aws
    clusters: [c1]
    term: {{start: {t0}, end: {t1}}}
    price_per_gpu_hour_usd: {price}
    slip_months: {slip}
{extra}"""


def case(t0: str, t1: str, extra: str, slip: int = 0) -> LoadedScenario:
    return load_scenario_text(TEXT.format(t0=t0, t1=t1, price=PRICE, slip=slip, extra=extra), "billing.yaml")


def usage(per_month: dict[str, float]) -> pd.DataFrame:
    """Contract k's GPU-hours used per month (month 'YYYY-MM')."""
    months = list(per_month)
    used = [per_month[m] for m in months]
    return check_table(
        "usage",
        pd.DataFrame(
            {
                "contract": "k",
                "provider": "aws",
                "month": pd.to_datetime([f"{m}-01" for m in months], utc=True),
                "gpu_hours_available": used,
                "gpu_hours_used": used,
                "gpu_hours_used_inference": used,
                "gpu_hours_used_training": 0.0,
                "gpu_hours_used_research": 0.0,
                "gpu_hours_used_best_effort": 0.0,
                "overflow_gpu_hours": 0.0,
            }
        ),
    )


def ledger_of(loaded: LoadedScenario, used: dict[str, float]) -> pd.DataFrame:
    return build_ledger(usage(used), empty_table("series"), loaded.scenario, loaded.catalog)


def month(ledger: pd.DataFrame, ym: str) -> pd.Series:
    """The month's rows summed (a month where a contract year ends has two)."""
    rows = ledger[ledger["month"] == pd.Timestamp(f"{ym}-01", tz="UTC")]
    return rows.select_dtypes("number").sum()


GPUS_PER_DOMAIN = 72


def test_reserved_bills_capacity_delivered_from_a_slipped_ramp_with_service_credit() -> None:
    """Term from 15 March 2027; planned 5 domains from the 15th, 10 from 1 June; two months late;
    10% service credit on capacity planned but not delivered."""
    loaded = case(
        "2027-03-15",
        "2028-03-14",
        "    ramp:\n      - {date: 2027-03-15, domains: 5}\n      - {date: 2027-06-01, domains: 10}\n"
        "    billing: {model: reserved, service_credit_rate: 0.1}\n",
        slip=2,
    )
    led = ledger_of(loaded, {"2027-05": 50_000.0})
    march, may, june, aug = (month(led, m) for m in ("2027-03", "2027-05", "2027-06", "2027-08"))
    half, full = 5 * GPUS_PER_DOMAIN, 10 * GPUS_PER_DOMAIN
    # March: nothing delivered (the slip moved 15 March to 15 May): nothing billed but the credit is capped
    assert march["cost_due_usd"] == 0.0
    assert march["undelivered_usd"] == pytest.approx(17 * half * 24 * PRICE)  # 15..31 March planned
    # May: 17 days of 360 GPUs delivered (15..31), used 50,000 GPU-hours
    delivered = 17 * half * 24 * PRICE  # 587,520
    planned = 31 * half * 24 * PRICE  # 1,071,360
    assert delivered == 587_520.0
    assert may["usage_cost_usd"] == pytest.approx(200_000.0)
    assert may["true_up_usd"] == pytest.approx(delivered - 200_000.0)  # idle capacity, paid
    assert may["undelivered_usd"] == pytest.approx(planned - delivered)  # 483,840
    assert may["service_credit_usd"] == pytest.approx(0.1 * (planned - delivered))  # 48,384
    assert may["cost_due_usd"] == pytest.approx(delivered - 48_384.0)  # 539,136
    assert may["accrued_cost_usd"] == pytest.approx(may["cost_due_usd"])  # reserved: billed as it accrues
    # June: planned 720 GPUs, delivered 360 (the 1 June step arrives 1 August)
    assert june["cost_due_usd"] == pytest.approx(30 * half * 24 * PRICE * 0.9)
    assert aug["cost_due_usd"] == pytest.approx(31 * full * 24 * PRICE)  # on plan again: no credit
    assert aug["demand_unused_usd"] == pytest.approx(aug["true_up_usd"])
    assert (led["structural_unused_usd"] == 0).all()  # dated ramp, no commitment: nothing structural


def test_spend_commitment_yearly_minimum_over_a_366_day_year_mid_month_start() -> None:
    """$10M a year from 15 March 2027: contract year 1 holds 29 February 2028 (366 days)."""
    loaded = case(
        "2027-03-15",
        "2029-03-14",
        "    commitment: {min_per_year_usd: 10.0e6}\n    billing: {model: spend-commitment}\n",
    )
    used = {f"2027-{m:02d}": 100_000.0 for m in range(3, 13)}  # 1M GPU-hours = $4M in year 1
    led = ledger_of(loaded, used)
    march = led[led["month"] == pd.Timestamp("2027-03-01", tz="UTC")].iloc[0]
    assert march["minimum_accrued_usd"] == pytest.approx(17 * 10e6 / 366)  # 15..31 March of a 366-day year
    y1 = led[led["contract_year"] == 1]
    assert y1["minimum_accrued_usd"].sum() == pytest.approx(10e6)
    assert y1["true_up_usd"].sum() == pytest.approx(6e6)  # 10M minimum - 4M usage
    end = y1[y1["true_up_usd"] > 0].iloc[0]
    assert end["month"] == pd.Timestamp("2028-03-01", tz="UTC")  # billed when the year ends (14 March)
    assert y1["cost_due_usd"].sum() == pytest.approx(10e6)
    # the capacity (720 GPUs all year, $25.3M priced) could have used the minimum: all of it is demand
    assert y1["structural_unused_usd"].sum() == 0.0
    assert y1["demand_unused_usd"].sum() == pytest.approx(6e6)
    # accrued: the shortfall recognized month by month as instalments in proportion to capacity
    assert y1["accrued_cost_usd"].sum() == pytest.approx(10e6)
    assert march["accrued_cost_usd"] == pytest.approx(17 * 10e6 / 366)  # instalment 464,481 > usage 400,000


def test_spend_commitment_slip_pro_rates_the_minimum_and_monthly_true_up() -> None:
    """Three months late: year 1 delivers 274 of its 366 planned days, so its minimum is 274/366 of $10M;
    with `true_up: monthly` and no use, each month bills its instalment (capacity delivered that month)."""
    loaded = case(
        "2027-03-15",
        "2029-03-14",
        "    commitment: {min_per_year_usd: 10.0e6}\n"
        "    billing: {model: spend-commitment, true_up: monthly}\n",
        slip=3,
    )
    led = ledger_of(loaded, {})
    y1 = led[led["contract_year"] == 1]
    minimum = 10e6 * 274 / 366  # delivered 15 June 2027 .. 14 March 2028
    assert y1["minimum_accrued_usd"].sum() == pytest.approx(minimum)
    assert y1["cost_due_usd"].sum() == pytest.approx(minimum)
    assert y1["unused_commitment_usd"].sum() == pytest.approx(minimum)
    assert month(led, "2027-04")["cost_due_usd"] == 0.0  # nothing delivered, nothing billed
    assert month(led, "2027-07")["cost_due_usd"] == pytest.approx(minimum * 31 / 274)
    assert month(led, "2027-06")["cost_due_usd"] == pytest.approx(minimum * 16 / 274)
    assert y1["undelivered_usd"].sum() == pytest.approx((366 - 274) * 720 * 24 * PRICE)


def test_spend_commitment_structural_part_where_capacity_cannot_reach_the_minimum() -> None:
    """$30M a year on 720 GPUs at $4 (capacity worth $25,228,800 a year): $4,771,200 is structural."""
    loaded = case("2027-01-01", "2027-12-31", "    commitment: {min_per_year_usd: 30.0e6}\n")
    used = {f"2027-{m:02d}": 360 * 24 * 30.0 for m in range(1, 13)}  # about half the capacity
    led = ledger_of(loaded, used)
    cap_value = 720 * 24 * 365 * PRICE
    usage_cost = 12 * 360 * 24 * 30.0 * PRICE
    assert led["unused_commitment_usd"].sum() == pytest.approx(30e6 - usage_cost)
    assert led["structural_unused_usd"].sum() == pytest.approx(30e6 - cap_value)
    assert led["demand_unused_usd"].sum() == pytest.approx(cap_value - usage_cost)  # the idle capacity
    summary = contract_year_summary(led)
    row = summary[summary["contract_year"] == 1].iloc[0]
    assert row["structural_unused_usd"] + row["demand_unused_usd"] == pytest.approx(
        row["unused_commitment_usd"]
    )


def test_prepaid_pays_stated_dates_and_recognizes_over_the_term() -> None:
    """$12M for 2027, half on 1 January and half on 1 July; unused at term end, all of it demand."""
    loaded = case(
        "2027-01-01",
        "2027-12-31",
        "    commitment: {total_usd: 12.0e6}\n    billing:\n      model: prepaid\n      payments:\n"
        "        - {date: 2027-01-01, share: 0.5}\n        - {date: 2027-07-01, amount_usd: 6.0e6}\n",
    )
    led = ledger_of(loaded, {"2027-02": 100_000.0})
    assert month(led, "2027-01")["cost_due_usd"] == pytest.approx(6e6)
    assert month(led, "2027-02")["cost_due_usd"] == 0.0  # usage draws the prepayment down
    assert month(led, "2027-07")["cost_due_usd"] == pytest.approx(6e6)
    assert led["cost_due_usd"].sum() == pytest.approx(12e6)
    assert month(led, "2027-02")["accrued_cost_usd"] == pytest.approx(12e6 * 28 / 365)
    assert led["accrued_cost_usd"].sum() == pytest.approx(12e6)
    assert led["unused_commitment_usd"].sum() == pytest.approx(12e6 - 400_000.0)
    assert led["structural_unused_usd"].sum() == 0.0


@pytest.mark.parametrize("model", ["on-demand", "capacity-block"])
def test_usage_only_models(model: str) -> None:
    text = TEXT.replace("    term: {{start: {t0}, end: {t1}}}\n", "").replace("slip_months: {slip}", "")
    text = text.replace("    clusters: [c1]\n", f"    kind: {model}\n    clusters: [c1]\n    cap_gpus: 720\n")
    loaded = load_scenario_text(text.format(price=PRICE, extra=""), "usage-only.yaml")
    led = ledger_of(loaded, {"2027-02": 1_000.0, "2028-06": 2_000.0})
    assert led["cost_due_usd"].sum() == pytest.approx(3_000.0 * PRICE)
    assert led["accrued_cost_usd"].sum() == pytest.approx(3_000.0 * PRICE)
    assert led["unused_commitment_usd"].sum() == 0.0
    assert set(led["billing"]) == {model}


# ------------------------------------------------------------------ the spend invariant, every model

MODELS = {
    "reserved": "    commitment: {total_usd: 40.0e6}\n    billing: {model: reserved}\n",
    "reserved-credit": "    billing: {model: reserved, service_credit_rate: 0.2}\n",
    "spend-period-end": "    commitment: {total_usd: 40.0e6, min_per_year_usd: 15.0e6}\n",
    "spend-monthly": "    commitment: {total_usd: 40.0e6, min_per_year_usd: 15.0e6}\n"
    "    billing: {model: spend-commitment, true_up: monthly}\n",
    "prepaid": "    commitment: {total_usd: 40.0e6}\n    billing:\n      model: prepaid\n      payments:\n"
    "        - {date: 2027-05-15, share: 0.3}\n        - {date: 2028-01-01, share: 0.7}\n",
}
RAMP = "    ramp:\n      - {date: 2027-05-15, domains: 4}\n      - {date: 2027-11-01, domains: 10}\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(sorted(MODELS)),
    slip=st.integers(0, 8),
    util=st.lists(st.floats(0.0, 1.0), min_size=36, max_size=36),
)
def test_spend_invariant_for_every_billing_model(model: str, slip: int, util: list[float]) -> None:
    """Each model's due amount (DESIGN.md): reserved pays all capacity delivered and nothing undelivered;
    a spend commitment pays at least each period's (pro-rated) minimum; prepaid pays its payments; cash
    equals the sum of the invoices (FOCUS); structural + demand = unused; demand <= idle capacity."""
    loaded = case("2027-05-15", "2029-05-14", MODELS[model] + RAMP, slip=slip)
    from gpufleet.fleet.capacity import build_capacity

    tl = build_capacity(loaded.scenario, loaded.catalog)
    gpus = tl.gpus[0]  # delivered, per day (the capacity timeline the engine runs on)
    days = pd.date_range("2027-01-01", "2029-12-31", freq="D")
    cap = pd.Series(gpus * 24.0, index=days).groupby(days.to_period("M")).sum()
    used = {str(p): float(c) * u for (p, c), u in zip(cap.items(), util, strict=False) if c > 0}
    led = ledger_of(loaded, used)
    sums = ["cost_due_usd", "usage_cost_usd", "service_credit_usd", "demand_unused_usd"]
    by_month = led.groupby("month")[sums].sum()
    delivered = {pd.Timestamp(f"{p}-01", tz="UTC"): float(c) * PRICE for p, c in cap.items()}
    assert led["structural_unused_usd"].to_numpy() + led["demand_unused_usd"].to_numpy() == pytest.approx(
        led["unused_commitment_usd"].to_numpy()
    )
    if model.startswith("reserved"):
        # planned GPUs per day by the contract's own ramp (4 domains from 15 May 2027, 10 from 1 November)
        planned = np.array(
            [
                72
                * (
                    (4 if d.date() >= dt.date(2027, 5, 15) else 0)
                    + (6 if d.date() >= dt.date(2027, 11, 1) else 0)
                )
                if dt.date(2027, 5, 15) <= d.date() <= dt.date(2029, 5, 14)
                else 0
                for d in days
            ]
        )
        gap = (
            pd.Series(np.maximum(planned - gpus, 0) * 24.0 * PRICE, index=days)
            .groupby(days.to_period("M"))
            .sum()
        )
        rate = 0.2 if model == "reserved-credit" else 0.0
        for m, row in by_month.iterrows():
            charge = max(row["usage_cost_usd"], delivered.get(pd.Timestamp(str(m)), 0.0))
            credit = min(rate * float(gap[pd.Period(pd.Timestamp(str(m)).tz_convert(None), "M")]), charge)
            assert row["service_credit_usd"] == pytest.approx(credit, abs=1e-6)
            assert row["cost_due_usd"] == pytest.approx(charge - credit, abs=1e-6)  # all delivered, no more
            # demand-driven unused commitment is the idle capacity of the month, priced, never more
            idle = max(delivered.get(pd.Timestamp(str(m)), 0.0) - row["usage_cost_usd"], 0.0)
            assert row["demand_unused_usd"] == pytest.approx(idle, abs=1e-6)
    elif model.startswith("spend"):
        c = loaded.scenario.contracts[0]
        assert c.commitment is not None and c.commitment.min_per_year_usd is not None
        from gpufleet.finance import contract_years

        first = dt.date(2027, 5, 15)
        for y in contract_years(first, dt.date(2029, 5, 14)):
            rows = led[led["contract_year"] == y.index]
            planned_days = (y.end - y.start).days + 1
            delivered_days = int((gpus[(y.start - tl.start).days : (y.end - tl.start).days + 1] > 0).sum())
            # the ramp steps up, so delivered / planned GPU-hours is computed from the timelines here
            plan_gpus = np.array(
                [
                    (4 if d >= dt.date(2027, 5, 15) else 0) + (6 if d >= dt.date(2027, 11, 1) else 0)
                    for d in (y.start + dt.timedelta(days=i) for i in range(planned_days))
                ]
            )
            deliv = gpus[(y.start - tl.start).days : (y.end - tl.start).days + 1] / 72
            factor = min(1.0, deliv.sum() / plan_gpus.sum()) if plan_gpus.sum() else 1.0
            minimum = 15e6 * planned_days / y.full_days * factor
            assert delivered_days <= planned_days
            due = max(minimum, rows["usage_cost_usd"].sum())
            if model == "spend-period-end" and y.end < dt.date(2029, 5, 14):  # the total: at term end
                assert rows["cost_due_usd"].sum() == pytest.approx(due)
            assert rows["cost_due_usd"].sum() >= due * (1 - 1e-9)
    else:
        assert led["prepaid_usd"].clip(lower=0).sum() == pytest.approx(40e6)
    if model in ("reserved", "reserved-credit", "spend-monthly"):  # undelivered is never billed
        for m, row in by_month.iterrows():
            if delivered.get(pd.Timestamp(str(m)), 0.0) == 0.0:
                assert row["cost_due_usd"] == pytest.approx(row["usage_cost_usd"], abs=1e-6)
    focus = build_focus(led, loaded.scenario, loaded.catalog)
    assert focus["BilledCost"].sum() == pytest.approx(led["cost_due_usd"].sum())  # cash = sum of invoices
    assert focus["EffectiveCost"].sum() == pytest.approx(led["accrued_cost_usd"].sum())


def test_a_year_used_at_99_percent_shows_demand_only_for_its_idle_1_percent() -> None:
    """Minimum = the capacity's value ($25,228,800 a year); 99% used: demand = the idle 1%, nothing
    structural. At 100% of a capacity worth less than the minimum, all of the shortfall is structural."""
    cap_value = 720 * 24 * 365 * PRICE
    loaded = case("2027-01-01", "2027-12-31", f"    commitment: {{min_per_year_usd: {cap_value}}}\n")
    days = {m: (pd.Timestamp(f"2027-{m:02d}-01") + pd.offsets.MonthEnd(0)).day for m in range(1, 13)}
    busy = {f"2027-{m:02d}": 0.99 * 720 * 24 * d for m, d in days.items()}
    led = ledger_of(loaded, busy)
    assert led["demand_unused_usd"].sum() == pytest.approx(0.01 * cap_value)
    assert led["structural_unused_usd"].sum() == 0.0
    full = case("2027-01-01", "2027-12-31", f"    commitment: {{min_per_year_usd: {cap_value * 1.1}}}\n")
    led = ledger_of(full, {f"2027-{m:02d}": 720 * 24.0 * d for m, d in days.items()})
    assert led["demand_unused_usd"].sum() == pytest.approx(0.0, abs=1e-3)
    assert led["structural_unused_usd"].sum() == pytest.approx(0.1 * cap_value)


def test_a_pool_no_workload_may_use_is_not_online() -> None:
    """The capacity-block pool of a scenario with overflow off: its hours are unusable, not available."""
    text = TEXT.format(t0="2027-01-01", t1="2027-12-31", price=PRICE, slip=0, extra="")
    text = text.replace("contracts:\n", "contracts:\n  - {name: pool, provider: aws, kind: capacity-block, "
                        "clusters: [p1], cap_gpus: 144}\n")  # fmt: skip
    text = text.replace("clusters:\n  - {name: c1", "clusters:\n  - {name: p1, site: s1, product: "
                        "aws/u-p6e-gb200x72, blocks: 1, domains_per_block: 2}\n  - {name: c1")  # fmt: skip
    for overflow in (False, True):
        loaded = load_scenario_text(text + f"policies: {{overflow: {str(overflow).lower()}}}\n", "pool.yaml")
        use = usage({"2027-02": 100.0}).assign(contract="pool", gpu_hours_available=144 * 24 * 28.0)
        led = build_ledger(use, empty_table("series"), loaded.scenario, loaded.catalog)
        feb = led[led["month"] == pd.Timestamp("2027-02-01", tz="UTC")].iloc[0]
        if overflow:
            assert feb["gpu_hours_available"] == 144 * 24 * 28.0 and feb["gpu_hours_unusable"] == 0.0
        else:
            assert feb["gpu_hours_available"] == 0.0 and feb["gpu_hours_unusable"] == 144 * 24 * 28.0
            assert np.isnan(feb["utilization_pct"])


def test_a_provider_default_stops_the_bills_from_its_date() -> None:
    """A reserved contract whose provider withdraws all capacity from 1 July 2027: nothing billed after,
    the planned capacity shows as undelivered."""
    loaded = case("2027-01-01", "2027-12-31", "    billing: {model: reserved}\n")
    text = TEXT.format(
        t0="2027-01-01", t1="2027-12-31", price=PRICE, slip=0, extra="    billing: {model: reserved}\n"
    )
    hit = load_scenario_text(
        text + "provider_events:\n  - {provider: aws, date: 2027-07-01}\n", "default.yaml"
    )
    before, after = ledger_of(loaded, {}), ledger_of(hit, {})
    june, july = month(after, "2027-06"), month(after, "2027-07")
    assert june["cost_due_usd"] == pytest.approx(720 * 24 * 30 * PRICE)
    assert july["cost_due_usd"] == 0.0
    assert after["undelivered_usd"].sum() == pytest.approx(720 * 24 * 184 * PRICE)  # July..December
    assert before["cost_due_usd"].sum() - after["cost_due_usd"].sum() == pytest.approx(720 * 24 * 184 * PRICE)


def test_validate_states_each_contracts_billing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from helpers import run_cli

    path = tmp_path / "b.yaml"
    path.write_text(
        TEXT.format(
            t0="2027-01-01",
            t1="2027-12-31",
            price=PRICE,
            slip=0,
            extra="    commitment: {min_per_year_usd: 5.0e6}\n"
            "    billing: {model: spend-commitment, true_up: monthly, service_credit_rate: 0.25}\n",
        )
    )
    r = run_cli("validate", str(path), capsys=capsys)
    assert r.code == 0, r.stderr
    assert "k: spend-commitment: GPU-hours used x $4.00/GPU-h" in r.stdout
    assert "$5,000,000 per contract year" in r.stdout and "billed monthly" in r.stdout
    assert "25% of the price credited" in r.stdout
