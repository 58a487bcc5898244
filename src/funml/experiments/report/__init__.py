"""The run's report: one self-contained HTML file."""

from funml.experiments.report.html import render_report

__all__ = ["render_report"]
