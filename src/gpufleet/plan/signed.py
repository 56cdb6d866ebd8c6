"""The scenario a plan signs: each signed option becomes a cluster and a contract of the scenario.

An option signed at month t for d domains is a cluster of d domains (one spine block) at the option's
site, held by a contract of the same name from the first day of month t for the option's term (clipped
to the horizon by the capacity timeline), at the option's price. Reserved and capacity-block options
bill as reserved contracts (capacity x price, used or not: what the plan costs them); a
spend-commitment option carries a take-or-pay yearly minimum of min_share x its capacity priced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from gpufleet.errors import InputError
from gpufleet.scenario.ramp import add_months
from gpufleet.scenario.schema import Billing, BillingModel, Cluster, Commitment, Contract, Scenario, Term

HOURS_PER_YEAR = 8760.0


def signed_scenario(scenario: Scenario, signed: Iterable[Mapping[Any, Any]]) -> Scenario:
    """`scenario` with the signed options as clusters and contracts (a name already used is bad input)."""
    options = {o.name: o for o in scenario.plan.options}
    taken = {c.name for c in scenario.clusters} | {c.name for c in scenario.contracts}
    clusters, contracts = list(scenario.clusters), list(scenario.contracts)
    for row in signed:
        name = str(row["option"])
        if name not in options:
            raise InputError(
                f"the plan signs option '{name}', which the scenario does not offer", where="plan"
            )
        if name in taken:
            raise InputError(
                f"option '{name}' has the name of a cluster or contract: rename it to simulate the plan",
                where="plan.options",
            )
        o = options[name]
        domains, price = int(row["domains"]), float(row["price_per_gpu_hour_usd"])
        year, month = (int(p) for p in str(row["start"]).split("-"))
        start = dt.date(year, month, 1)
        end = add_months(start, o.term_months) - dt.timedelta(days=1)
        commitment = None
        billing: BillingModel = "reserved"
        if o.billing == "spend-commitment":
            billing = "spend-commitment"
            yearly = o.min_share * price * int(row["gpus"]) * HOURS_PER_YEAR
            commitment = Commitment(min_per_year_usd=yearly, take_or_pay=True) if yearly > 0 else None
        clusters.append(
            Cluster(name=name, site=o.site, product=o.product, blocks=1, domains_per_block=domains)
        )
        contracts.append(
            Contract(
                name=name,
                provider=o.provider,
                clusters=[name],
                term=Term(start=start, end=end),
                price_per_gpu_hour_usd=price,
                commitment=commitment,
                billing=Billing(model=billing),
            )
        )
        taken.add(name)
    return scenario.model_copy(update={"clusters": clusters, "contracts": contracts})
