"""`python -m bench.fluid_error`: the fluid model against full fidelity on scenarios it was not tuned on.

The fluid model's one tuned setting (sub-steps a month) was chosen on the default scenario; the error
is measured on perturbed defaults (slips, the bear case, prices -20%) and on bench's 500k-GPU fleet
(one year, 500k research jobs at the same offered load as case (c)). Each scenario is simulated in
full once (`--cache PATH` keeps full results by scenario content hash, so a change to the fluid model
is measured again in seconds) and run through the fluid model; prints one row per case and metric:
fluid, full, gap. risk/data/fluid_error.yaml keeps the measured table (copied by hand, dated).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CASES: dict[str, tuple[str | None, list[str]]] = {
    "default (tuned on)": (None, []),
    "default, slips": (
        None,
        ["contracts.oci-stargate.slip_months=6", "contracts.azure-gb300.slip_months=6"],
    ),
    "default, bear case": (None, ["finance.base_case=bear"]),
    "default, prices -20%": (None, ["PRICES"]),  # the stress set's prices -20% (risk/stress.py)
    "default, azure default": (None, ["DEFAULT:azure"]),  # the stress set's default (risk/stress.py)
    "fleet 500k, aws+oci out": (
        str(HERE / "fleet-500k.yaml"),
        [
            "workloads.research-jobs.synthetic.jobs_per_day=1369.86",
            "workloads.research-jobs.synthetic.size_scale=80",
            "provider_events=[{provider: aws, date: 2026-07-01}, {provider: oci, date: 2026-07-01}]",
        ],
    ),
    "fleet 500k, 500k jobs": (
        str(HERE / "fleet-500k.yaml"),
        [
            "workloads.research-jobs.synthetic.jobs_per_day=1369.86",
            "workloads.research-jobs.synthetic.size_scale=80",
        ],
    ),
}


def _loaded(name: str):  # type: ignore[no-untyped-def]
    from gpufleet.risk.stress import PRICE_FACTOR, price_changes, provider_default
    from gpufleet.scenario import load_scenario
    from gpufleet.scenario.overrides import Editable, parse_override

    path, sets = CASES[name]
    base = load_scenario(path)
    changes = [parse_override(s, "bench") for s in sets if s != "PRICES" and not s.startswith("DEFAULT:")]
    if "PRICES" in sets:
        changes += price_changes(base, PRICE_FACTOR)
    for s in sets:
        if s.startswith("DEFAULT:"):
            h = base.scenario.horizon
            changes.append(
                provider_default(base, s.removeprefix("DEFAULT:"), h.start + (h.end - h.start) / 2)
            )
    return Editable.of(base).apply(changes)


def one(name: str, full: bool) -> dict[str, object]:
    """One case: fluid metrics (and full ones when asked), with their times."""
    from gpufleet.report.context import run_context
    from gpufleet.risk.fluid import FluidModel
    from gpufleet.risk.metrics import run_metrics

    loaded = _loaded(name)
    out: dict[str, object] = {"case": name, "hash": loaded.content_hash}
    t0 = time.perf_counter()
    model = FluidModel.of(loaded)
    out["fluid"] = model.metrics(loaded)
    t1 = time.perf_counter()
    model.metrics(loaded)
    out["fluid_first_s"] = round(t1 - t0, 3)
    out["fluid_again_s"] = round(time.perf_counter() - t1, 3)
    if full:
        from gpufleet.pipeline import run_scenario

        t2 = time.perf_counter()
        result = run_scenario(loaded)
        case = loaded.scenario.finance.default_case or "none"
        context = run_context(loaded.scenario, loaded.catalog)
        out["full"] = run_metrics(result.tables, context, case)
        out["full_s"] = round(time.perf_counter() - t2, 1)
    return out


def speed(samples: int = 200) -> dict[str, object]:
    """Per-sample time on the default: random slips of every ramped contract (0-12 months), one price
    (with its commitment) and the revenue paths scaled; the overrides' apply and the fluid model
    timed apart."""
    import numpy as np

    from gpufleet.risk.fluid import FluidModel
    from gpufleet.scenario import load_scenario
    from gpufleet.scenario.overrides import Editable, parse_override

    base = load_scenario(None)
    edit = Editable.of(base)
    model = FluidModel.of(base)
    model.metrics(base)
    rng = np.random.default_rng(13)
    ramped = [c.name for c in base.scenario.contracts if c.kind == "committed" and c.ramp is not None]
    apply_s = fluid_s = 0.0
    for _ in range(samples):
        sets = [f"contracts.{n}.slip_months={int(rng.integers(0, 13))}" for n in ramped]
        f = rng.uniform(0.8, 1.2)  # a price and its commitment together: the derived fleet keeps its size
        sets += [
            f"contracts.azure-gb300.price_per_gpu_hour_usd*={f:.4f}",
            f"contracts.azure-gb300.commitment.total_usd*={f:.4f}",
        ]
        sets.append(f"finance.revenue_scenarios.*.by_year_usd*={rng.uniform(0.6, 1.4):.4f}")
        t0 = time.perf_counter()
        changed = edit.apply([parse_override(x, "bench") for x in sets])
        t1 = time.perf_counter()
        model.metrics(changed)
        t2 = time.perf_counter()
        apply_s += t1 - t0
        fluid_s += t2 - t1
    return {
        "samples": samples,
        "apply_s_per_sample": round(apply_s / samples, 4),
        "fluid_s_per_sample": round(fluid_s / samples, 4),
        "projected_1000_samples_s": round(1000 * (apply_s + fluid_s) / samples, 1),
    }


def _fmt(metric: str, v: float) -> str:
    return f"{v:,.2f}" if metric.endswith("_pct") else f"{v / 1e9:,.2f}B"


def _gap(metric: str, fluid: float, full: float) -> str:
    if metric.endswith("_pct"):
        return f"{fluid - full:+.2f} pp"
    rel = f" ({100 * (fluid - full) / abs(full):+.1f}%)" if full else ""
    return f"{(fluid - full) / 1e9:+,.2f}B{rel}"


def _one_process(name: str, fidelity: str, failed: str) -> dict[str, object] | None:
    """One case at one fidelity in its own process (`one`), its JSON line; None (said) if it failed."""
    res = subprocess.run(
        [sys.executable, "-m", "bench.fluid_error", "one", name, fidelity],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if res.returncode != 0:
        print(f"{name}: {failed} {res.stderr.strip().splitlines()[-1:]}", flush=True)
        return None
    out: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def main(argv: list[str]) -> None:
    cache_path = Path(argv[argv.index("--cache") + 1]) if "--cache" in argv else None
    cache: dict[str, dict[str, object]] = (
        json.loads(cache_path.read_text()) if cache_path is not None and cache_path.exists() else {}
    )
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    rows = []
    for name in CASES:
        r = _one_process(name, "fluid", "error")
        if r is None:
            continue
        hit = cache.get(str(r["hash"]))
        if hit is None:
            hit = _one_process(name, "full", "full run failed")
            if hit is None:
                continue
            cache[str(r["hash"])] = {"full": hit["full"], "full_s": hit["full_s"]}
            if cache_path is not None:
                cache_path.write_text(json.dumps(cache, indent=1))
        r["full"], r["full_s"] = hit["full"], hit["full_s"]
        rows.append(r)
        print(
            f"{name}: fluid {r['fluid_first_s']} s first, {r['fluid_again_s']} s again; full {r['full_s']} s",
            flush=True,
        )
    print(f"\n{'case':<24} {'metric':<24} {'fluid':>12} {'full':>12}  gap")
    for r in rows:
        fl, fu = r["fluid"], r["full"]
        assert isinstance(fl, dict) and isinstance(fu, dict)
        for metric in fl:
            a, b = float(fl[metric]), float(fu[metric])
            cells = f"{_fmt(metric, a):>12} {_fmt(metric, b):>12}"
            print(f"{r['case']:<24} {metric:<24} {cells}  {_gap(metric, a, b)}")
    res = subprocess.run(
        [sys.executable, "-m", "bench.fluid_error", "speed"], capture_output=True, text=True, check=False
    )
    print(f"\nper sample, default scenario (one process): {res.stdout.strip() or res.stderr.strip()[-300:]}")
    print("json: " + json.dumps([{k: r[k] for k in ("case", "fluid", "full")} for r in rows]))
    load = os.getloadavg()
    print(f"machine after: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["speed"]:
        print(json.dumps(speed()))
    elif sys.argv[1:2] == ["one"]:
        print(json.dumps(one(sys.argv[2], sys.argv[3] == "full")))
    else:
        main(sys.argv[1:])
