"""The terminal, --json, `runs show` and the HTML report say the same thing: same findings, same figures."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import SMALL, run_cli

from gpufleet.report.headline import fmt_value, label


def _flat(text: str) -> str:
    """Whitespace collapsed, so wrapped terminal lines read as one."""
    return " ".join(text.split())


def _html_findings(page: str) -> list[str]:
    section = page.partition('<section class="findings">')[2].partition("</section>")[0]
    return [html.unescape(m) for m in re.findall(r"<li data-kind=[^>]*>(.*?)</li>", section)]


def _html_figures(page: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-key="([^"]+)"><td>[^<]*</td><td class="num">([^<]*)</td>', page)
    return {html.unescape(k): html.unescape(v) for k, v in rows}


def simulate_and_show(tmp: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The small scenario simulated twice (the same seed: identical results), shown every way there is."""
    store, report = str(tmp / "runs.duckdb"), tmp / "report.html"
    out: dict[str, Any] = {}
    res = run_cli("simulate", str(SMALL), "--store", store, "--no-report", "--json", capsys=capsys)
    assert res.code == 0, res.stderr
    out["simulate_json"] = json.loads(res.stdout)
    res = run_cli("simulate", str(SMALL), "--store", store, "-o", str(report), "--quiet", capsys=capsys)
    assert res.code == 0, res.stderr
    out["simulate_text"] = res.stdout
    res = run_cli("runs", "show", "latest", "--store", store, "--json", capsys=capsys)
    out["show_json"] = json.loads(res.stdout)
    res = run_cli("runs", "show", "latest", "--store", store, capsys=capsys)
    out["show_text"] = res.stdout
    out["html"] = report.read_text()
    return out


def test_terminal_json_runs_show_and_report_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = simulate_and_show(tmp_path, capsys)
    check_findings_agree(outputs)
    check_headline_figures_agree(outputs)
    check_unmet_agrees(outputs)


def check_findings_agree(outputs: dict[str, Any]) -> None:
    texts = [f["text"] for f in outputs["simulate_json"]["findings"]]
    assert texts and texts[0].startswith("Inference:")
    assert [f["text"] for f in outputs["show_json"]["findings"]] == texts
    assert _html_findings(outputs["html"]) == texts
    for name in ("simulate_text", "show_text"):
        flat = _flat(outputs[name])
        positions = [flat.find(_flat(t)) for t in texts]
        assert all(p >= 0 for p in positions), name
        assert positions == sorted(positions), f"{name}: findings out of order"
        # findings come first: before any figure over the whole run
        assert positions[0] < flat.find("Over the whole run"), name
    flat = _flat(outputs["simulate_text"])
    assert flat.find("Findings") < flat.find("GPUs online at quarter end")  # the capacity table follows


def check_headline_figures_agree(outputs: dict[str, Any]) -> None:
    a, b = outputs["simulate_json"]["headline"], outputs["show_json"]["headline"]
    assert a.keys() == b.keys()
    for key, value in a.items():
        assert b[key] == (None if value is None else pytest.approx(value, rel=1e-12)), key
    figures = _html_figures(outputs["html"])
    shown = 0
    for key, value in a.items():
        if value is None:
            continue
        text = fmt_value(key, value)
        assert figures[key] == text, key
        for name in ("simulate_text", "show_text"):
            assert _flat(f"{label(key)} {text}") in _flat(outputs[name]), (name, key)
        shown += 1
    assert shown > 30
    # the figures the issue asked for are there
    for key in ("peak_queued_gpus", "peak_queued_jobs", "training_interruptions.model-a",
                "inference_unserved_worst_month_pct", "waits_censored.research"):  # fmt: skip
        assert key in a


def check_unmet_agrees(outputs: dict[str, Any]) -> None:
    """The unmet table: the same rows in simulate --json and runs show --json, one HTML row each."""
    rows = outputs["simulate_json"]["unmet"]
    assert rows and rows == outputs["show_json"]["unmet"]
    assert {"month", "demand", "unmet_gpu_hours", "idle_contracts"} <= rows[0].keys()
    table = outputs["html"].partition('data-table="unmet"')[2].partition("</table>")[0]
    assert table.count("<tr>") == len(rows) + 1  # the header, then a row each
    [finding] = [f for f in outputs["simulate_json"]["findings"] if f["kind"] == "unmet"]
    assert finding["date"] in {r["month"][:7] for r in rows}
