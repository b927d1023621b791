"""The daemon plans what changed: unchanged entries are not re-synced, the horizon
moves with the clock, and it sleeps until the next due row (within ``tick``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crosspost.loading.project import load_project
from crosspost.planning import sync as sync_module
from crosspost.publishing import daemon as daemon_module
from crosspost.publishing.daemon import Daemon
from crosspost.store import Store
from tests.fakes import FakeClock, FakePlatform, edit, settled_reload, write_project

T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
POSTS = """\
- id: hourly
  content: hello
  to: [alpha]
  every: 1h
- id: daily
  content: other
  to: [beta]
  cron: "0 9 * * *"
"""


def synced_entries(monkeypatch: pytest.MonkeyPatch) -> list[set[str] | None]:
    """Record which entries each targeted ``sync_plan`` call of the daemon covers."""
    calls: list[set[str] | None] = []
    real = daemon_module.sync_plan

    def spy(*args: Any, **kwargs: Any) -> Any:
        entries = args[4] if len(args) > 4 else kwargs.get("entries")
        calls.append(None if entries is None else set(entries))
        return real(*args, **kwargs)

    monkeypatch.setattr(daemon_module, "sync_plan", spy)
    monkeypatch.setattr(sync_module, "sync_plan", spy)  # what resume_plan calls at start
    return calls


def started_then_edited(tmp_path: Path, store: Store, old: str, new: str) -> None:
    """Start a daemon on POSTS, then save ``old`` replaced by ``new`` and let it reload."""
    clock = FakeClock(T0)
    path = write_project(tmp_path, POSTS)
    daemon = Daemon(path, store, clock=clock)
    daemon.tick()
    edit(path, path.read_text(encoding="utf-8").replace(old, new))
    assert settled_reload(daemon, clock)


def test_rounds_without_changes_sync_nothing_again(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = synced_entries(monkeypatch)
    clock = FakeClock(T0)
    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=clock)
    daemon.tick()
    for _ in range(20):  # 20 minutes of rounds, less than an extension step
        clock.advance(timedelta(minutes=1))
        daemon.tick()
    assert calls == [None]  # the whole plan once, at start


def test_a_changed_entry_is_synced_alone(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = synced_entries(monkeypatch)
    started_then_edited(tmp_path, store, "every: 1h", "every: 2h")
    assert calls == [None, {"hourly"}]
    hourly = [p for p in store.publications(["planned"]) if p.entry == "hourly"]
    assert len(hourly) == 12  # 24 h ahead, every 2 h
    assert [p.entry for p in store.publications(["cancelled"])] == ["hourly"] * 12


def test_a_removed_entry_is_synced_and_its_rows_cancelled(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = synced_entries(monkeypatch)
    started_then_edited(tmp_path, store, "- id: daily", "- id: daily2")
    assert calls == [None, {"daily", "daily2"}]
    assert {p.entry for p in store.publications(["cancelled"])} == {"daily"}
    assert {p.entry for p in store.publications(["planned"])} == {"hourly", "daily2"}


def test_the_horizon_extends_as_the_clock_advances(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    clock = FakeClock(T0)
    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=clock, horizon=timedelta(hours=24))
    daemon.tick()
    last = max(_utc(p.due_at) for p in store.publications() if p.entry == "hourly")
    assert last == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    clock.advance(timedelta(hours=3))  # three extension steps of an hour
    daemon.tick()
    last = max(_utc(p.due_at) for p in store.publications() if p.entry == "hourly")
    assert last == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert daemon._extended_at == clock.now


def test_the_wait_is_until_the_next_due_row_within_tick(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    clock = FakeClock(T0)
    tick = timedelta(seconds=30)
    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=clock, tick=tick)
    daemon.tick()
    clock.set(datetime(2026, 3, 1, 12, 59, 50, tzinfo=UTC))
    assert daemon.wait_time() == timedelta(seconds=10)  # hourly is due at 13:00
    clock.set(datetime(2026, 3, 1, 12, 30, tzinfo=UTC))
    assert daemon.wait_time() == tick  # nothing due sooner: look at the files again


def test_the_wait_never_passes_the_next_extension(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    clock = FakeClock(T0)
    posts = '- id: yearly\n  content: hello\n  to: [alpha]\n  cron: "0 9 1 1 *"\n'
    daemon = Daemon(
        write_project(tmp_path, posts),
        store,
        clock=clock,
        tick=timedelta(hours=5),
        horizon=timedelta(hours=24),
    )
    daemon.tick()
    assert daemon.wait_time() == timedelta(hours=1)


def test_a_given_project_is_not_loaded_again(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_project(tmp_path, POSTS)
    project = load_project(path)
    monkeypatch.setattr(daemon_module, "load_project", _refuse)
    daemon = Daemon(path, store, clock=FakeClock(T0), project=project)
    assert daemon.project is project


def test_project_post_finds_every_entry_by_id(tmp_path: Path, platform: FakePlatform) -> None:
    posts = "".join(
        f"- id: e{n}\n  content: hello\n  to: [alpha]\n  every: {n + 1}h\n" for n in range(50)
    )
    project = load_project(write_project(tmp_path, posts))
    assert all(project.post(f"e{n}") is project.schedule.posts[n] for n in range(50))
    assert project.post("missing") is None


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the project was loaded a second time")


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
