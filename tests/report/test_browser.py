"""The HTML report in headless Chromium: loads offline, no console errors, every plot drawn, data = store.

Chromium is Debian's (`apt-get install -y chromium`), driven by Playwright. Without it these tests fail
and say how to install it; GPUFLEET_SKIP_BROWSER=1 skips them for quick local runs.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import SMALL, run_cli
from store.test_builder import make_tables
from store.test_roundtrip import make_meta

from gpufleet.store import open_store
from gpufleet.tables import RunTables

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PLOT_IDS = [
    "capacity",
    "utilization",
    "queue",
    "failures",
    "inference",
    "commitment",
    "spend",
    "concentration",
]
WAIT_BUCKETS_H = (1 / 60, 1.0, 24.0, 168.0, float("inf"))

# Per plot and per panel (Plotly subplot): how many marks are drawn and how far the largest one extends in
# pixels. A panel with no line, area, bar or marker of any size is empty. A second y axis overlaid on a
# panel draws its traces inside that panel, so it is not a panel of its own.
_PANELS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
  id: gd.id,
  panels: Array.from(gd.querySelectorAll('.cartesianlayer > .subplot')).filter(sp => {
    const info = gd._fullLayout._plots[sp.getAttribute('class').split(' ')[1]];
    return !(info && info.mainplot);
  }).map(sp => {
    let n = 0, extent = 0;
    sp.querySelectorAll('.scatterlayer .trace path, .barlayer .trace path').forEach(p => {
      const d = p.getAttribute('d');
      if (!d || d.length < 4) return;
      const b = p.getBBox();
      if (b.width + b.height > 0) { n += 1; extent = Math.max(extent, b.width + b.height); }
    });
    return {name: sp.getAttribute('class'), marks: n, extent: extent};
  })
}))"""

_EXTRACT = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
  id: gd.id,
  drawn: gd.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length,
  svg: gd.querySelectorAll('svg.main-svg').length,
  traces: gd._fullData.map(t => ({
    name: t.name, type: t.type, meta: (gd.data[t.index] || {}).meta || null,
    x: t.x ? Array.from(t.x) : [], y: t.y ? Array.from(t.y) : []}))
}))"""


def _chromium() -> str:
    if os.environ.get("GPUFLEET_SKIP_BROWSER") == "1":
        pytest.skip("GPUFLEET_SKIP_BROWSER=1: browser tests skipped")
    found = os.environ.get("GPUFLEET_CHROMIUM") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
    )
    if not found:
        pytest.fail(
            "Chromium is missing: the report's browser tests need Debian's chromium at /usr/bin/chromium. "
            "Install it with `apt-get update && apt-get install -y chromium` (`make test` does), or set "
            "GPUFLEET_SKIP_BROWSER=1 to skip these tests locally.",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def load_offline(
    browser: Any, html: Path, screenshot: Path, n_plots: int, panels: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Open the file with the network cut off; return each plot's drawn traces; fail on any console error.

    With `panels`, also fill it with each plot's panels as drawn (see _PANELS) and screenshot every plot
    on its own next to `screenshot`.
    """
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))

    def offline(route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.goto(html.resolve().as_uri(), wait_until="load")
    page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot').length === {n_plots} && "
        "Array.from(document.querySelectorAll('.js-plotly-plot')).every(gd => gd._fullLayout)",
        timeout=30_000,
    )
    plots: list[dict[str, Any]] = page.evaluate(_EXTRACT)
    page.screenshot(path=str(screenshot), full_page=True)
    if panels is not None:
        panels.extend(page.evaluate(_PANELS))
        for p in plots:
            page.locator(f"#{p['id']}").screenshot(path=str(screenshot.with_name(f"{p['id']}.png")))
    page.close()
    assert not errors, errors
    assert not outside, f"the report asked the network for {outside}"
    assert screenshot.stat().st_size > 10_000
    return plots


def _close(a: Any, b: Any) -> None:
    np.testing.assert_allclose(
        np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64"), rtol=1e-9, atol=1e-6
    )


def _monthly(df: pd.DataFrame, value: pd.Series) -> pd.Series:
    """Sum of `value` per calendar month of the table's `time` (UTC)."""
    month = df["time"].dt.tz_convert(None).dt.to_period("M")
    return value.groupby(month.to_numpy()).sum()


def _queue_at(jobs: pd.DataFrame, horizon: pd.Timestamp) -> tuple[float, float]:
    """(peak GPUs waiting, GPUs waiting at the horizon), counted at every submit (the queue grows there)."""
    submit = jobs["submit"].to_numpy()
    until = jobs["start"].fillna(jobs["end"]).fillna(horizon).to_numpy()
    gpus = jobs["gpus"].to_numpy(dtype="float64")
    order_s, order_u = np.argsort(submit, kind="stable"), np.argsort(until, kind="stable")
    cum_s = np.concatenate([[0.0], np.cumsum(gpus[order_s])])
    cum_u = np.concatenate([[0.0], np.cumsum(gpus[order_u])])
    at = np.searchsorted(submit[order_s], submit, side="right")
    gone = np.searchsorted(until[order_u], submit, side="right")
    peak = float((cum_s[at] - cum_u[gone]).max()) if len(jobs) else 0.0
    return peak, float(gpus[(until >= horizon) & (submit < horizon)].sum())


def check_plots_against_store(
    plots: list[dict[str, Any]], t: RunTables, horizon: pd.Timestamp, expected: list[str]
) -> None:
    """Each plot's points are the reporting steps (or months, years, buckets) and its totals the store's."""
    by_id = {p["id"]: p for p in plots}
    assert list(by_id) == expected
    for p in plots:
        assert p["svg"] >= 1 and p["traces"], p["id"]
        assert p["drawn"] >= len(p["traces"]), f"{p['id']}: {p['drawn']} of {len(p['traces'])} traces drawn"
    s = t.series
    n_steps = s["time"].nunique()
    providers = sorted(s["provider"].unique())
    alloc_cols = [c for c in s.columns if c.startswith("allocated_")]

    cap = {tr["meta"]["provider"]: tr for tr in by_id["capacity"]["traces"] if "provider" in tr["meta"]}
    assert sorted(cap) == providers
    for prov, tr in cap.items():
        assert len(tr["x"]) == len(tr["y"]) == n_steps
        _close(sum(tr["y"]), s.loc[s["provider"] == prov, "capacity_gpus"].sum())
    (demand,) = [tr for tr in by_id["capacity"]["traces"] if tr["meta"].get("demand")]
    assert len(demand["y"]) == n_steps
    _close(sum(demand["y"]), s[alloc_cols].to_numpy().sum() + t.queue["queued_gpus"].sum())

    util = {tr["meta"]["column"]: tr for tr in by_id["utilization"]["traces"]}
    assert sorted(util) == sorted([*alloc_cols, "failed_gpus", "idle_gpus"])
    for col, tr in util.items():
        assert len(tr["y"]) == n_steps
        _close(sum(tr["y"]), s[col].sum())

    j = t.jobs
    queue = [tr for tr in by_id["queue"]["traces"] if tr["meta"].get("queue")]
    assert queue
    for tr in queue:
        mine = j[j["class"] == tr["meta"]["class"]]
        peak, at_horizon = _queue_at(mine, horizon)
        _close(max(tr["y"]), peak)
        _close(tr["meta"]["peak"], peak)
        _close(tr["y"][-1], at_horizon)
    buckets = {tr["meta"]["class"]: tr for tr in by_id["queue"]["traces"] if tr["meta"].get("buckets")}
    assert sorted(buckets) == sorted(set(j["class"]) - {"inference"})
    for cls, tr in buckets.items():
        mine = j[j["class"] == cls]
        waiting = mine["state"] == "queued"
        w = mine.loc[~waiting, "wait_s"].to_numpy() / 3600
        edges = np.array([-np.inf, *WAIT_BUCKETS_H])
        expected_counts = [int(((w > lo) & (w <= hi)).sum()) for lo, hi in itertools.pairwise(edges)]
        assert tr["y"] == [*expected_counts, int(waiting.sum())]

    fail = by_id["failures"]["traces"]
    for tr in fail:
        if "provider" in tr["meta"]:
            assert len(tr["y"]) == n_steps
            _close(sum(tr["y"]), s.loc[s["provider"] == tr["meta"]["provider"], "failed_gpus"].sum())
    (lost,) = [tr for tr in fail if tr["meta"].get("lost_by_class")]
    _close(lost["y"], [j.loc[j["class"] == c, "lost_gpu_hours"].sum() for c in lost["x"]])

    inf = t.inference
    times = pd.Series(sorted(inf["time"].unique()))
    gaps = list(times.diff().dt.total_seconds().iloc[1:] / 3600)
    step_h = dict(zip(times, [*gaps, float(np.median(gaps))], strict=True))  # the last step as the others
    hours = inf["time"].map(step_h)
    demand_month = _monthly(inf, inf["demand_tokens_s"] * hours)
    unserved_month = _monthly(inf, (inf["demand_tokens_s"] - inf["served_tokens_s"]).clip(lower=0) * hours)
    hours_month = _monthly(pd.DataFrame({"time": times}), times.map(step_h))
    for tr in by_id["inference"]["traces"]:
        if tr["meta"].get("unserved_month"):
            _close(tr["y"], 100 * unserved_month / demand_month)
        elif "tokens" in tr["meta"]:
            col = "demand_tokens_s" if tr["meta"]["tokens"] == "demand" else "served_tokens_s"
            _close(tr["y"], _monthly(inf, inf[col] * hours) / hours_month)
    if unserved_month.sum() == 0:  # all served: only the tokens panel
        assert {tr["meta"].get("tokens") for tr in by_id["inference"]["traces"]} == {"demand", "served"}

    led = t.ledger
    seen = set()
    for tr in by_id["commitment"]["traces"]:
        g = led[led["contract"] == tr["meta"]["contract"]]
        seen.add(tr["meta"]["contract"])
        assert len(tr["x"]) == len(tr["y"]) == len(g)  # one point per ledger month
        total = g[tr["meta"]["column"]].sum()
        _close(tr["y"][-1] if tr["meta"]["cumulative"] else sum(tr["y"]), total)
    committed = led.groupby("contract")[["plan_usd", "minimum_accrued_usd"]].sum().sum(axis=1)
    assert seen == set(committed[committed > 0].index)

    sp, port = t.spend, t.portfolio
    for tr in by_id["spend"]["traces"]:
        y = np.array([np.nan if v is None else v for v in tr["y"]], dtype="float64")
        if "provider" in tr["meta"]:
            _close(np.nansum(y), sp.loc[sp["provider"] == tr["meta"]["provider"], "spend_usd"].sum())
        elif tr["meta"].get("total_spend"):
            _close(np.nansum(y), sp["spend_usd"].sum())
        else:
            _close(np.nansum(y), port.loc[port["scenario"] == tr["meta"]["scenario"], "revenue_usd"].sum())
    years = sorted(sp["year"].unique())
    for tr in by_id["concentration"]["traces"]:
        assert [int(x) for x in tr["x"]] == years
        if "provider" in tr["meta"]:
            mine = sp[sp["provider"] == tr["meta"]["provider"]].set_index("year")["share_pct"]
            _close(tr["y"], [mine.get(y, 0.0) for y in years])
        else:
            _close(tr["y"], port.groupby("year")["hhi"].mean().reindex(years))


def check_no_panel_is_empty(panels: list[dict[str, Any]], folder: Path) -> None:
    """Every panel of every plot draws something of some size; each plot's screenshot is on disk."""
    assert panels
    for p in panels:
        assert p["panels"], f"{p['id']}: no panel"
        for panel in p["panels"]:
            assert panel["marks"] > 0 and panel["extent"] > 4, f"{p['id']} {panel['name']} is empty: {panel}"
        assert (folder / f"{p['id']}.png").stat().st_size > 5_000


def _kpi(html: str, key: str) -> str:
    m = re.search(
        rf'data-key="{re.escape(key)}"><div class="label">[^<]*</div><div class="value">([^<]*)<', html
    )
    assert m, key
    return m.group(1)


def test_report_of_a_hand_made_run(browser: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "runs.duckdb"
    meta = make_meta()
    with open_store(store) as st:
        st.save_run(meta, make_tables(seed=21))
    out = tmp_path / "report.html"
    res = run_cli("report", meta.run_id[:15], "-o", str(out), "--store", str(store), capsys=capsys)
    assert res.code == 0, res.stderr
    assert str(out) in res.stdout
    text = out.read_text()
    # Plotly's JS is embedded once, in the head; outside it nothing is loaded from anywhere
    head, _, rest = text.partition('<script type="text/javascript">')
    bundle, _, page = rest.partition("</script>")
    assert len(bundle) > 1_000_000 and "plotly" in bundle.lower()
    outside = head + page
    assert "<script src" not in outside and "<link" not in outside and "cdn.plot.ly" not in outside
    assert outside.count("Plotly.newPlot") == len(PLOT_IDS)
    assert "Findings" in outside and 'data-table="ledger"' in outside and 'data-table="cash"' in outside

    with open_store(store, read_only=True) as st:
        t = st.load_run(meta.run_id)
    j = t.jobs
    assert _kpi(text, "jobs_finished") == f"{(j['state'] == 'finished').sum():,}"
    per_day = t.series.groupby("time")["capacity_gpus"].sum()
    assert _kpi(text, "gpus_online_peak") == f"{per_day.max():,.0f}"
    panels: list[dict[str, Any]] = []
    plots = load_offline(browser, out, tmp_path / "report.png", len(PLOT_IDS), panels)
    horizon = t.series["time"].max() + pd.Timedelta(days=1)  # daily steps; the run has no scenario
    check_plots_against_store(plots, t, horizon, PLOT_IDS)
    check_no_panel_is_empty(panels, tmp_path)


def test_report_of_a_real_run(browser: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The small scenario through the whole pipeline, stored, reported and checked against the store."""
    store, out = tmp_path / "runs.duckdb", tmp_path / "real.html"
    res = run_cli("report", str(SMALL), "-o", str(out), "--store", str(store), "--quiet", capsys=capsys)
    assert res.code == 0, res.stderr
    with open_store(store, read_only=True) as st:
        (run_id,) = st.run_ids()
        t = st.load_run(run_id)
    assert run_id in res.stdout
    assert len(t.series) and len(t.jobs) and len(t.ledger)
    panels: list[dict[str, Any]] = []
    plots = load_offline(browser, out, tmp_path / "real.png", len(PLOT_IDS), panels)
    check_plots_against_store(plots, t, pd.Timestamp("2026-04-01", tz="UTC"), PLOT_IDS)
    check_no_panel_is_empty(panels, tmp_path)


def test_compare_overlays_both_runs(browser: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "runs.duckdb"
    a, b = make_meta(minutes=1), make_meta(minutes=2)
    ta, tb = make_tables(seed=1), make_tables(seed=2, days=60)
    with open_store(store) as st:
        st.save_run(a, ta)
        st.save_run(b, tb)
    out = tmp_path / "compare.html"
    res = run_cli(
        "compare", a.run_id, b.run_id, "--html", "-o", str(out), "--store", str(store), capsys=capsys
    )
    assert res.code == 0, res.stderr
    plots = load_offline(browser, out, tmp_path / "compare.png", 6)
    for p in plots:
        runs = {tr["meta"]["run"] for tr in p["traces"]}
        assert runs == {"A", "B"}, p["id"]
    (cap,) = [p for p in plots if p["id"] == "cmp-capacity"]
    for tr in cap["traces"]:
        tables = ta if tr["meta"]["run"] == "A" else tb
        assert len(tr["y"]) == tables.series["time"].nunique()
        if tr["name"].endswith("GPUs online"):
            _close(sum(tr["y"]), tables.series["capacity_gpus"].sum())
    (queue,) = [p for p in plots if p["id"] == "cmp-queue"]
    for tr in queue["traces"]:
        tables = ta if tr["meta"]["run"] == "A" else tb
        horizon = tables.series["time"].max() + pd.Timedelta(days=1)
        _close(max(tr["y"]), _queue_at(tables.jobs, horizon)[0])
    (spend,) = [p for p in plots if p["id"] == "cmp-spend"]
    for tr in spend["traces"]:
        tables = ta if tr["meta"]["run"] == "A" else tb
        _close(sum(tr["y"]), tables.spend["spend_usd"].sum())


def test_missing_chromium_fails_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPUFLEET_SKIP_BROWSER", raising=False)
    monkeypatch.setenv("GPUFLEET_CHROMIUM", "")
    monkeypatch.setattr(Path, "exists", lambda self: False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        _chromium()


def test_the_empty_panel_check_sees_an_empty_panel(browser: Any, tmp_path: Path) -> None:
    """The check above can fail: a page whose second panel has no data is caught."""
    from plotly.subplots import make_subplots

    from gpufleet.report.figures import Plot, plotly_go
    from gpufleet.report.html import page, section_html

    go = plotly_go()
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[1, 2, 3], y=[3, 1, 2], meta={}), row=1, col=1)
    fig.add_trace(go.Scatter(x=[], y=[], meta={}), row=1, col=2)
    out = tmp_path / "empty.html"
    plot = Plot("half", "Half empty", "", fig)
    out.write_text(page(title="t", kicker="k", heading="h", meta="", body=section_html(plot), footer=""))
    panels: list[dict[str, Any]] = []
    load_offline(browser, out, tmp_path / "empty.png", 1, panels)
    with pytest.raises(AssertionError, match="half subplot x2y2 is empty"):
        check_no_panel_is_empty(panels, tmp_path)


def test_a_report_in_reports_loads_the_shared_plotly_offline(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """reports/RUN.html loads Plotly's JS from the one file beside it, offline, and draws the same plots."""
    store = tmp_path / "runs.duckdb"
    meta = make_meta()
    with open_store(store) as st:
        st.save_run(meta, make_tables(seed=21))
    monkeypatch.chdir(tmp_path)
    res = run_cli("report", meta.run_id, "--store", str(store), capsys=capsys)
    assert res.code == 0, res.stderr
    out = tmp_path / "reports" / f"{meta.run_id}.html"
    assert len(list((tmp_path / "reports").glob("plotly-*.min.js"))) == 1
    plots = load_offline(browser, out, tmp_path / "shared.png", len(PLOT_IDS))
    with open_store(store, read_only=True) as st:
        t = st.load_run(meta.run_id)
    check_plots_against_store(plots, t, t.series["time"].max() + pd.Timedelta(days=1), PLOT_IDS)
