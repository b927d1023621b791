"""``crosspost status``: what needs attention first, or the publications asked for."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crosspost.cli.context import AppContext, missing_database, readable_url, utc_now
from crosspost.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    TROUBLE,
    exit_with,
    out,
    print_json,
)
from crosspost.cli.tables import format_option

if TYPE_CHECKING:
    from crosspost.history import StoredStatus
    from crosspost.store import Store

__all__ = ["split_list", "status", "status_json"]


@click.command(epilog="Example: crosspost status --status failed,unknown --json")
@click.option("--status", "statuses", default="", help="Only these states, comma-separated.")
@click.option("--account", "accounts", default="", help="Only these accounts, comma-separated.")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(0),
    help="With a filter: the newest N (0 = all).",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Every publication, also those planned more than an hour ahead.",
)
@format_option
@click.option("--json", "as_json", is_flag=True, help="Print every publication as JSON.")
@click.pass_obj
def status(
    app: AppContext,
    statuses: str,
    accounts: str,
    limit: int,
    show_all: bool,
    fmt: str,
    as_json: bool,
) -> None:
    """What needs attention first: counts per state, problems, the last published, the next planned.

    With --status, --account or --all: the matching publications instead.
    Exits 1 when any publication failed, was missed or is unknown.
    """
    from crosspost.cli import status_view

    try:
        wanted = status_view.parse_statuses(statuses)
    except click.BadParameter as exc:
        exc.param_hint = "--status"
        raise
    missing = missing_database(app)
    if missing is not None:
        exit_with(_nothing_yet(missing, as_json))
    if not (as_json or wanted or accounts or show_all):
        exit_with(_overview(app, fmt))
    store = app.store()
    failing = status_view.failing_feeds(store)
    until = None if show_all or as_json else utc_now() + timedelta(hours=1)
    rows = store.publications(wanted, split_list(accounts), until=until)
    held = _held_accounts(store)
    if as_json:
        from crosspost.cli.health import health_json

        daemon = status_view.daemon_state(store, utc_now())
        print_json(
            _json_document([status_json(r) for r in rows], health_json(daemon), held, failing)
        )
    else:
        status_view.print_rows(out, rows[-limit:] if limit else rows, store, utc_now(), fmt)
        _print_held(held)
    exit_with(EXIT_FAILED if held or failing or any(r.status in TROUBLE for r in rows) else EXIT_OK)


def _nothing_yet(missing: Path, as_json: bool) -> int:
    """``status`` before anything created the database (it is not created here); its exit code."""
    from crosspost.cli.health import DEFAULT_MAX_AGE, daemon_health, health_json
    from crosspost.loading.durations import parse_duration

    if as_json:
        never_ran = daemon_health(None, utc_now(), parse_duration(DEFAULT_MAX_AGE))
        print_json(_json_document([], health_json(never_ran), [], {}))
    else:
        out.print(
            f"nothing planned or published yet: no database at {missing}\n"
            "run crosspost daemon to plan and publish the schedule,"
            " or crosspost publish CONTENT to post one now",
            markup=False,
        )
    return EXIT_OK


def _json_document(
    publications: list[dict[str, Any]],
    daemon: dict[str, object],
    held: list[dict[str, str]],
    failing: dict[str, str],
) -> dict[str, Any]:
    """What ``status --json`` prints."""
    return {
        "publications": publications,
        "daemon": daemon,
        "held_accounts": held,
        "failing_feeds": [{"feed": f, "error": e} for f, e in sorted(failing.items())],
    }


def _overview(app: AppContext, fmt: str) -> int:
    """``status`` without filters; its exit code.

    A SQLite file at the newest schema is read with the standard library: the store
    would import SQLAlchemy and the models, most of the command's time.
    """
    from crosspost.cli import status_view

    stored = _stored_status(app)
    if stored is None:
        store = app.store()
        failing = status_view.failing_feeds(store)
        problems, held = status_view.print_overview(out, store, utc_now(), fmt, feeds=failing)
    else:
        try:
            failing = status_view.feed_lines(stored.failing_feeds())
            held_now = status_view.held_lines(stored.holds())
            problems, held = status_view.print_overview(
                out, stored, utc_now(), fmt, held=held_now, feeds=failing
            )
        finally:
            stored.close()
    return EXIT_FAILED if problems or held or failing else EXIT_OK


def _stored_status(app: AppContext) -> StoredStatus | None:
    """The SQLite file read without the store, if there is one at the newest schema."""
    import sqlite3

    from crosspost.history import open_sqlite_status

    url = readable_url(app)
    if url is None:
        return None
    try:
        return open_sqlite_status(url)
    except sqlite3.Error:  # not a crosspost database (yet): the store creates it or says why
        return None


def _held_accounts(store: Store) -> list[dict[str, str]]:
    """Accounts held since their credentials failed (status shows them; they exit 1)."""
    from crosspost.store.account_state import holds

    return [
        {"account": h.account, "reason": h.reason, "since": h.since.isoformat()}
        for h in holds(store)
    ]


def _print_held(held: list[dict[str, str]]) -> None:
    if not held:
        return
    out.print("held accounts (credentials failed; nothing of theirs is sent):")
    for hold in held:
        out.print(
            f"  {hold['account']} since {hold['since']}: {hold['reason']}\n"
            f"    fix its settings, or: crosspost resolve --account {hold['account']} --retry",
            markup=False,
        )


def split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def status_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "entry": row.entry,
        "occurrence": row.occurrence,
        "account": row.account,
        "content": row.content_id,
        "status": row.status,
        "due_at": row.due_at.isoformat(),
        "attempts": row.attempts,
        "remote_id": row.remote_id,
        "url": row.url,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "error": row.error,
    }
