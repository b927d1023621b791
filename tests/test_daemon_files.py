"""The daemon wakes for a file change and, between changes, does not walk the files.

A :class:`~crosspost.publishing.watch.FileWatcher` watches the project's folders on a thread of
its own; a round walks the files only when it saw something, while a change settles,
or every ``BACKSTOP``. The waits below are bounds on a real thread, never timings.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crosspost.publishing import daemon as daemon_module
from crosspost.publishing.daemon import Daemon
from crosspost.publishing.watch import BACKSTOP, FileWatcher, _Within, stamps_of
from crosspost.store import Store
from tests.fakes import FakeClock, FakePlatform, write_project
from tests.test_daemon_planning import POSTS

T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
#: How long a test waits for a file event before it gives up (a bound, not a timing).
BOUND = 20.0


def save(path: Path, text: str) -> None:
    """Save as many editors do: write a new file, then rename it over the old one."""
    spare = path.with_name(f".{path.name}.tmp")
    spare.write_text(text, encoding="utf-8")
    os.replace(spare, path)


def seen(change: threading.Event, action: Callable[[], object]) -> bool:
    """Do ``action`` until ``change`` is set (the watcher may not be armed yet the first time)."""
    for _ in range(int(BOUND)):
        action()
        if change.wait(1.0):
            return True
    return False


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[FileWatcher, threading.Event]]:
    """A watcher on the project's schedule and content folder, and the event it sets."""
    write_project(tmp_path, POSTS)
    (tmp_path / "content").mkdir()
    change = threading.Event()
    watcher = FileWatcher(lambda: [tmp_path / "schedule.yaml", tmp_path / "content"], change.set)
    assert watcher.start()
    yield watcher, change
    watcher.stop()


def write_in_place(path: Path, text: str) -> None:
    """Save as other editors do: write the file itself (closing it is what inotify sees)."""
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("write", [save, write_in_place], ids=["by rename", "in place"])
def test_each_save_is_seen(
    tmp_path: Path, watched: tuple[FileWatcher, threading.Event], write: Callable[..., None]
) -> None:
    _watcher, change = watched
    schedule = tmp_path / "schedule.yaml"
    text = schedule.read_text(encoding="utf-8")
    assert seen(change, lambda: write(schedule, text + "\n"))
    change.clear()  # by rename, a watch on the file itself would now look at the old one
    assert seen(change, lambda: write(schedule, text + "\n\n"))


def test_a_file_in_a_new_content_folder_is_seen(
    tmp_path: Path, watched: tuple[FileWatcher, threading.Event]
) -> None:
    _watcher, change = watched
    folders: list[Path] = []

    def new_folder() -> None:
        folders.append(tmp_path / "content" / f"f{len(folders)}")
        folders[-1].mkdir()

    assert seen(change, new_folder)
    change.clear()
    post = folders[-1] / "launch.md"
    assert seen(change, lambda: post.write_text(f"{post.exists()}\n", encoding="utf-8"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify's close events")
def test_writes_to_a_file_held_open_beside_the_schedule_wake_nothing(
    tmp_path: Path, watched: tuple[FileWatcher, threading.Event]
) -> None:
    """The store's SQLite file and journal sit beside schedule.yaml by default and are
    written while held open: the system does not even hand those writes to the watcher."""
    watcher, change = watched
    assert _armed(watcher, tmp_path / "probe")
    with (tmp_path / "crosspost.db-wal").open("wb", buffering=0) as journal:
        before = _once_quiet(watcher)  # its creation is an event
        for n in range(200):
            journal.write(b"page %d\n" % n)
        assert not change.wait(1.0)  # a bound: the events would come within milliseconds
        assert watcher.events == before
    assert _wait_for(lambda: watcher.events > before, BOUND)  # closed after writing: seen
    assert not change.is_set()  # and not a project file


def test_only_the_project_files_count(tmp_path: Path) -> None:
    within = _Within([tmp_path / "schedule.yaml", tmp_path / "content"])
    base = tmp_path.resolve()
    assert within(str(base / "schedule.yaml"))
    assert within(str(base / "content" / "a" / "b.md"))
    assert not within(str(base / "crosspost.db-wal"))  # the store writes every round
    assert not within(str(base / ".schedule.yaml.tmp"))


def test_a_stop_ends_the_thread_while_nothing_changes(
    watched: tuple[FileWatcher, threading.Event],
) -> None:
    watcher, _change = watched
    assert watcher.running
    watcher.stop()
    assert _wait_for(lambda: not watcher.running, BOUND)


def test_rounds_walk_the_files_only_after_a_change_or_the_backstop(
    tmp_path: Path, store: Store, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(T0)
    path = write_project(tmp_path, POSTS)
    daemon = Daemon(path, store, clock=clock, settle=timedelta(seconds=2))
    walks = _count_walks(monkeypatch)
    change = threading.Event()
    watcher = FileWatcher(daemon._watched, change.set)
    assert watcher.start()
    daemon._files.watcher = watcher
    try:
        daemon.tick()  # the first round walks: nothing was walked yet
        for _ in range(5):
            clock.advance(timedelta(seconds=5))
            daemon.tick()
        assert len(walks) == 1
        clock.advance(BACKSTOP)
        daemon.tick()
        assert len(walks) == 2
        text = path.read_text(encoding="utf-8")
        assert seen(change, lambda: save(path, text.replace("every: 1h", "every: 2h")))
        # seen while a round ran (its wake-up then overwritten): the next one is not put off
        assert daemon.wait_time() == timedelta(0)
        daemon.tick()  # walks, sees the change, lets it settle
        assert len(walks) == 3
        assert daemon.wait_time() <= daemon.settle  # not a whole tick: back when it settled
        clock.advance(daemon.settle)
        assert daemon.reload_if_changed()
    finally:
        watcher.stop()
    assert "every: 2h" in daemon.project.path.read_text(encoding="utf-8")
    assert daemon.project.post("hourly").every == timedelta(hours=2)  # type: ignore[union-attr]


def test_a_store_in_the_content_folder_is_not_a_change(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    """``content_dir: .`` with the store beside the schedule (its default place): only the
    Markdown files the loader reads count, so the store's writes never leave a change
    pending (which made every round walk the whole folder again)."""
    path = write_project(tmp_path, POSTS)
    path.write_text("content_dir: .\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    clock = FakeClock(T0)
    daemon = Daemon(path, store, clock=clock, settle=timedelta(seconds=2))
    for _ in range(3):  # each round writes the store: the plan, a heartbeat
        daemon.tick()
        assert daemon._files.pending is None
        clock.advance(timedelta(seconds=5))
    post = tmp_path / "notes" / "launch.md"
    post.parent.mkdir()
    post.write_text("---\nid: launch\n---\nWe launch.\n", encoding="utf-8")
    daemon.tick()
    assert daemon._files.pending is not None  # a content file is a change
    clock.advance(daemon.settle)
    assert daemon.reload_if_changed()
    assert "launch" in daemon.project.content


def test_a_running_daemon_reloads_on_a_save_long_before_its_tick(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write_project(tmp_path, POSTS)
    daemon = Daemon(
        path,
        store,
        tick=timedelta(hours=1),
        settle=timedelta(0),
        collect_every=None,
        feeds_every=timedelta(hours=1),
    )
    first = daemon.project
    text = path.read_text(encoding="utf-8")
    outcome: dict[str, bool] = {}

    def edit_then_stop() -> None:
        reloaded = threading.Event()
        # after the first round has looked at the files: only a file event can wake it now
        _wait_for(lambda: daemon._definitions is not None and not daemon._lock.locked(), BOUND)
        for n in range(int(BOUND)):
            save(path, text.replace("every: 1h", f"every: {n + 2}h"))
            if _wait_for(lambda: daemon.project is not first, 1.0):
                reloaded.set()
                break
        outcome["reloaded"] = reloaded.is_set()
        daemon.stop()

    helper = threading.Thread(target=edit_then_stop)
    helper.start()
    daemon.run_forever()  # the main thread: it sets signal handlers
    helper.join()
    assert outcome["reloaded"]


def _armed(watcher: FileWatcher, probe: Path) -> bool:
    """Write ``probe`` until the watcher sees an event (it arms on its own thread)."""
    for _ in range(int(BOUND)):
        probe.write_bytes(b"")
        if _wait_for(lambda: watcher.events > 0, 1.0):
            return True
    return False


def _once_quiet(watcher: FileWatcher) -> int:
    """The watcher's count of events once none came for 0.3 s (bounded)."""
    for _ in range(int(BOUND / 0.3)):
        count = watcher.events
        threading.Event().wait(0.3)
        if watcher.events == count:
            return count
    return watcher.events


def _count_walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    walks: list[int] = []

    def spy(paths: Any) -> Any:
        walks.append(1)
        return stamps_of(paths)

    monkeypatch.setattr(daemon_module, "stamps_of", spy)
    return walks


def _wait_for(condition: Callable[[], bool], bound: float) -> bool:
    done = threading.Event()
    for _ in range(int(bound * 20)):
        if condition():
            return True
        done.wait(0.05)
    return condition()
