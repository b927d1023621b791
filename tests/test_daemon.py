"""The daemon: once means once, restarts never republish, broken edits keep the last good plan."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crosspost.cli.health import daemons_health
from crosspost.publishing.daemon import Daemon
from crosspost.store import Store
from tests.fakes import FakeClock, FakePlatform, edit, settled_reload, write_project

T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
POSTS = """\
- id: welcome
  content: hello
  to: [alpha, beta]
  at: 2026-03-01 11:30
- id: tick
  content: other
  to: [alpha]
  every: 5m
  missed: skip
"""


def published(store: Store) -> list[tuple[str, str]]:
    return sorted((p.entry, p.account) for p in store.publications(["published"]))


def test_run_once_twice_publishes_nothing_the_second_time(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=FakeClock(T0))
    first = daemon.run_once()
    assert sorted((o.entry, o.account, o.status) for o in first) == [
        ("welcome", "alpha", "published"),
        ("welcome", "beta", "published"),
    ]
    assert daemon.run_once() == []
    assert len(platform.calls) == 2
    assert published(store) == [("welcome", "alpha"), ("welcome", "beta")]
    assert store.last_heartbeat() is not None


def test_a_restart_never_republishes(tmp_path: Path, store: Store, platform: FakePlatform) -> None:
    path = write_project(tmp_path, POSTS)
    clock = FakeClock(T0)
    Daemon(path, store, clock=clock).run_once()
    clock.advance(timedelta(minutes=5))  # tick 12:05 is due now
    restarted = Daemon(path, store, clock=clock)
    assert [(o.entry, o.status) for o in restarted.run_once()] == [("tick", "published")]
    again = Daemon(path, Store(store.url), clock=clock)  # a third process, new connection
    assert again.run_once() == []
    assert [c.account for c in platform.calls].count("beta") == 1
    assert len(platform.calls) == 3


def test_a_broken_edit_keeps_the_last_good_project(
    tmp_path: Path, store: Store, platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_project(tmp_path, POSTS)
    clock = FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    daemon.run_once()
    good = path.read_text(encoding="utf-8")
    edit(path, good.replace("  every: 5m", "  every: [5m\n"))  # YAML syntax error
    with caplog.at_level(logging.ERROR, logger="crosspost.publishing.daemon"):
        assert settled_reload(daemon, clock) is False
    assert "last good plan keeps running" in caplog.text
    assert "schedule.yaml:" in caplog.text  # the problem names the file and line
    clock.advance(timedelta(minutes=5))
    outcomes = daemon.tick()
    assert [(o.entry, o.status) for o in outcomes] == [("tick", "published")]
    assert daemon.reload_if_changed() is False  # same broken file: not re-reported


def test_a_good_edit_is_picked_up(tmp_path: Path, store: Store, platform: FakePlatform) -> None:
    path = write_project(tmp_path, POSTS)
    clock = FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    daemon.run_once()
    edit(
        path,
        path.read_text(encoding="utf-8")
        + ("  - id: news\n    content: other\n    to: [beta]\n    at: 2026-03-01 12:01\n"),
    )
    assert settled_reload(daemon, clock) is True
    assert daemon.project.post("news") is not None
    clock.advance(timedelta(minutes=1))
    outcomes = daemon.tick()
    assert [(o.entry, o.account, o.status) for o in outcomes] == [("news", "beta", "published")]


def test_a_broken_then_fixed_edit_is_picked_up(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write_project(tmp_path, POSTS)
    clock = FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    good = path.read_text(encoding="utf-8")
    edit(path, good.replace("to: [beta]", "to: [nobody]") + "  - id: x\n    content: nope\n")
    assert settled_reload(daemon, clock) is False
    edit(path, good.replace("every: 5m", "every: 10m"))
    assert settled_reload(daemon, clock) is True
    tick = daemon.project.post("tick")
    assert tick is not None and tick.every == timedelta(minutes=10)


def test_stop_during_a_run_finishes_the_current_post_and_hands_back_the_rest(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    posts = "".join(
        f"- id: p{n}\n  content: hello\n  to: [alpha]\n  at: 2026-03-01 11:5{n}\n" for n in range(4)
    )
    daemon = Daemon(write_project(tmp_path, posts, ("alpha",)), store, clock=FakeClock(T0))
    platform.script("alpha", daemon.stop)  # SIGTERM arrives while the first post is sent
    outcomes = daemon.run_once()
    assert [(o.entry, o.status) for o in outcomes] == [("p0", "published")]  # rest not claimed
    assert len(platform.calls) == 1
    rows = {p.entry: p for p in store.publications()}
    assert rows["p0"].status == "published" and rows["p0"].remote_id
    for entry in ("p1", "p2", "p3"):
        assert rows[entry].status == "planned"
        assert rows[entry].attempts == 0
        assert rows[entry].claimed_by is None
    # the next daemon picks them up
    assert len(Daemon(tmp_path / "schedule.yaml", store, clock=FakeClock(T0)).run_once()) == 3
    assert len(platform.calls) == 4


def test_a_round_ending_as_a_signal_shuts_the_timer_down_moves_nothing(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    """The signal's thread may shut the timer down (its jobs gone) between the round's
    look at it and the move of the next round: that is a stop, not a traceback."""
    from apscheduler.schedulers.background import BackgroundScheduler

    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=FakeClock(T0))
    timer = BackgroundScheduler(timezone=UTC)
    timer.start()  # running, but its "tick" job is already gone
    daemon._scheduler = timer
    try:
        daemon._safe_round()  # would raise JobLookupError
        daemon._wake()
    finally:
        timer.shutdown(wait=False)


def test_a_daemon_reads_as_stopped_as_soon_as_it_stops(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    """``status`` and ``health`` must not call a daemon alive for minutes after Ctrl-C."""
    path = write_project(tmp_path, POSTS)
    daemon = Daemon(path, store, clock=FakeClock(T0), tick=timedelta(milliseconds=50))
    seen_alive: list[bool] = []

    def stop_once_alive() -> None:
        for _ in range(400):  # a bound, not a timing
            beat = store.last_heartbeat()
            if beat is not None:
                seen_alive.append(daemons_health(store, T0, timedelta(minutes=2)).ok)
                break
            threading.Event().wait(0.05)
        daemon.stop()

    helper = threading.Thread(target=stop_once_alive)
    helper.start()
    daemon.run_forever()  # the main thread: it sets signal handlers
    helper.join()
    assert seen_alive == [True]
    state = daemons_health(store, T0, timedelta(minutes=2))
    assert not state.ok and state.describe().startswith("daemon stopped (")
    Daemon(path, store, clock=FakeClock(T0)).run_once()  # --once stops as it returns
    assert daemons_health(store, T0, timedelta(minutes=2)).describe().startswith("daemon stopped")


def test_after_first_dispatch_runs_once_when_what_is_due_is_handed_out(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=FakeClock(T0))
    still_planned: list[list[str]] = []

    def look() -> None:
        rows = store.publications(["planned"])
        still_planned.append([p.account for p in rows if p.entry == "welcome"])

    daemon.after_first_dispatch = look
    daemon.tick()
    daemon.tick()
    assert still_planned == [[]]  # once, with both accounts' due post claimed already
    assert published(store) == [("welcome", "alpha"), ("welcome", "beta")]


def test_a_failing_after_first_dispatch_leaves_publishing_alone(
    tmp_path: Path, store: Store, platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    daemon = Daemon(write_project(tmp_path, POSTS), store, clock=FakeClock(T0))

    def broken() -> None:
        raise RuntimeError("no banner today")

    daemon.after_first_dispatch = broken
    with caplog.at_level(logging.ERROR):
        daemon.tick()
    assert published(store) == [("welcome", "alpha"), ("welcome", "beta")]
    assert "after the first dispatch" in caplog.text
    assert daemon.after_first_dispatch is None
