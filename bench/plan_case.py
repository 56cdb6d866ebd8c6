"""(e) the default scenario's plan: 20 candidate options (two at each of ten sites), 3 demand cases.

The cases are the scenario's weighted revenue cases (bear / base / bull, weights 0.25 / 0.5 / 0.25;
inference follows each case's revenue path), two-stage, as `gpufleet plan` solves them. Prints the
LP relaxation's and the MILP's solve times (HiGHS through highspy, the model scaled, presolve on).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

PRODUCTS = {
    "aws": "aws/u-p6e-gb300x72",
    "azure": "azure/nd-gb300-v6",
    "oci": "oci/bm-gpu-gb300",
    "coreweave": "coreweave/gb200-nvl72",
}


def plan_bench() -> dict[str, object]:
    from gpufleet.plan.run import _model, prepare
    from gpufleet.plan.solve import solve
    from gpufleet.scenario import load_scenario
    from gpufleet.scenario.options import CandidateOption

    t0 = time.perf_counter()
    loaded = load_scenario(None)
    sc = loaded.scenario
    options = []
    for site in [s for s in sc.sites if s.name != "aws-dallas-lz"][:10]:
        for billing in ("reserved", "spend-commitment"):
            options.append(
                CandidateOption(
                    name=f"{site.name}-{billing}",
                    provider=site.provider,
                    site=site.name,
                    product=PRODUCTS[site.provider],
                    price_per_gpu_hour_usd=3.0 if billing == "reserved" else 2.8,
                    billing=billing,
                    max_domains=2000,
                    term_months=48,
                    lead_time_months=6,
                )
            )
    sc.plan.options = options
    p = prepare(sc, loaded.catalog, loaded.source_map, 60.0, 0.01)  # the revenue cases, base first
    t1 = time.perf_counter()
    mod = _model(p)
    t2 = time.perf_counter()
    ints = list(mod.integer)
    mod.integer = [0] * len(ints)
    lp = solve(mod, 60.0, 0.01)
    t3 = time.perf_counter()
    mod.integer = ints
    mip = solve(mod, 60.0, 0.01)
    t4 = time.perf_counter()
    return {
        "case": f"e: default scenario plan, 20 options, {len(p.cases)} revenue cases",
        "months": p.months.count,
        "columns": len(mod.cost),
        "integers": int(np.sum(ints)),
        "rows": len(mod.rows),
        "prepare_s": round(t1 - t0, 2),
        "build_s": round(t2 - t1, 2),
        "lp_s": round(t3 - t2, 2),
        "milp_s": round(t4 - t3, 2),
        "milp_status": mip.status,
        "lp_objective": lp.objective,
        "milp_objective": mip.objective,
    }


if __name__ == "__main__":
    print(json.dumps(plan_bench()))
    sys.exit(0)
