"""``crosspost check``: validate the schedule and render every upcoming post; sends nothing."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from crosspost.cli.context import AppContext, existing_store, existing_url, utc_now
from crosspost.cli.output import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    echo,
    exit_with,
    print_json,
    print_problems,
    shown_path,
)
from crosspost.errors import ConfigError, Problem

if TYPE_CHECKING:
    from crosspost.history import History
    from crosspost.loading.limits import ReportedLimits
    from crosspost.loading.project import Project
    from crosspost.store import Store

__all__ = ["check", "known_limits"]


def _check_history(
    app: AppContext, project: Project, now: datetime
) -> tuple[History | None, Store | None]:
    """What the queue planner reads of the store, and the store if it had to be opened.

    A SQLite file is read with the standard library (no SQLAlchemy to import); another
    database is opened only when its rows matter (queues, next-slot posts, approvals).
    """
    url = existing_url(app)
    if url is None:
        return None, None
    import sqlite3

    from crosspost.history import read_sqlite_history
    from crosspost.planning.approval import gated_anywhere
    from crosspost.planning.slots import history_range, history_wanted

    entries, pinned = history_wanted(project)
    try:
        history = read_sqlite_history(url, entries, pinned, now, history_range(now))
    except sqlite3.Error:  # not read here: the store migrates an older file, or says why
        history = None
    if history is not None:
        return history, None
    needed = bool(entries or pinned) or gated_anywhere(project)
    return None, existing_store(app) if needed else None


def known_limits(app: AppContext, project: Project, store: Store | None = None) -> list[Any]:
    """Use the limits servers reported earlier; say where each account's limit comes from.

    Reads the database only if there is one: ``check`` never creates it. Without an open
    store, a SQLite file is read with the standard library (no SQLAlchemy to import).
    """
    from crosspost.loading.limit_sources import limit_sources

    if store is not None:
        from crosspost.loading.limits import apply_reported_limits

        return limit_sources(project, apply_reported_limits(store, project))
    url = existing_url(app)
    if url is None:  # no database, so no server reported anything
        return limit_sources(project, {})
    return limit_sources(project, _stored_limits(app, project, url))


def _stored_limits(app: AppContext, project: Project, url: str) -> dict[str, ReportedLimits]:
    """The limits the database at ``url`` keeps, handed to the connectors that use them."""
    import sqlite3

    from crosspost.loading.limits import apply_limits, apply_reported_limits, read_reported_limits

    try:
        rows = read_reported_limits(url)
    except sqlite3.Error as exc:
        app.warn_unreadable(url, exc)
        rows = {}
    if rows is not None:
        return apply_limits(project, rows)
    opened = existing_store(app)
    if opened is None:
        return {}
    used = apply_reported_limits(opened, project)
    opened.close()
    return used


@click.command(epilog="Example: crosspost check --strict --verbose")
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 on warnings too (publications awaiting approval, a queue running dry, …).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Also print the next post of every entry as each target gets it.",
)
@click.pass_obj
def check(app: AppContext, strict: bool, as_json: bool, verbose: bool) -> None:
    """Validate the schedule, content, templates and accounts, and render every upcoming post.

    Each problem is printed as file:line:column: what is wrong (what was expected).
    Warnings (an event in the past, two accounts sharing what only one can use, such as
    one Telegram bot's updates, a queue running dry) are printed too and do not fail;
    publications awaiting approval are listed. Exits 0 when all is well, 2 on any
    problem, 1 on warnings or awaited approvals with --strict. Sends nothing.
    """
    checked = _examine(app, verbose)
    if as_json:
        print_json(_as_json(checked, verbose))
    else:
        _print_checked(checked)
    if checked.problems:
        exit_with(EXIT_BAD_INPUT)
    exit_with(EXIT_FAILED if strict and (checked.warnings or checked.awaiting) else EXIT_OK)


class _Checked(NamedTuple):
    """What ``check`` found: problems fail it, the rest is shown."""

    problems: list[Problem]
    warnings: list[Problem]
    #: Publications awaiting approval.
    awaiting: list[Any]
    #: Where each account's length limit comes from.
    limits: list[Any]
    #: With ``--verbose``: the next post of every entry, as ``plan`` shows it.
    shown: list[Any]
    #: None when it did not load.
    project: Project | None


def _examine(app: AppContext, verbose: bool) -> _Checked:
    """Load the project and run every check on it; a project that does not load has only
    its problems."""
    from crosspost.loading.accounts import shared_resource_warnings
    from crosspost.loading.event_checks import event_warnings
    from crosspost.loading.project_checks import wall_time_warnings
    from crosspost.planning.attention import attention
    from crosspost.planning.checking import check_project
    from crosspost.planning.slots import QueuePlanner

    limits: list[Any] = []
    warnings: list[Problem] = []
    awaiting: list[Any] = []
    shown: list[Any] = []
    try:
        project = app.project(for_one_run=True)
        now = utc_now()
        history, store = _check_history(app, project, now)
        limits = known_limits(app, project, store)
        past = history if history is not None else store
        problems = check_project(project, now, planner=QueuePlanner(project, past, now))
        warnings = event_warnings(project.schedule, project.root, project.path, now)
        warnings += shared_resource_warnings(project)
        warnings += wall_time_warnings(project.schedule, project.root, project.path, now)
        seen = attention(project, now, QueuePlanner(project, past, now))
        problems, warnings, awaiting = (
            problems + seen.problems,
            warnings + seen.warnings,
            seen.awaiting,
        )
        if verbose:  # what plan shows: its rows are defined for --verbose only
            from crosspost.planning.preview import next_of_each

            shown = next_of_each(project, now, QueuePlanner(project, past, now))
        if store is not None:
            store.close()
    except ConfigError as exc:  # what was found before it is shown with it
        return _Checked(exc.problems, warnings, awaiting, limits, shown, None)
    # a template's problem is met again by each account it renders for: tell it once
    once = list(dict.fromkeys(problems)), list(dict.fromkeys(warnings))
    return _Checked(*once, awaiting, limits, shown, project)


def _as_json(checked: _Checked, verbose: bool) -> dict[str, Any]:
    shown = checked.shown
    return {
        "ok": not checked.problems,
        "problems": [{**asdict(p), "file": shown_path(p.file)} for p in checked.problems],
        "warnings": [{**asdict(p), "file": shown_path(p.file)} for p in checked.warnings],
        "awaiting_approval": [_awaited_json(a) for a in checked.awaiting],
        "limits": [asdict(source) for source in checked.limits],
        **({"publications": [asdict(post) for post in shown]} if verbose else {}),
    }


def _print_checked(checked: _Checked) -> None:
    if checked.shown:
        from crosspost.cli.output import out
        from crosspost.cli.plan_view import print_plan

        print_plan(out, checked.shown, True, "table")
    print_problems(checked.problems)
    print_problems(checked.warnings, "warning: ")
    if not checked.problems and checked.project is not None:
        echo(_check_summary(checked.project))
    if checked.awaiting:
        _print_awaiting(checked.awaiting)
    if checked.limits:
        echo("\n".join(["length limits:", *(f"  {s.describe()}" for s in checked.limits)]))


def _print_awaiting(awaiting: list[Any]) -> None:
    """``2 publications await approval …``, then where each is in the schedule."""
    from crosspost.rendering.humanize import counted

    verb = "awaits" if len(awaiting) == 1 else "await"
    echo(f"{counted(len(awaiting), 'publication')} {verb} approval (crosspost approve CONTENT):")
    for awaited in awaiting:
        where = awaited.where
        echo(f"  {shown_path(where.file)}:{where.line}:{where.column}: {where.message}")


def _awaited_json(awaited: Any) -> dict[str, Any]:
    where = awaited.where
    return {
        "entry": awaited.entry,
        "account": awaited.account,
        "content": awaited.content,
        "due": awaited.due.isoformat(),
        "file": shown_path(where.file),
        "line": where.line,
    }


def _check_summary(project: Project) -> str:
    """``ok: 3 entries, 1 event (5 announcements), 1 queue, 2 accounts, …``."""
    from crosspost.rendering.humanize import counted

    made = len(project.origins) - sum(len(q.entries) for q in project.queues.values())
    slotted = len(project.origins) - made  # entries of queues, counted with them
    events, queues = len(project.schedule.events), len(project.queues)
    entries = len(project.schedule.posts) - made - slotted
    return (
        f"ok: {counted(entries, 'entry', 'entries')}, "
        + (f"{counted(events, 'event')} ({counted(made, 'announcement')}), " if events else "")
        + (f"{counted(queues, 'queue')}, " if queues else "")
        + f"{counted(len(project.accounts), 'account')}, "
        + counted(len(project.content) - made, "content item")
        + (f", {counted(len(project.feeds), 'feed')}" if project.feeds else "")
    )
