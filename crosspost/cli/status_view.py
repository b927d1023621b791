"""What ``crosspost status`` shows first: counts, problems, held accounts, recent, next.

The command in :mod:`crosspost.cli` parses its options and calls :func:`print_overview`
(no filter given) or :func:`print_rows` (a filtered list).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import click
from rich.console import Console

from crosspost.cli.health import DEFAULT_MAX_AGE, DaemonHealth, daemons_health
from crosspost.cli.tables import print_table
from crosspost.loading.durations import parse_duration
from crosspost.status import Status

__all__ = [
    "PROBLEMS",
    "STATUSES",
    "failing_feeds",
    "feed_lines",
    "held_accounts",
    "held_lines",
    "parse_statuses",
    "print_overview",
    "print_rows",
    "summary_line",
]

STATUSES = tuple(s.value for s in Status)
#: States a person has to look at, in the order they are shown.
PROBLEMS = ("failed", "unknown", "missed")
_SHOWN = 10
_COLUMNS = ("id", "due (UTC)", "entry", "account", "status", "url / error")


def parse_statuses(value: str) -> list[Status]:
    """``failed,unknown`` → the states, each name checked against the known ones.

    Raises:
        click.BadParameter: an unknown name (exit 2), with a did-you-mean.
    """
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    for name in names:
        if name not in STATUSES:
            close = difflib.get_close_matches(name, STATUSES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(STATUSES)
            raise click.BadParameter(f"{name!r} is not a state{hint} (one of {known})")
    return [Status(name) for name in names]


def summary_line(counts: Mapping[str, int]) -> str:
    """``2 published · 1 failed · 12 planned``: every state with rows, problems first."""
    order = [*PROBLEMS, *(s for s in STATUSES if s not in PROBLEMS)]
    parts = [f"{counts[s]:,} {s}" for s in order if counts.get(s)]
    return " · ".join(parts) if parts else "no publications yet"


def held_accounts(store: Any) -> dict[str, str]:
    """Accounts whose posts are held (credentials stopped working) → since when and why."""
    from crosspost.store.account_state import holds

    return held_lines(holds(store))


def held_lines(holds: Iterable[Any]) -> dict[str, str]:
    """Held accounts (``account``, ``reason``, ``since``) → since when and why."""
    return {h.account: f"since {h.since:%Y-%m-%d %H:%M}Z: {h.reason}" for h in holds}


def print_overview(
    console: Console,
    store: Any,
    now: datetime,
    fmt: str = "table",
    held: Mapping[str, str] | None = None,
    feeds: Mapping[str, str] | None = None,
) -> tuple[list[Any], dict[str, str]]:
    """Summary, problems, held accounts, failing feeds, last published, next planned, daemon.

    Args:
        store: the :class:`~crosspost.store.Store`, or a SQLite file read without it
            (:class:`~crosspost.history.StoredStatus`).
        feeds: feeds whose last fetch failed → why (see :func:`failing_feeds`).

    Returns:
        The publications that need attention, and the held accounts.
    """
    console.print(summary_line(store.counts()), markup=False)
    problems: list[Any] = store.publications(PROBLEMS)
    _section(console, f"needs attention ({len(problems)})", problems, fmt)
    held = held if held is not None else held_accounts(store)
    _held_section(console, held, fmt)
    awaiting = store.publications(["awaiting-approval"])
    _section(console, f"awaiting approval ({len(awaiting)})", awaiting, fmt, titled=True)
    if awaiting and fmt != "tsv":
        console.print("approve with: crosspost approve CONTENT", markup=False)
    _feeds_section(console, feeds or {}, fmt)
    published = store.publications(["published"])[-_SHOWN:]
    _section(console, f"last {len(published)} published", published, fmt, titled=True)
    planned = store.publications(["planned"], since=now)[:_SHOWN]
    _section(console, f"next {len(planned)} planned", planned, fmt, titled=True)
    console.print(daemon_line(store, now), markup=False)
    return problems, dict(held)


def failing_feeds(store: Any) -> dict[str, str]:
    """Feeds whose last fetch failed → when and why."""
    from crosspost.store.feeds import failing_feeds as failing

    return feed_lines(failing(store))


def feed_lines(states: Iterable[Any]) -> dict[str, str]:
    """Failing feeds (``feed``, ``last_fetch_at``, ``error``) → when and why."""
    return {state.feed: f"{state.last_fetch_at:%Y-%m-%d %H:%M}Z: {state.error}" for state in states}


def _feeds_section(console: Console, failing: Mapping[str, str], fmt: str) -> None:
    if not failing:
        return
    if fmt != "tsv":
        console.print(f"\nfeeds not read ({len(failing)})", style="bold", markup=False)
    print_table(console, ("feed", "last fetch"), sorted(failing.items()), fmt, wide=("last fetch",))
    if fmt != "tsv":
        console.print(
            "nothing of theirs is posted until a fetch works: crosspost feeds", markup=False
        )


def print_rows(console: Console, rows: Sequence[Any], store: Any, now: datetime, fmt: str) -> None:
    """A filtered list of publications, then the daemon line."""
    cells = [_cells(r) for r in rows]
    print_table(console, _COLUMNS, cells, fmt, below="url / error")
    console.print(daemon_line(store, now), markup=False)


def daemon_line(store: Any, now: datetime) -> str:
    """``daemon alive (…)``, ``daemon stopped (…)`` or ``daemon not running (last seen …)``."""
    return daemon_state(store, now).describe()


def daemon_state(store: Any, now: datetime) -> DaemonHealth:
    """Whether a daemon runs on ``store``, judged as ``crosspost health`` does by default."""
    return daemons_health(store, now, parse_duration(DEFAULT_MAX_AGE))


def _section(
    console: Console, title: str, rows: Sequence[Any], fmt: str, *, titled: bool = False
) -> None:
    """A titled table of ``rows``; ``titled``: the title names their one state, so a
    people's table leaves the status column out (the URLs and errors get its room)."""
    if not rows:
        return
    cells = [_cells(r) for r in rows]
    columns = list(_COLUMNS)
    if fmt != "tsv":
        console.print(f"\n{title}", style="bold", markup=False)
        if titled:
            at = columns.index("status")
            columns.pop(at)
            cells = [row[:at] + row[at + 1 :] for row in cells]
    print_table(console, columns, cells, fmt, below="url / error")


def _held_section(console: Console, held: Mapping[str, str], fmt: str) -> None:
    if not held:
        return
    if fmt != "tsv":
        console.print(f"\nheld accounts ({len(held)})", style="bold", markup=False)
    rows = [(account, reason) for account, reason in sorted(held.items())]
    print_table(console, ("account", "why"), rows, fmt, wide=("why",))
    if fmt != "tsv":
        console.print(
            "fix the settings, or: crosspost resolve --account NAME --retry", markup=False
        )


def _cells(row: Any) -> list[str]:
    detail = row.url or row.remote_id or ""
    if row.error and row.status != "published":
        detail = row.error
    return [
        str(row.id),
        f"{row.due_at:%Y-%m-%d %H:%M}",
        f"{row.entry} {row.occurrence}",
        row.account,
        row.status,
        detail,
    ]
