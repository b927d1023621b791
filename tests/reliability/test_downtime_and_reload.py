"""Downtime, DST nights and hot reload, on a fake clock against the mock Mastodon.

The daemon is an in-process :class:`~crosspost.publishing.daemon.Daemon` whose clock only
moves when the test says so; "stopping" it is simply not ticking, and
"restarting" it is building a new one on the same database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crosspost.store import Store
from tests.mockplatform import MockMastodon
from tests.reliability.helpers import (
    Clock,
    at,
    key_counts,
    make_daemon,
    mastodon_account,
    post_counts,
    rewrite,
    status_by_id,
    write_project,
)

MINUTE = timedelta(minutes=1)
SECRETS = {"TOK1": "t1"}
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    made = Store(f"sqlite:///{tmp_path}/x.db")
    yield made
    made.close()


@pytest.fixture
def mock() -> Iterator[MockMastodon]:
    with MockMastodon(tokens=("t1",)) as server:
        yield server


def assert_exactly_once(store: Store, mock: MockMastodon) -> None:
    """Every published row is one stored status, POSTed once; nothing else was stored."""
    published = [r for r in store.publications() if r.status == "published"]
    stored = status_by_id(mock)
    assert sorted(r.remote_id or "" for r in published) == sorted(stored)
    assert all(stored[r.remote_id or ""]["url"] == r.url for r in published)
    assert max(key_counts(mock).values(), default=1) == 1
    assert max(post_counts(mock).values(), default=1) == 1


# --------------------------------------------------------------------------- downtime


def test_downtime_applies_each_entrys_missed_policy_and_nothing_is_silent(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    t0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    posts = f"""\
    - id: catchup
      content: c
      to: [m1]
      every: 10m
      start: {at(t0)}
      missed: publish
      grace: 25m
    - id: skipper
      content: c
      to: [m1]
      every: 10m
      start: {at(t0 + timedelta(minutes=5))}
      missed: skip
    - id: oneoff
      content: c
      to: [m1]
      at: {at(t0 + timedelta(minutes=30))}
      missed: publish
      grace: 2h
    """
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), posts)
    clock = Clock(t0)
    daemon = make_daemon(path, store, clock, SECRETS, horizon=timedelta(hours=2))
    daemon.tick()  # 09:00 catchup goes out
    clock.advance(timedelta(minutes=6))
    daemon.tick()  # 09:05 skipper goes out
    assert len(mock.statuses) == 2

    # down from 09:06 to 10:01; a new process starts
    clock.now = t0 + timedelta(hours=1, minutes=1)
    restarted = make_daemon(path, store, clock, SECRETS, horizon=timedelta(hours=2))
    outcomes = restarted.tick()
    restarted.tick()

    due = {
        (r.entry, r.due_at.astimezone(UTC).strftime("%H:%M")): r.status
        for r in store.publications()
        if r.due_at <= clock.now
    }
    assert due == {
        ("catchup", "09:00"): "published",
        ("catchup", "09:10"): "missed",  # 51 min late > 25 min grace
        ("catchup", "09:20"): "missed",
        ("catchup", "09:30"): "missed",  # 31 min late
        ("catchup", "09:40"): "published",
        ("catchup", "09:50"): "published",
        ("catchup", "10:00"): "published",
        ("skipper", "09:05"): "published",
        ("skipper", "09:15"): "missed",
        ("skipper", "09:25"): "missed",
        ("skipper", "09:35"): "missed",
        ("skipper", "09:45"): "missed",
        ("skipper", "09:55"): "missed",
        ("oneoff", "09:30"): "published",  # 31 min late, within its 2 h grace
    }
    missed = [o for o in outcomes if o.status == "missed"]
    assert len(missed) == 8  # each one reported, not dropped
    assert all(o.error and "not running" in o.error for o in missed)
    assert_exactly_once(store, mock)
    assert len(mock.statuses) == 6


def test_downtime_longer_than_the_horizon_still_records_every_occurrence(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    t0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    posts = f"""\
    - id: hourly
      content: c
      to: [m1]
      every: 1h
      start: {at(t0)}
      missed: skip
    """
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), posts)
    clock = Clock(t0)
    daemon = make_daemon(path, store, clock, SECRETS, horizon=timedelta(hours=1))
    daemon.tick()

    clock.now = t0 + timedelta(hours=5, seconds=30)  # planned only up to 10:00
    restarted = make_daemon(path, store, clock, SECRETS, horizon=timedelta(hours=1))
    restarted.tick()

    due = [
        (r.due_at.astimezone(UTC).hour, r.status)
        for r in store.publications()
        if r.due_at <= clock.now
    ]
    assert due == [
        (9, "published"),
        (10, "missed"),
        (11, "missed"),
        (12, "missed"),
        (13, "missed"),
        (14, "published"),
    ]
    assert_exactly_once(store, mock)


# --------------------------------------------------------------------------- DST


def _walk(daemon_tick: object, clock: Clock, until: datetime, step: timedelta) -> None:
    while clock.now < until:
        clock.advance(step)
        daemon_tick()  # type: ignore[operator]


def test_fall_back_night_fires_a_daily_0130_once(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    posts = """\
    - id: nightly
      content: c
      to: [m1]
      cron: "30 1 * * *"
      timezone: America/New_York
    """
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), posts)
    clock = Clock(datetime(2026, 11, 1, 4, 0, tzinfo=UTC))  # 00:00 EDT
    daemon = make_daemon(path, store, clock, SECRETS)
    daemon.tick()
    _walk(daemon.tick, clock, datetime(2026, 11, 1, 9, 0, tzinfo=UTC), timedelta(minutes=10))

    tonight = [r for r in store.publications() if r.occurrence.startswith("2026-11-01")]
    (row,) = tonight
    assert row.occurrence == "2026-11-01T01:30"
    assert row.status == "published"
    assert row.due_at.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # EDT
    assert row.due_at.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-4)
    assert len(mock.statuses) == 1
    assert "2026-11-01T01:30:00-04:00" in mock.statuses[0]["content"]
    nxt = store.find("nightly", "2026-11-02T01:30", "m1")
    assert nxt is not None and nxt.due_at.astimezone(UTC).hour == 6  # EST from now on


def test_spring_forward_fires_a_skipped_0230_once_at_0330(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    posts = """\
    - id: nightly
      content: c
      to: [m1]
      cron: "30 2 * * *"
      timezone: America/New_York
    """
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), posts)
    clock = Clock(datetime(2026, 3, 8, 5, 0, tzinfo=UTC))  # 00:00 EST
    daemon = make_daemon(path, store, clock, SECRETS)
    daemon.tick()
    _walk(daemon.tick, clock, datetime(2026, 3, 8, 7, 20, tzinfo=UTC), timedelta(minutes=10))
    assert mock.statuses == []  # 02:30 does not exist; not fired early
    _walk(daemon.tick, clock, datetime(2026, 3, 8, 10, 0, tzinfo=UTC), timedelta(minutes=10))

    tonight = [r for r in store.publications() if r.occurrence.startswith("2026-03-08")]
    (row,) = tonight
    assert row.status == "published"
    assert row.due_at.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert row.due_at.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"
    assert len(mock.statuses) == 1


def test_spring_forward_post_planned_before_the_gap_goes_out_at_0330(
    tmp_path: Path, store: Store, mock: MockMastodon
) -> None:
    posts = """\
    - id: nightly
      content: c
      to: [m1]
      cron: "30 2 * * *"
      timezone: America/New_York
    """
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), posts)
    clock = Clock(datetime(2026, 3, 8, 6, 50, tzinfo=UTC))  # 01:50 EST
    daemon = make_daemon(path, store, clock, SECRETS)
    daemon.tick()
    clock.now = datetime(2026, 3, 8, 7, 31, tzinfo=UTC)  # 03:31 EDT, no tick in between
    daemon.tick()
    daemon.tick()

    (row,) = [r for r in store.publications() if r.occurrence.startswith("2026-03-08")]
    assert (row.occurrence, row.status) == ("2026-03-08T03:30", "published")
    assert row.due_at.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert len(mock.statuses) == 1


def test_the_machines_timezone_does_not_move_anything(
    tmp_path: Path, store: Store, mock: MockMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    posts = """\
    - id: nightly
      content: c
      to: [m1]
      cron: "30 1 * * *"
      timezone: America/New_York
    """
    path = write_project(tmp_path, mastodon_account("m1", mock.url, "TOK1"), posts)
    clock = Clock(datetime(2026, 11, 1, 4, 0, tzinfo=UTC))
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    if hasattr(time, "tzset"):
        time.tzset()
    try:
        make_daemon(path, store, clock, SECRETS).sync()
    finally:
        monkeypatch.undo()
        if hasattr(time, "tzset"):
            time.tzset()
    row = store.find("nightly", "2026-11-01T01:30", "m1")
    assert row is not None
    assert row.due_at.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


# --------------------------------------------------------------------------- hot reload


def _reload_posts(entries: dict[str, datetime]) -> str:
    return "".join(
        f"- id: {name}\n  content: c\n  to: [m1]\n  at: {at(when)}\n"
        for name, when in entries.items()
    )


def test_hot_reload_adds_moves_and_removes_future_publications(
    tmp_path: Path, store: Store, mock: MockMastodon, caplog: pytest.LogCaptureFixture
) -> None:
    t0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    account = mastodon_account("m1", mock.url, "TOK1")
    path = write_project(
        tmp_path,
        account,
        _reload_posts(
            {
                "early": t0 + timedelta(minutes=5),
                "moved": t0 + timedelta(hours=1),
                "removed": t0 + timedelta(hours=2),
            }
        ),
    )
    clock = Clock(t0)
    daemon = make_daemon(path, store, clock, SECRETS)
    daemon.tick()
    clock.advance(timedelta(minutes=10))
    daemon.tick()
    assert store.find("early", "2026-06-01T12:05", "m1").status == "published"  # type: ignore[union-attr]

    good = write_project(
        tmp_path,
        account,
        _reload_posts(
            {
                "moved": t0 + timedelta(hours=3),
                "added": t0 + timedelta(minutes=30),
            }
        ),
    ).read_text(encoding="utf-8")
    rewrite(path, good)
    daemon.reload_if_changed()  # seen now, applied once it stayed unchanged for a moment
    clock.advance(timedelta(seconds=5))
    daemon.tick()

    rows = {(r.entry, r.occurrence): r.status for r in store.publications()}
    assert rows == {
        ("early", "2026-06-01T12:05"): "published",  # removed from the file, kept as history
        ("moved", "2026-06-01T13:00"): "cancelled",
        ("moved", "2026-06-01T15:00"): "planned",
        ("removed", "2026-06-01T14:00"): "cancelled",
        ("added", "2026-06-01T12:30"): "planned",
    }
    cancelled = store.find("removed", "2026-06-01T14:00", "m1")
    assert cancelled is not None and "removed" in (cancelled.error or "")

    broken = good.replace("at: 2026-06-01 12:30:00", "at: half past noon")
    rewrite(path, broken)
    daemon.reload_if_changed()
    clock.advance(timedelta(seconds=5))
    with caplog.at_level(logging.ERROR, logger="crosspost.publishing.daemon"):
        daemon.tick()
    line = broken.splitlines().index("    at: half past noon") + 1
    (record,) = [r for r in caplog.records if "not reloaded" in r.getMessage()]
    assert f"schedule.yaml:{line}:" in record.getMessage()
    assert "last good plan" in record.getMessage()

    clock.advance(timedelta(minutes=25))  # 12:35: the last good plan keeps running
    daemon.tick()
    assert store.find("added", "2026-06-01T12:30", "m1").status == "published"  # type: ignore[union-attr]
    clock.now = t0 + timedelta(hours=3, minutes=1)
    daemon.tick()
    assert store.find("moved", "2026-06-01T15:00", "m1").status == "published"  # type: ignore[union-attr]
    assert store.find("moved", "2026-06-01T13:00", "m1").status == "cancelled"  # type: ignore[union-attr]
    assert_exactly_once(store, mock)
    assert len(mock.statuses) == 3
