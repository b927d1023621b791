"""``crosspost plan``: the upcoming publications in order, rendered and measured."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from crosspost.cli.check import known_limits
from crosspost.cli.context import AppContext, existing_store, utc_now
from crosspost.cli.output import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    exit_with,
    out,
    print_json,
    print_problems,
)
from crosspost.cli.tables import format_option

if TYPE_CHECKING:
    from crosspost.loading.project import Project
    from crosspost.store import Store

__all__ = ["plan"]


@click.command(epilog="Example: crosspost plan --until 2d --verbose")
@click.option(
    "--until",
    "until",
    default="7d",
    show_default=True,
    help="How far ahead: a duration (90m, 2d, 1w).",
)
@click.option(
    "--limit",
    default=200,
    show_default=True,
    type=click.IntRange(0),
    help="Show at most this many (0 = all).",
)
@click.option("--entry", "entries", multiple=True, help="Only this entry (repeatable).")
@click.option("--account", "accounts", multiple=True, help="Only this account (repeatable).")
@click.option("--content", "contents", multiple=True, help="Only this content (repeatable).")
@click.option("--verbose", "-v", is_flag=True, help="Also print the rendered text.")
@format_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.pass_obj
def plan(
    app: AppContext,
    until: str,
    limit: int,
    entries: tuple[str, ...],
    accounts: tuple[str, ...],
    contents: tuple[str, ...],
    verbose: bool,
    fmt: str,
    as_json: bool,
) -> None:
    """Show the upcoming publications in order, rendered and measured; sends nothing.

    Exits 2 when a post would be refused by its platform.
    """
    from crosspost.cli.plan_view import plan_filter, print_plan, summary
    from crosspost.loading.durations import parse_duration
    from crosspost.planning.checking import feed_template_problems
    from crosspost.planning.preview import plan_checksum, plan_page
    from crosspost.planning.slots import QueuePlanner

    try:
        horizon = parse_duration(until)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--until") from None
    project = app.project(for_one_run=True)
    store = existing_store(app)
    known_limits(app, project, store)
    only = plan_filter(project, entries, accounts, contents)
    now = utc_now()
    stored = _feed_posts(store, project, now + horizon)
    planner = QueuePlanner(project, store, now)  # queue slots are chosen from the history
    posts, total = plan_page(project, now, now + horizon, limit, only, planner, stored)
    broken_feeds = feed_template_problems(project, now)  # their posts come later: say it now
    print_problems(broken_feeds)
    checksum = plan_checksum(posts)
    if as_json:
        publications = [asdict(p) for p in posts]
        print_json({"checksum": checksum, "total": total, "publications": publications})
    else:
        print_plan(out, posts, verbose, fmt)
        if fmt != "tsv":
            out.print(f"{summary(len(posts), total, until)}; plan sha256 {checksum}")
    exit_with(EXIT_BAD_INPUT if broken_feeds or any(p.problems for p in posts) else EXIT_OK)


def _feed_posts(store: Store | None, project: Project, until: datetime) -> list[Any]:
    """Posts of feed entries already fetched and planned (a plan of the files has none)."""
    if store is None:
        return []
    try:
        if not project.feeds:
            return []
        from crosspost.publishing.feeds import stored_posts

        return stored_posts(store, project, until)
    finally:
        store.close()
