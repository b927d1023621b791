"""Writing the plan into the store: new entries, past one-offs, removed and moved entries."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crosspost.loading.project import load_project
from crosspost.planning.sync import sync_plan
from crosspost.publishing.publisher import Publisher
from crosspost.store import Publication, Store
from tests.fakes import FakeClock, FakePlatform, write_project

T0 = datetime(2026, 3, 1, 12, 3, tzinfo=UTC)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def sync(
    tmp_path: Path, store: Store, posts: str, now: datetime, accounts: tuple[str, ...] = ("alpha",)
) -> None:
    sync_plan(load_project(write_project(tmp_path, posts, accounts)), store, now)


def rows_of(store: Store, entry: str) -> list[Publication]:
    return [p for p in store.publications() if p.entry == entry]


def test_a_new_every_entry_starts_now_without_a_burst_of_past_occurrences(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    posts = """\
    - id: tick
      content: hello
      to: [alpha, beta]
      every: 10m
      start: 2026-01-01 00:00
    """
    sync(tmp_path, store, posts, T0, ("alpha", "beta"))
    rows = rows_of(store, "tick")
    assert min(utc(p.due_at) for p in rows) == datetime(2026, 3, 1, 12, 10, tzinfo=UTC)
    assert all(utc(p.due_at) >= T0 for p in rows)
    assert len(rows) == 2 * 144  # 24 h ahead, every 10 minutes, two accounts
    project = load_project(tmp_path / "schedule.yaml")
    assert Publisher(store, project, clock=FakeClock(T0)).run_due() == []
    assert platform.calls == []


def test_a_past_one_off_within_grace_is_published(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    posts = """\
    - id: once
      content: hello
      to: [alpha]
      at: 2026-03-01 11:30
      grace: 1h
    """
    sync(tmp_path, store, posts, T0)
    project = load_project(tmp_path / "schedule.yaml")
    (outcome,) = Publisher(store, project, clock=FakeClock(T0)).run_due()
    assert outcome.status == "published"
    (row,) = rows_of(store, "once")
    assert (row.status, row.occurrence) == ("published", "2026-03-01T11:30")
    assert len(platform.calls) == 1


def test_a_past_one_off_beyond_grace_is_recorded_missed(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    posts = """\
    - id: once
      content: hello
      to: [alpha]
      at: 2026-03-01 10:00
      grace: 1h
    """
    sync(tmp_path, store, posts, T0)
    project = load_project(tmp_path / "schedule.yaml")
    (outcome,) = Publisher(store, project, clock=FakeClock(T0)).run_due()
    assert outcome.status == "missed"
    (row,) = rows_of(store, "once")
    assert row.status == "missed"
    assert "grace" in (row.error or "")
    assert platform.calls == []


def test_removing_an_entry_cancels_its_planned_rows_but_keeps_published_ones(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daily = textwrap.dedent("""\
    - id: daily
      content: hello
      to: [alpha]
      cron: "0 */6 * * *"
    """)
    other = textwrap.dedent("""\
    - id: other
      content: other
      to: [alpha]
      at: 2026-03-01 20:00
    """)
    now = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
    sync(tmp_path, store, daily + other, now - timedelta(minutes=2))
    project = load_project(tmp_path / "schedule.yaml")
    assert [o.status for o in Publisher(store, project, clock=FakeClock(now)).run_due()] == [
        "published"
    ]
    sync(tmp_path, store, other, now + timedelta(minutes=5))
    by_occurrence = {p.occurrence: p for p in rows_of(store, "daily")}
    assert by_occurrence["2026-03-01T12:00"].status == "published"
    later = by_occurrence["2026-03-01T18:00"]
    assert later.status == "cancelled"  # kept, with why
    assert "removed" in (later.error or "")
    assert [p.status for p in rows_of(store, "other")] == ["planned"]


def test_moving_a_time_cancels_the_old_row_and_adds_the_new(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    posts = """\
    - id: talk
      content: hello
      to: [alpha]
      at: 2026-03-02 09:00
    """
    sync(tmp_path, store, posts, T0)
    sync(tmp_path, store, posts.replace("09:00", "10:30"), T0 + timedelta(minutes=1))
    rows = {p.occurrence: p.status for p in rows_of(store, "talk")}
    assert rows == {"2026-03-02T09:00": "cancelled", "2026-03-02T10:30": "planned"}


def test_removing_an_account_from_an_entry_cancels_only_its_rows(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    posts = """\
    - id: talk
      content: hello
      to: [alpha, beta]
      at: 2026-03-02 09:00
    """
    sync(tmp_path, store, posts, T0, ("alpha", "beta"))
    sync(tmp_path, store, posts.replace("[alpha, beta]", "[alpha]"), T0, ("alpha", "beta"))
    assert {p.account: p.status for p in rows_of(store, "talk")} == {
        "alpha": "planned",
        "beta": "cancelled",
    }


def test_syncing_twice_changes_nothing(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    posts = """\
    - id: tick
      content: hello
      to: [alpha]
      every: 1h
    """
    sync(tmp_path, store, posts, T0)
    before = [(p.id, p.occurrence, p.status) for p in store.publications()]
    project = load_project(tmp_path / "schedule.yaml")
    report = sync_plan(project, store, T0 + timedelta(seconds=30))
    assert report.cancelled == 0
    assert [(p.id, p.occurrence, p.status) for p in store.publications()] == before


def test_moving_a_time_back_restores_what_sync_cancelled_but_not_what_a_person_did(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    from crosspost.status import Status
    from crosspost.store.records import Ended

    posts = """\
    - id: talk
      content: hello
      to: [alpha, beta]
      at: 2026-03-02 09:00
    """
    accounts = ("alpha", "beta")
    sync(tmp_path, store, posts, T0, accounts)
    by_hand = store.find("talk", "2026-03-02T09:00", "beta")
    assert by_hand is not None and by_hand.id is not None
    store.resolve(by_hand.id, T0, Ended(Status.CANCELLED, "skipped by hand"))
    sync(tmp_path, store, posts.replace("09:00", "10:30"), T0 + timedelta(minutes=1), accounts)
    sync(tmp_path, store, posts, T0 + timedelta(minutes=2), accounts)  # moved back
    rows = {(p.occurrence, p.account): p.status for p in rows_of(store, "talk")}
    assert rows == {
        ("2026-03-02T09:00", "alpha"): "planned",  # sync cancelled it: planned again
        ("2026-03-02T09:00", "beta"): "cancelled",  # a person's decision stands
        ("2026-03-02T10:30", "alpha"): "cancelled",
        ("2026-03-02T10:30", "beta"): "cancelled",
    }
