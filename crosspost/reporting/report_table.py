"""``crosspost report`` in the terminal: rich tables, with or without borders.

Times are shown in the report's zone, numbers as
:func:`~crosspost.reporting.report_display.format_number` writes them, and a post's
title links to it where the terminal can.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from crosspost.reporting.report_charts import local_time, post_link, report_zone
from crosspost.reporting.report_display import (
    ACCOUNT_VIEW,
    DEFAULT_POSTS_SHOWN,
    RESPONSE_VIEW,
    WEEK_VIEW,
    display_value,
    most_reacted,
    post_view,
    posts_heading,
)
from crosspost.reporting.report_figures import Report

__all__ = ["print_report"]


def _cell_text(row: Any, name: str, kind: str, zone: tzinfo) -> Text | str:
    shown = display_value(getattr(row, name), kind, zone)
    url = post_link(getattr(row, "url", None)) if kind == "link" else None
    return Text(shown, style=f"link {url}") if url else shown


def _table(
    title: str,
    view: Sequence[tuple[str, str, str]],
    rows: Sequence[Any],
    zone: tzinfo,
    plain: bool = False,
) -> Table:
    # no borders for plain; long cells fold onto more lines instead of becoming "fol…"
    table = Table(title=title, title_justify="left", box=None if plain else box.HEAVY_HEAD)
    for label, _, kind in view:
        table.add_column(label, justify="left" if kind in _TEXT_KINDS else "right", overflow="fold")
    for row in rows:
        table.add_row(*(_cell_text(row, name, kind, zone) for _, name, kind in view))
    return table


_TEXT_KINDS = ("text", "time", "link")


def _best_slots(report: Report, console: Console) -> None:
    for times in report.when_to_post:
        if not times.enough_data:
            console.print(f"When to post on {times.platform}: {times.message}", markup=False)
        else:
            console.print(
                f"When to post on {times.platform} ({times.message}, hours in "
                f"{report.timezone}): {times.advice}",
                markup=False,
            )


def print_report(
    report: Report, console: Console, posts: int = DEFAULT_POSTS_SHOWN, plain: bool = False
) -> None:
    """Print the report as rich tables, times in the report's zone; ``posts`` rows of posts.

    ``plain`` prints the same tables without borders (for pipes and narrow terminals).
    """
    zone = report_zone(report)
    view = post_view(report.timezone)
    console.print(
        f"Report {local_time(report.since, zone)} – {local_time(report.until, zone)} "
        f"{report.timezone}",
        markup=False,
    )
    sections: list[tuple[str, Sequence[tuple[str, str, str]], Sequence[Any]]] = [
        ("Accounts", ACCOUNT_VIEW, report.accounts),
        ("Top posts", view, [r.post for r in report.top_posts]),
        ("Bottom posts", view, [r.post for r in report.bottom_posts]),
        (posts_heading(report, posts), view, most_reacted(report, posts)),
        ("Member-written content per week", WEEK_VIEW, report.community),
        ("Answering members", RESPONSE_VIEW, report.responses),
    ]
    for title, columns, rows in sections:
        console.print(_table(title, columns, rows, zone, plain))
    _best_slots(report, console)
