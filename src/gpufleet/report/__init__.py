"""The report edge: headline figures, the terminal summary, the HTML report and run comparison."""

from gpufleet.report.compare import (
    compare_figures,
    compare_headlines,
    stored_headline,
    write_compare,
    write_compare_html,
)
from gpufleet.report.context import RunContext, run_context, stored_context
from gpufleet.report.findings import Finding, findings
from gpufleet.report.headline import headline, summarize
from gpufleet.report.html import render_report, write_html_report, write_report
from gpufleet.report.terminal import compare_table, terminal_summary

__all__ = [
    "Finding",
    "RunContext",
    "compare_figures",
    "compare_headlines",
    "compare_table",
    "findings",
    "headline",
    "render_report",
    "run_context",
    "stored_context",
    "stored_headline",
    "summarize",
    "terminal_summary",
    "write_compare",
    "write_compare_html",
    "write_html_report",
    "write_report",
]
