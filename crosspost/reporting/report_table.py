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
    NO_ACCOUNTS,
    NO_OTHER_POSTS,
    NO_POSTS,
    NO_REACTIONS,
    NOTHING_IN_PERIOD,
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
    view: Sequence[tuple[str, str, str]],
    rows: Sequence[Any],
    zone: tzinfo,
    plain: bool = False,
) -> Table:
    # no borders for plain; long cells fold onto more lines instead of becoming "fol…"
    table = Table(box=None if plain else box.HEAVY_HEAD)
    for label, _, kind in view:
        table.add_column(label, justify="left" if kind in _TEXT_KINDS else "right", overflow="fold")
    for row in rows:
        table.add_row(*(_cell_text(row, name, kind, zone) for _, name, kind in view))
    return table


def _fitted(
    view: Sequence[tuple[str, str, str]],
    rows: Sequence[Any],
    zone: tzinfo,
    plain: bool,
    width: int,
) -> tuple[Table, tuple[str, ...]]:
    """The table of ``rows`` as it fits ``width``, and the headings of columns left out.

    Too wide, a few rows of named things (accounts) are turned: a column per row and a row
    per figure; a list of posts or weeks keeps its leading and essential columns and
    names the ones left out. Headings then fold at spaces, never inside a word.
    """
    if _needed_width(view, rows, zone) <= width:
        return _table(view, rows, zone, plain), ()
    if rows and len(rows) <= _TURN_AT_MOST and view[0][2] == "text":
        return _turned(view, rows, zone, plain), ()
    kept = [column for column in view if column[1] in _ESSENTIAL]
    left_out = tuple(label for label, name, _ in view if name not in _ESSENTIAL)
    return _table(kept, rows, zone, plain), left_out


def _needed_width(view: Sequence[tuple[str, str, str]], rows: Sequence[Any], zone: tzinfo) -> int:
    """The width the table takes without folding a heading word or a short cell: a
    column is its longest heading word or cell (titles count up to 20, they fold well)
    and 3 of padding and rule."""
    total = 1
    for label, name, kind in view:
        cells = [len(display_value(getattr(row, name), kind, zone)) for row in rows]
        longest = max([*(len(word) for word in label.split()), *cells])
        total += (min(longest, 20) if kind in ("text", "link") else longest) + 3
    return total


def _turned(
    view: Sequence[tuple[str, str, str]],
    rows: Sequence[Any],
    zone: tzinfo,
    plain: bool,
) -> Table:
    """A column per row, named by its text fields (``news (folder)``), a row per figure."""
    names = [column for column in view if column[2] == "text"]
    figures = [column for column in view if column[2] != "text"]
    table = Table(box=None if plain else box.HEAVY_HEAD)
    table.add_column("")
    for row in rows:
        first, *rest = (str(getattr(row, name)) for _, name, _ in names)
        heading = f"{first} ({', '.join(rest)})" if rest else first
        table.add_column(heading, justify="right", overflow="fold")
    for label, name, kind in figures:
        table.add_row(label, *(_cell_text(row, name, kind, zone) for row in rows))
    return table


#: At most this many rows are turned into columns when a table is too wide.
_TURN_AT_MOST = 6
#: The columns a list of posts or weeks keeps when it is too wide for the terminal.
_ESSENTIAL = frozenset(
    {
        "published_at",
        "account",
        "title",
        "reactions",
        "engagement_rate",
        "week",
        "total",
        "distinct_authors",
        "growth",
    }
)
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
    A table wider than the console is turned or trimmed (:func:`_fitted`).
    """
    zone = report_zone(report)
    view = post_view(report.timezone)
    console.print(
        f"Report {local_time(report.since, zone)} – {local_time(report.until, zone)} "
        f"{report.timezone}",
        markup=False,
    )
    top, bottom = [r.post for r in report.top_posts], [r.post for r in report.bottom_posts]
    sections: list[tuple[str, Sequence[tuple[str, str, str]], Sequence[Any], str]] = [
        ("Accounts", ACCOUNT_VIEW, report.accounts, NO_ACCOUNTS),
        ("Top posts", view, top, NO_REACTIONS),
        ("Bottom posts", view, bottom, NO_OTHER_POSTS if top else ""),
        (posts_heading(report, posts), view, most_reacted(report, posts), NO_POSTS),
        ("Member-written content per week", WEEK_VIEW, report.community, NOTHING_IN_PERIOD),
        ("Answering members", RESPONSE_VIEW, report.responses, NOTHING_IN_PERIOD),
    ]
    trimmed: dict[tuple[str, ...], list[str]] = {}
    for title, columns, rows, empty in sections:
        if not rows:  # a line that says why, not the frame of an empty table
            if empty:
                console.print(Text.assemble((title, "italic"), f": {empty}"))
            continue
        table, left_out = _fitted(columns, rows, zone, plain, console.width)
        console.print(title, markup=False, style="italic")  # above, whole: never folded
        console.print(table)
        if left_out:
            trimmed.setdefault(left_out, []).append(title)
    for left_out, titles in trimmed.items():
        console.print(
            f"Left out at this width from {', '.join(titles)}: {', '.join(left_out)} "
            "(all in --format csv, json or html)",
            markup=False,
        )
    _best_slots(report, console)
