"""``crosspost report``: the figures of a period, as a table, CSV, JSON or HTML.

Registered lazily by :mod:`crosspost.cli` (``crosspost.cli.report:report``). Exit
codes: 0 ok, 2 bad input.

The command's options become a query in :mod:`crosspost.cli.report_options`, and
:mod:`crosspost.cli.report_output` writes the report where ``--output`` says;
``crosspost conversions import`` lives in :mod:`crosspost.cli.conversions`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from rich.console import Console

from crosspost.cli.context import readable_url, store_to_read
from crosspost.cli.report_options import report_query, split_values
from crosspost.cli.report_output import output_target, write_report
from crosspost.loading.project import no_cycle_collection
from crosspost.reporting.posting_times import MIN_POSTS_FOR_TIMES, MIN_POSTS_PER_SLOT
from crosspost.reporting.report import build_report
from crosspost.reporting.report_display import DEFAULT_POSTS_SHOWN

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext
    from crosspost.report_rows import ReportSource

__all__ = [
    "report",
]


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _working(message: str) -> Iterator[None]:
    """A spinner on stderr while the store is read, only when stderr is a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    with console.status(message):
        yield


@click.command(
    "report",
    epilog="Example: crosspost report --since 30d --platform mastodon --format html "
    "--output report.html",
)
@click.option(
    "--since", default="30d", show_default=True, help="A duration back from now or a date."
)
@click.option("--until", default=None, help="A date (included) or time [default: now].")
@click.option("--account", "accounts", multiple=True, help="Only these accounts (repeat or a,b).")
@click.option(
    "--platform", "platforms", multiple=True, help="Only these platforms (repeat or a,b)."
)
@click.option(
    "--format",
    "fmt",
    default="table",
    show_default=True,
    type=click.Choice(["table", "plain", "csv", "json", "html"]),
    help="table for people, plain (no borders) for pipes, csv or json for scripts, html to share.",
)
@click.option(
    "--output",
    default=None,
    help="Write here instead of stdout. An existing directory gets report.<format> "
    "(csv: one file per section); a DIR/ that does not exist is an error.",
)
@click.option(
    "--posts",
    "posts_shown",
    default=DEFAULT_POSTS_SHOWN,
    show_default=True,
    type=click.IntRange(0),
    help="Posts listed in the table and HTML page, most reactions first (csv/json: all).",
)
@click.option(
    "--min-posts",
    default=MIN_POSTS_FOR_TIMES,
    show_default=True,
    type=click.IntRange(1),
    help="Posts with metrics a platform needs before 'when to post' is shown.",
)
@click.option(
    "--min-slot-posts",
    default=MIN_POSTS_PER_SLOT,
    show_default=True,
    type=click.IntRange(1),
    help="Posts a weekday × hour needs before 'when to post' shows or advises it.",
)
@click.pass_obj
def report(
    app: AppContext,
    since: str,
    until: str | None,
    accounts: tuple[str, ...],
    platforms: tuple[str, ...],
    fmt: str,
    output: str | None,
    posts_shown: int,
    min_posts: int,
    min_slot_posts: int,
) -> None:
    """Reactions, audience growth and churn, member-written content, conversions and the
    best times to post, from what crosspost has collected in the period (--since, --until).
    Reads only the local store; every time is shown in the schedule's timezone.
    """
    target = output_target(output, fmt)
    project = app.project()
    source = _report_source(app)
    now = _now()
    query = report_query(project, since, until, accounts, platforms, now, min_posts, min_slot_posts)
    # A report makes hundreds of thousands of short-lived rows, figures and cells: full
    # collections walking everything the imports left behind were a fifth of its time.
    with no_cycle_collection():
        with _working("Reading the store…"):
            try:
                built = build_report(
                    source, query, now, (split_values(accounts), split_values(platforms))
                )
            finally:
                source.close()
        write_report(built, fmt, target, posts_shown)


def _report_source(app: AppContext) -> ReportSource:
    """A SQLite file at the newest schema read with the standard library (the store would
    import SQLAlchemy and the models, most of a report's time); else the store."""
    import sqlite3

    from crosspost.reporting.report_sqlite import open_sqlite_report

    url = readable_url(app)
    try:
        source = None if url is None else open_sqlite_report(url)
    except sqlite3.Error:  # not a crosspost database (yet): the store creates it or says why
        source = None
    if source is not None:
        return source
    from crosspost.store.report_source import StoreReportSource

    return StoreReportSource(store_to_read(app))
