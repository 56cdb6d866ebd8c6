"""The dashboard in Debian's chromium against a real `gpufleet serve` on 127.0.0.1 (a free port): type
the token, see a scenario's validation errors at their line, submit a small scenario, watch it finish,
and see its findings and its report's plots; open a stored plan (what to sign, shadow prices, the run
that followed it, compared) and a stored sweep (quantiles, fan and tornado charts); every request
kept on the loopback server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report.test_browser import CHROMIUM_ARGS, _chromium

from api.conftest import small_text, stored_plan, stored_sweep
from bench.api_load import TOKEN, serving

pytestmark = pytest.mark.browser

RUN_LIMIT_MS = 240_000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`gpufleet serve` in its own process on a free loopback port, with a token; stopped afterwards."""
    with serving(tmp_path / "results.duckdb", tmp_path / "serve.log", "--workers", "1") as base:
        yield base


class Watched:
    """A chromium page that keeps every request on the server and collects the page's errors."""

    def __init__(self, browser: Any, server: str, expected_codes: tuple[int, ...]) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.set_default_timeout(30_000)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

        def console(m: Any) -> None:
            if m.type == "error" and not any(f"status of {code} " in m.text for code in expected_codes):
                self.errors.append(m.text)

        def local_only(route: Any) -> None:
            url = route.request.url
            if url.startswith(server + "/") or url.startswith(("blob:", "data:")):
                route.continue_()
            else:
                self.outside.append(url)
                route.abort()

        self.page.on("console", console)
        self.page.route("**/*", local_only)

    def check(self) -> None:
        assert not self.errors, self.errors
        assert not self.outside, f"the dashboard asked the network for {self.outside}"


def _plots_drawn(frame: Any, at_least: int) -> None:
    frame.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot').length >= {at_least} && Array.from("
        "document.querySelectorAll('.js-plotly-plot')).every(gd => gd._fullLayout)",
        timeout=60_000,
    )


def test_plan_and_sweep_pages_show_stored_ones(tmp_path: Path) -> None:
    path = _chromium()
    from playwright.sync_api import sync_playwright

    store = tmp_path / "results.duckdb"
    plan_id, run_id = stored_plan(store, follow=True)
    sweep_id = stored_sweep(store)
    with (
        serving(store, tmp_path / "serve.log", "--workers", "1") as server,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            w = Watched(browser, server, (401,))
            page = w.page
            page.goto(server + "/")
            page.fill("#token", TOKEN)
            page.click("#token-form button")
            page.click("header nav a[href='/ui/plans']")
            page.wait_for_selector(f'#plans tr[data-plan="{plan_id}"]')
            page.click(f'#plans tr[data-plan="{plan_id}"] a')
            page.wait_for_url(f"**/ui/plans/{plan_id}")
            page.wait_for_selector("#plan-section:not([hidden])")
            signed = page.locator('#signed tr[data-option="more"] td').all_inner_texts()
            assert signed[:3] == ["more", "azure", "bb-1"] and signed[5] == "3", signed  # 3 domains
            assert page.inner_text("#cost").startswith("$")
            assert page.locator("#shadow tbody tr").count() >= 1
            page.wait_for_selector("#report-section:not([hidden])")
            report = next(f for f in page.frames if f.url.startswith("blob:"))
            report.wait_for_selector('[data-table="signed"]')
            page.click(f'#followed li[data-run="{run_id}"] a.compare')
            page.wait_for_url(f"**/ui/plans/{plan_id}?run={run_id}")
            page.wait_for_selector("#report-section:not([hidden])")
            compared = next(f for f in page.frames if f.url.startswith("blob:"))
            compared.wait_for_selector('[data-table="versus"]')

            page.click("header nav a[href='/ui/sweeps']")
            page.wait_for_selector(f'#sweeps tr[data-sweep="{sweep_id}"][data-status="finished"]')
            page.click(f'#sweeps tr[data-sweep="{sweep_id}"] a')
            page.wait_for_url(f"**/ui/sweeps/{sweep_id}")
            page.wait_for_selector("#summary-section:not([hidden])")
            assert page.inner_text("#status") == "finished"
            assert (
                page.locator('#quantiles tr[data-metric="spend_usd"] td').first.inner_text().startswith("$")
            )
            page.wait_for_selector("#report-section:not([hidden])")
            charts = next(f for f in page.frames if f.url.startswith("blob:"))
            charts.wait_for_selector("#fan-spend_usd", state="attached")
            _plots_drawn(charts, 3)
            page.screenshot(path=str(tmp_path / "sweep.png"), full_page=True)
        except Exception:
            raise AssertionError(f"page errors: {w.errors}") from None  # the cause, beside the timeout
        finally:
            browser.close()
    w.check()


def test_dashboard_submits_a_run_and_shows_its_plots(server: str, tmp_path: Path) -> None:
    path = _chromium()
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    outside: list[str] = []

    def local_only(route: Any) -> None:
        url = route.request.url
        if url.startswith(server + "/") or url.startswith(("blob:", "data:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    def expected(text: str) -> bool:
        """The answers the test asks for: 401 before the token is typed, 422 for the broken scenario."""
        return any(f"status of {code} " in text for code in (401, 422))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type == "error" and not expected(m.text) else None,
            )
            page.route("**/*", local_only)
            page.goto(server + "/")
            page.fill("#token", TOKEN)
            page.click("#token-form button")

            broken = small_text().replace(
                "blocks: 4, domains_per_block: 8", "blocks: -4, domains_per_block: 8"
            )
            line = next(i for i, t in enumerate(broken.splitlines(), 1) if "blocks: -4" in t)
            page.fill("#scenario", broken)
            page.click("#validate")
            page.wait_for_selector("#problems li")
            assert any(
                f"<request body>:{line}: " in t for t in page.locator("#problems li").all_inner_texts()
            )

            page.fill("#scenario", small_text())
            page.fill("#seed", "5")
            page.click("#submit")
            page.wait_for_url("**/ui/runs/*")
            run_id = page.url.rsplit("/", 1)[-1]
            page.wait_for_selector("#report-section:not([hidden])", timeout=RUN_LIMIT_MS)
            assert page.inner_text("#status") == "finished"
            assert page.locator("#findings li").count() >= 1
            assert page.locator("#headline tr").count() >= 5
            report = next(f for f in page.frames if f.url.startswith("blob:"))
            report.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot').length >= 3 && Array.from("
                "document.querySelectorAll('.js-plotly-plot')).every(gd => gd._fullLayout && "
                "gd.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length > 0)",
                timeout=60_000,
            )
            page.screenshot(path=str(tmp_path / "run.png"), full_page=True)

            page.goto(server + "/")
            page.wait_for_selector(f'#runs tr[data-run="{run_id}"][data-status="finished"]')
            page.wait_for_selector(f'#compare-a option[value="{run_id}"]', state="attached")
            page.click("#compare-form button")  # the one finished run against itself
            page.wait_for_url(f"**/ui/compare/{run_id}/{run_id}")
            page.wait_for_selector("#report-section:not([hidden])")
            compared = next(f for f in page.frames if f.url.startswith("blob:"))
            compared.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot').length >= 3 && Array.from("
                "document.querySelectorAll('.js-plotly-plot')).every(gd => gd._fullLayout)",
                timeout=60_000,
            )
        finally:
            browser.close()
    assert not errors, errors
    assert not outside, f"the dashboard asked the network for {outside}"
