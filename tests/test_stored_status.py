"""status reads a SQLite file at the newest schema as the store reads it, without the ORM."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from crosspost.cli import status_view
from crosspost.history import StoredStatus, open_sqlite_status
from crosspost.status import Status
from crosspost.store import PlannedRow, Store
from crosspost.store.account_state import hold_account, holds
from crosspost.store.feeds import FetchRecord, failing_feeds, record_fetch
from crosspost.store.records import Awaiting, Ended, Finish, Sent

NOW = datetime(2026, 12, 7, 8, 0, 30, 123456, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _filled(tmp_path: Path) -> tuple[Store, str]:
    """Every state status shows, two holds, a failing feed, a good one and two heartbeats."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = Store(url)
    hour = timedelta(hours=1)
    past = [
        PlannedRow(
            "daily", f"d{i}", "alpha" if i % 2 else "beta", "tip", NOW - i * hour, NOW + hour
        )
        for i in range(1, 8)
    ]
    ahead = [
        PlannedRow("hourly", f"h{i}", "alpha", "tip", NOW + i * hour, NOW + 9 * hour)
        for i in range(3)
    ]
    store.add_planned([*past, *ahead], NOW - timedelta(days=1))
    outcomes: list[Finish | None] = [
        Sent("r1", "https://example.org/1", NOW),
        Ended(Status.FAILED, "refused: too long"),
        Ended(Status.UNKNOWN, "the worker stopped"),
        Awaiting("needs approval"),
        Sent("r2", None, NOW),  # no URL: its remote id is shown
        None,  # left planned, due in the past
    ]
    for row, outcome in zip(
        store.publications([Status.PLANNED], until=NOW), outcomes, strict=False
    ):
        if outcome is None:
            continue
        assert row.id is not None and store.claim(row.id, "w", LEASE, NOW)
        assert store.finish(row.id, "w", NOW, outcome)
    store.heartbeat("w1", NOW - 2 * hour, NOW - timedelta(days=1))
    store.heartbeat("w2", NOW - hour, NOW - timedelta(days=1))
    hold_account(store, "beta", "token revoked (HTTP 401)", "digest", NOW - hour)
    hold_account(store, "alpha", "token expired", "digest", NOW)
    for feed, error in (("blog", "HTTP 500"), ("news", None), ("old", "timed out")):
        at = NOW - timedelta(minutes=3)
        record_fetch(
            store, FetchRecord(feed, f"https://{feed}.example/", at, at + hour, error=error)
        )
    return store, url


def _opened(url: str) -> StoredStatus:
    stored = open_sqlite_status(url)
    assert stored is not None
    return stored


def _publication(row: Any) -> tuple[Any, ...]:
    due = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC)
    shown = (row.entry, row.occurrence, row.account, row.remote_id, row.url, row.error)
    return (row.id, Status(row.status), due, *shown)


@pytest.mark.parametrize(
    ("statuses", "since"),
    [
        ((), None),
        (status_view.PROBLEMS, None),
        (["awaiting-approval"], None),
        (["published"], None),
        (["planned"], NOW),
        ([Status.PLANNED, Status.FAILED], NOW - timedelta(hours=2)),
    ],
)
def test_publications_are_the_stores(
    tmp_path: Path, statuses: list[str], since: datetime | None
) -> None:
    store, url = _filled(tmp_path)
    stored = _opened(url)
    expected = [_publication(row) for row in store.publications(statuses, since=since)]
    assert [_publication(row) for row in stored.publications(statuses, since=since)] == expected
    assert expected  # each case reads some rows
    stored.close()


def test_counts_holds_feeds_and_heartbeat_are_the_stores(tmp_path: Path) -> None:
    store, url = _filled(tmp_path)
    stored = _opened(url)
    assert stored.counts() == store.counts()
    assert status_view.held_lines(stored.holds()) == status_view.held_accounts(store)
    assert [h.account for h in stored.holds()] == [h.account for h in holds(store)]
    assert status_view.feed_lines(stored.failing_feeds()) == status_view.failing_feeds(store)
    assert [f.feed for f in stored.failing_feeds()] == [f.feed for f in failing_feeds(store)]
    beat = store.last_heartbeat()
    assert beat is not None and beat.worker == "w2"
    assert stored.last_heartbeat() == type(stored.last_heartbeat())(
        beat.alive_at.replace(tzinfo=UTC)
    )
    store.heartbeat_stopped("w2", NOW)
    for running in (False, True):
        mine, theirs = store.last_heartbeat(running=running), stored.last_heartbeat(running=running)
        assert mine is not None and theirs is not None
        assert theirs.alive_at == mine.alive_at.replace(tzinfo=UTC)
        assert theirs.stopped_at == (mine.stopped_at and mine.stopped_at.replace(tzinfo=UTC))
    assert stored.last_heartbeat().stopped_at == NOW  # type: ignore[union-attr]
    assert stored.last_heartbeat(running=True) == (NOW - timedelta(hours=2), None)
    stored.close()


def test_the_overview_is_printed_alike(tmp_path: Path) -> None:
    store, url = _filled(tmp_path)
    stored = _opened(url)
    shown = []
    for source, held, feeds in (
        (store, status_view.held_accounts(store), status_view.failing_feeds(store)),
        (
            stored,
            status_view.held_lines(stored.holds()),
            status_view.feed_lines(stored.failing_feeds()),
        ),
    ):
        console = Console(width=100, record=True)
        problems, _held = status_view.print_overview(console, source, NOW, held=held, feeds=feeds)
        shown.append((console.export_text(), [p.id for p in problems]))
    stored.close()
    assert shown[0] == shown[1]
    assert "needs attention (2)" in shown[0][0] and "feeds not read (2)" in shown[0][0]


def test_an_empty_store_reads_as_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    Store(url).close()
    stored = _opened(url)
    assert (stored.counts(), stored.publications(), stored.last_heartbeat()) == ({}, [], None)
    assert (stored.holds(), stored.failing_feeds()) == ([], [])
    stored.close()


def test_the_store_is_left_to_create_or_upgrade_the_file(tmp_path: Path) -> None:
    """No file, another database, a schema behind (or ahead of) the newest: the store decides."""
    path = tmp_path / "x.db"
    assert open_sqlite_status(f"sqlite:///{path}") is None  # nothing created either
    assert not path.exists()
    assert open_sqlite_status("postgresql://db.example/crosspost") is None
    assert open_sqlite_status("sqlite://") is None
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'r019'")
    assert open_sqlite_status(f"sqlite:///{path}") is None
    path.unlink()
    path.write_text("not a database", encoding="utf-8")
    with pytest.raises(sqlite3.Error):
        open_sqlite_status(f"sqlite:///{path}")


def test_status_reads_the_file_and_refuses_a_newer_one(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from crosspost.cli import cli

    store, url = _filled(tmp_path)
    store.close()
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("timezone: UTC\n", encoding="utf-8")
    args = ["-s", str(schedule), "--database", url, "status"]
    read = CliRunner().invoke(cli, args)
    assert read.exit_code == 1, read.output
    assert read.stdout.startswith("1 failed · 1 unknown · 5 planned · 1 awaiting-approval")
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'unknown-newer'")
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1
    assert "written by a newer crosspost" in refused.output


def test_without_its_schedule_the_default_database_is_not_read(tmp_path: Path) -> None:
    """As the store does: the default database is found next to the schedule."""
    from click.testing import CliRunner

    from crosspost.cli import cli

    Store(f"sqlite:///{tmp_path / 'crosspost.db'}").close()
    missing = tmp_path / "schedule.yaml"
    result = CliRunner().invoke(
        cli, ["-s", str(missing), "status"], env={"CROSSPOST_DATABASE_URL": None}
    )
    assert result.exit_code == 2
    assert "schedule file not found" in result.output
