"""A daemon that starts on a planned store plans what changed while it was down.

Each sync stores the definitions of the entries it planned (r020); a start syncs the
entries whose definition differs and only extends the others, and an extension
computes only the occurrences past where each entry was planned.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from crosspost.planning import sync as sync_module
from crosspost.planning.plan import occurrences
from crosspost.planning.sync import LEFT
from crosspost.publishing.daemon import Daemon
from crosspost.status import Status
from crosspost.store import PlannedRow, Store
from crosspost.store.planning import plan_rows
from crosspost.store.sessions import utc
from tests.fakes import FakeClock, FakePlatform, write_project
from tests.test_daemon_planning import POSTS, synced_entries

T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)


def started(tmp_path: Path, store: Store, posts: str = POSTS, at: datetime = T0) -> Daemon:
    """A daemon on ``posts`` after its first round (a start, on this store)."""
    daemon = Daemon(write_project(tmp_path, posts), store, clock=FakeClock(at))
    daemon.tick()
    return daemon


def test_a_restart_with_nothing_changed_syncs_no_entry(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(tmp_path, store)
    calls = synced_entries(monkeypatch)
    before = len(store.publications())
    started(tmp_path, store, at=T0 + timedelta(minutes=5))
    assert calls == []
    assert len(store.publications()) == before + 0  # 5 min later: nothing new in 24 h of hourly


def test_an_entry_changed_while_down_is_the_only_one_synced(
    tmp_path: Path, each_store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = each_store
    started(tmp_path, store)
    calls = synced_entries(monkeypatch)
    started(tmp_path, store, POSTS.replace("every: 1h", "every: 2h"), T0 + timedelta(minutes=5))
    assert calls == [{"hourly"}]
    hourly = [p for p in store.publications([Status.PLANNED]) if p.entry == "hourly"]
    assert len(hourly) == 12  # re-planned: 24 h ahead, every 2 h
    assert {p.entry for p in store.publications([Status.CANCELLED])} == {"hourly"}


def test_an_entry_removed_while_down_is_cancelled_once(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(tmp_path, store)
    calls = synced_entries(monkeypatch)
    without_daily = POSTS[: POSTS.index("- id: daily")]
    started(tmp_path, store, without_daily, T0 + timedelta(minutes=5))
    assert calls == [{"daily"}]
    assert {p.entry for p in store.publications([Status.PLANNED])} == {"hourly"}
    assert store.entry_states()["daily"].definition == LEFT
    started(tmp_path, store, without_daily, T0 + timedelta(minutes=10))
    assert calls == [{"daily"}]  # not again at the next start


def test_a_store_planned_before_definitions_were_kept_is_synced_whole(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(tmp_path, store)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE entry_state SET definition = NULL"))
    calls = synced_entries(monkeypatch)
    started(tmp_path, store, at=T0 + timedelta(minutes=5))
    assert calls == [None]
    assert all(state.definition for state in store.entry_states().values())


def test_an_extension_computes_only_what_lies_past_the_planned_horizon(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = started(tmp_path, store)
    windows: list[tuple[datetime, datetime]] = []

    def spy(post: Any, zone: Any, start: datetime, end: datetime, cap: int) -> Any:
        windows.append((start, end))
        return occurrences(post, zone, start, end, cap)

    monkeypatch.setattr(sync_module, "occurrences", spy)
    daemon.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    daemon.tick()
    planned_until = T0 + timedelta(hours=24)
    # from just before where planning stopped (the DST look-back), not from now
    assert windows and all(start == planned_until - timedelta(hours=3) for start, _ in windows)
    assert all(end == T0 + timedelta(hours=25) for _, end in windows)


def test_the_per_entry_plan_read_uses_the_entry_index(store: Store) -> None:
    rows = [
        PlannedRow(
            f"e{n}", f"o{k}", "alpha", "hello", T0 + timedelta(hours=k), T0 + timedelta(days=9)
        )
        for n in range(40)
        for k in range(25)
    ]
    store.add_planned(rows, T0)
    captured: list[str] = []

    def explain(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "publication" in statement:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            captured.extend(str(row) for row in plan)

    from sqlalchemy import event

    event.listen(store.engine, "before_cursor_execute", explain)
    try:
        plan_rows(store, T0, ["e1", "e2"])
    finally:
        event.remove(store.engine, "before_cursor_execute", explain)
    # found by entry, not by a range of ix_publication_due over every planned row
    searches = [row for row in captured if "SEARCH publication" in row]
    assert searches and all(
        "USING INDEX ix_publication_entry_status (entry=?" in row for row in searches
    ), captured


def test_a_start_extends_what_is_planned_less_than_an_extension_ahead_then_the_rest(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    started(tmp_path, store)  # both entries planned 24 h ahead of T0
    store.engine.dispose()
    with store.engine.begin() as connection:  # daily as if last extended 23.5 h ago
        connection.execute(
            text("UPDATE entry_state SET planned_until = :until WHERE entry = 'daily'"),
            {"until": (T0 + timedelta(minutes=30)).replace(tzinfo=None)},
        )
    later = T0 + timedelta(minutes=5)
    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=FakeClock(later))
    daemon.resume()
    states = store.entry_states()
    assert states["daily"].planned_until == later + daemon.horizon  # within the hour: now
    assert states["hourly"].planned_until == T0 + daemon.horizon  # the rest waits for a round
    daemon.tick()  # hands out what is due, then extends the rest
    assert store.entry_states()["hourly"].planned_until == later + daemon.horizon


def test_a_start_that_synced_every_entry_leaves_nothing_to_extend(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=FakeClock(T0))
    assert daemon.resume().deferred is False  # a new store: every entry synced to the horizon
    assert daemon._extend_the_rest is False


ENDED = """\
- id: once
  content: hello
  to: [alpha]
  at: "2026-03-01 14:00"
- id: ended
  content: hello
  to: [alpha]
  every: 1h
  until: "2026-03-01 18:00"
- id: hourly
  content: other
  to: [beta]
  every: 1h
"""


def test_an_extension_leaves_alone_what_is_planned_to_its_end(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = started(tmp_path, store, ENDED)  # all planned to T0 + 24 h: past both ends
    looked_at: list[str] = []

    def spy(post: Any, zone: Any, start: datetime, end: datetime, cap: int) -> Any:
        looked_at.append(post.id)
        return occurrences(post, zone, start, end, cap)

    monkeypatch.setattr(sync_module, "occurrences", spy)
    before = store.entry_states()
    daemon.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    daemon.tick()
    assert looked_at == ["hourly"]
    after = store.entry_states()
    assert after["once"].planned_until == before["once"].planned_until
    assert after["hourly"].planned_until == T0 + timedelta(hours=25)
    # and the one-off and the ended repeat still have every row they had
    rows = {(p.entry, p.occurrence) for p in store.publications()}
    assert sum(entry == "ended" for entry, _ in rows) == 6  # 12:00 (past) excluded, 13:00-18:00
    assert sum(entry == "once" for entry, _ in rows) == 1


def test_an_entry_planned_short_of_its_end_is_extended(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    horizon = timedelta(hours=3)  # T0 + 3 h: short of the repeat's 18:00
    daemon = Daemon(write_project(tmp_path, ENDED), store, clock=FakeClock(T0), horizon=horizon)
    daemon.tick()
    daemon.clock.advance(timedelta(hours=5))  # type: ignore[attr-defined]
    daemon.tick()
    due = sorted(utc(p.due_at).hour for p in store.publications() if p.entry == "ended")
    assert due == [13, 14, 15, 16, 17, 18]
