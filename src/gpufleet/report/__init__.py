"""The report edge: headline figures, the terminal summary, the HTML report and run comparison."""

from gpufleet.report.compare import compare_headlines, write_compare, write_compare_html
from gpufleet.report.headline import headline
from gpufleet.report.html import render_report, write_html_report, write_report
from gpufleet.report.terminal import compare_table, terminal_summary

__all__ = [
    "compare_headlines",
    "compare_table",
    "headline",
    "render_report",
    "terminal_summary",
    "write_compare",
    "write_compare_html",
    "write_html_report",
    "write_report",
]
