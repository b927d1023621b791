"""Output of ``crosspost report``: rich tables, CSV, JSON and a self-contained HTML page.

The CSV columns and JSON keys are a stable, documented interface
(``docs/report-formats.md``); :data:`COLUMNS` is the single list of them.

Each format has a module of its own: :mod:`~crosspost.reporting.report_table` (the
terminal), :mod:`~crosspost.reporting.report_csv`, :mod:`~crosspost.reporting.report_json`
and :mod:`~crosspost.reporting.report_html`; what the table and the page share (columns,
numbers, the page of posts) is :mod:`~crosspost.reporting.report_display`. Every name
listed here is importable from this module, as it always was.
"""

from __future__ import annotations

from crosspost.reporting.report_csv import to_csv, write_csv_dir
from crosspost.reporting.report_display import (
    DEFAULT_POSTS_SHOWN,
    format_number,
    most_reacted,
    posts_heading,
)
from crosspost.reporting.report_heatmaps import WEEKDAYS
from crosspost.reporting.report_html import to_html
from crosspost.reporting.report_json import COLUMNS, REPORT_VERSION, report_data, to_json
from crosspost.reporting.report_table import print_report

__all__ = [
    "COLUMNS",
    "DEFAULT_POSTS_SHOWN",
    "REPORT_VERSION",
    "WEEKDAYS",
    "format_number",
    "most_reacted",
    "posts_heading",
    "print_report",
    "report_data",
    "to_csv",
    "to_html",
    "to_json",
    "write_csv_dir",
]
