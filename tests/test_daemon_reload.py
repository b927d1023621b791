"""A running daemon and the files under it: bad saves keep the last good plan, accounts don't wait.

Each test is one of the daemon items of issue 16: an empty or truncated save,
an entry removed and restored, a broken template, a schedule the loader
refuses, a slow account, and a stop while a publication hangs (a subprocess).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crosspost.publishing.daemon import Daemon
from crosspost.publishing.outcome import idempotency_key
from crosspost.status import Status
from crosspost.store import Ended, Store
from tests.fakes import FakeClock, FakePlatform, edit, settled_reload, write_project

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
#: Two entries with posts ahead: the plan a bad save must not cancel.
POSTS = """\
- id: welcome
  content: hello
  to: [alpha, beta]
  at: 2026-03-01 13:00
- id: tick
  content: other
  to: [alpha]
  every: 30m
"""


def statuses(store: Store) -> dict[tuple[str, str, str], str]:
    return {(p.entry, p.occurrence, p.account): p.status for p in store.publications()}


def started(tmp_path: Path, store: Store, posts: str = POSTS) -> tuple[Daemon, FakeClock, Path]:
    path = write_project(tmp_path, posts)
    clock = FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    daemon.tick()
    assert Status.PLANNED.value in statuses(store).values()
    return daemon, clock, path


# --------------------------------------------------------------------------- bad saves


def test_an_empty_save_cancels_nothing(
    tmp_path: Path, store: Store, platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    daemon, clock, path = started(tmp_path, store)
    before = statuses(store)
    edit(path, "")
    with caplog.at_level(logging.ERROR, logger="crosspost.publishing.daemon"):
        assert settled_reload(daemon, clock) is False
    (record,) = [r for r in caplog.records if "not reloaded" in r.getMessage()]
    assert "schedule.yaml:1:1: the schedule is empty" in record.getMessage()
    assert "last good plan keeps running" in record.getMessage()
    clock.advance(timedelta(minutes=1))
    daemon.tick()  # syncs with the last good project
    assert statuses(store) == before


def test_a_truncated_save_is_applied_only_once_it_is_finished(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daemon, clock, path = started(tmp_path, store)
    before = statuses(store)
    full = path.read_text(encoding="utf-8")
    edit(path, full[: full.index("- id: tick")])  # valid YAML, one entry short
    assert daemon.reload_if_changed() is False  # still being written
    clock.advance(timedelta(seconds=1))
    daemon.tick()
    edit(path, full)  # the editor finished the save
    assert daemon.reload_if_changed() is False  # changed again: the wait starts over
    clock.advance(timedelta(seconds=1))
    daemon.tick()
    assert statuses(store) == before  # nothing cancelled while the file was moving
    clock.advance(daemon.settle)
    assert daemon.reload_if_changed() is True
    daemon.tick()
    assert statuses(store) == before


def test_an_entry_removed_then_restored_is_planned_again(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daemon, clock, path = started(tmp_path, store)
    before = {p.id: p.status for p in store.publications()}
    full = path.read_text(encoding="utf-8")
    edit(path, full[: full.index("- id: tick")])
    assert settled_reload(daemon, clock) is True
    daemon.tick()
    cancelled = [p for p in store.publications() if p.entry == "tick"]
    assert cancelled and {p.status for p in cancelled} == {"cancelled"}

    edit(path, full)
    assert settled_reload(daemon, clock) is True
    daemon.tick()
    assert {p.id: p.status for p in store.publications()} == before  # the same rows, planned


def test_a_row_cancelled_by_hand_stays_cancelled(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daemon, clock, _ = started(tmp_path, store)
    row = store.find("welcome", "2026-03-01T13:00", "beta")
    assert row is not None and row.id is not None
    store.resolve(row.id, clock(), Ended(Status.CANCELLED, "skipped by hand"))
    clock.advance(timedelta(minutes=1))
    daemon.tick()
    assert statuses(store)[("welcome", "2026-03-01T13:00", "beta")] == "cancelled"


def _latin1(good: bytes) -> bytes:
    return good.replace(b"posts:", b"# caf\xe9\nposts:")


def _infinite_interval(good: bytes) -> bytes:
    return good.replace(b"every: 30m", b"every: .inf")


@pytest.mark.parametrize("spoil", [_latin1, _infinite_interval], ids=["latin-1", "every-inf"])
def test_a_file_the_loader_refuses_is_one_logged_line(
    tmp_path: Path,
    store: Store,
    platform: FakePlatform,
    caplog: pytest.LogCaptureFixture,
    spoil: Callable[[bytes], bytes],
) -> None:
    daemon, clock, path = started(tmp_path, store)
    text = spoil(path.read_bytes())
    good = daemon.project
    edit(path, text)
    with caplog.at_level(logging.DEBUG, logger="crosspost.publishing.daemon"):
        assert settled_reload(daemon, clock) is False
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None  # no traceback
    assert "schedule.yaml" in errors[0].getMessage()
    assert "last good plan keeps running" in errors[0].getMessage()
    assert daemon.project is good
    clock.set(datetime(2026, 3, 1, 13, 0, 5, tzinfo=UTC))
    published = {(o.entry, o.account) for o in daemon.tick() if o.status == "published"}
    assert ("welcome", "beta") in published


# --------------------------------------------------------------------------- templates


ONE_POST = """\
- id: welcome
  content: hello
  to: [alpha]
  at: 2026-03-01 13:00
"""


@pytest.mark.parametrize(
    ("broken", "where"),
    [
        ("{% if %}\n", "templates/default.j2:1"),
        ("Now:\n{{ bodyy }}\n", "templates/default.j2:2"),
    ],
    ids=["syntax", "undefined"],
)
def test_a_broken_template_keeps_the_last_good_one_rendering(
    tmp_path: Path,
    store: Store,
    platform: FakePlatform,
    caplog: pytest.LogCaptureFixture,
    broken: str,
    where: str,
) -> None:
    template = tmp_path / "templates" / "default.j2"
    template.parent.mkdir()
    template.write_text("Before: {{ body }}\n", encoding="utf-8")
    daemon, clock, _ = started(tmp_path, store, ONE_POST)
    edit(template, broken)
    with caplog.at_level(logging.ERROR, logger="crosspost.publishing.daemon"):
        assert settled_reload(daemon, clock) is False
    (record,) = [r for r in caplog.records if "not reloaded" in r.getMessage()]
    assert where in record.getMessage()

    clock.set(datetime(2026, 3, 1, 13, 0, 5, tzinfo=UTC))
    assert [o.status for o in daemon.tick()] == ["published"]
    assert [c.text for c in platform.calls] == ["Before: Hello from the makerspace."]


def test_a_good_template_edit_is_rendered_after_the_reload(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    template = tmp_path / "templates" / "default.j2"
    template.parent.mkdir()
    template.write_text("Before: {{ body }}\n", encoding="utf-8")
    daemon, clock, _ = started(tmp_path, store, ONE_POST)
    edit(template, "After: {{ body }}\n")
    assert settled_reload(daemon, clock) is True
    clock.set(datetime(2026, 3, 1, 13, 0, 5, tzinfo=UTC))
    daemon.tick()
    assert [c.text for c in platform.calls] == ["After: Hello from the makerspace."]


# --------------------------------------------------------------------------- accounts in parallel


SLOW_AND_FAST = """\
- id: first
  content: hello
  to: [slow, fast]
  at: 2026-03-01 12:00
- id: second
  content: other
  to: [fast]
  at: 2026-03-01 12:05
"""


def wait_until(condition: Callable[[], bool], bound: float = 30.0) -> bool:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_a_hung_account_does_not_make_another_late(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write_project(tmp_path, SLOW_AND_FAST, ("slow", "fast"))
    clock = FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    release = threading.Event()
    platform.script("slow", lambda: release.wait(20))
    try:
        daemon.round()  # does not wait: "slow" hangs in its worker
        assert wait_until(lambda: len(platform.published("fast")) == 1)
        # fast's turn ends after its post: until then a round leaves fast to its worker,
        # which looked for a next post before the clock moved
        assert wait_until(lambda: daemon.dispatcher.busy == {"slow"})
        clock.set(datetime(2026, 3, 1, 12, 5, tzinfo=UTC))
        daemon.round()  # fast's next post goes out while slow still hangs
        assert wait_until(lambda: len(platform.published("fast")) == 2)
        assert not platform.published("slow")
        assert wait_until(lambda: daemon.dispatcher.busy == {"slow"})
        (hung,) = store.publications(["publishing"])
        assert hung.account == "slow" and hung.send_started_at is not None
    finally:
        release.set()
    assert daemon.dispatcher.wait(10)
    assert statuses(store)[("first", "2026-03-01T12:00", "slow")] == "published"


def test_an_account_publishes_its_posts_one_after_the_other_in_due_order(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    posts = "".join(
        f"- id: p{n}\n  content: hello\n  to: [alpha, beta]\n  at: 2026-03-01 11:5{n}\n"
        for n in range(5)
    )
    daemon = Daemon(write_project(tmp_path, posts), store, clock=FakeClock(T0))
    in_flight: dict[str, int] = {"alpha": 0, "beta": 0}
    most = dict(in_flight)
    lock = threading.Lock()

    def step(account: str) -> object:
        def run() -> None:
            with lock:
                in_flight[account] += 1
                most[account] = max(most[account], in_flight[account])
            time.sleep(0.01)
            with lock:
                in_flight[account] -= 1

        return run

    for account in in_flight:
        platform.script(account, *[step(account) for _ in range(5)])
    daemon.run_once()
    assert most == {"alpha": 1, "beta": 1}
    for account in in_flight:
        due_order = [idempotency_key(f"p{n}", f"2026-03-01T11:5{n}", account) for n in range(5)]
        assert [c.key for c in platform.published(account)] == due_order


def test_upcoming_says_how_many_are_planned_and_when_the_next_is_due(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daemon, _, _ = started(tmp_path, store)
    count, first = daemon.upcoming()
    assert count == len(store.publications(["planned"])) > 0
    assert first == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)  # the next `every: 30m`


# --------------------------------------------------------------------------- stopping


HUNG_DAEMON = """\
import sys
import threading
from datetime import timedelta
from pathlib import Path

from crosspost.loading import registry
from crosspost.publishing.daemon import Daemon
from crosspost.publishing.outcome import idempotency_key
from crosspost.store import Store
from tests import fakes

base = Path(sys.argv[1])
real = registry.load
registry.load = lambda name: fakes.FakeConnector if name == "fake" else real(name)


def hang() -> None:
    (base / "sending").write_text("yes")
    threading.Event().wait(120)  # a connector call that never returns (bounded for safety)


fakes.platform.script("alpha", hang)
daemon = Daemon(
    base / "schedule.yaml",
    Store(f"sqlite:///{base}/x.db"),
    tick=timedelta(milliseconds=200),
    collect_every=None,
    shutdown_grace=timedelta(seconds=3),
)
daemon.run_forever()
print("returned", flush=True)
"""


def test_sigterm_during_a_hung_publish_exits_within_the_bound(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    posts = f"- id: now\n  content: hello\n  to: [alpha, beta]\n  at: {now:%Y-%m-%d %H:%M:%S}\n"
    write_project(tmp_path, posts)
    script = tmp_path / "hung.py"
    script.write_text(textwrap.dedent(HUNG_DAEMON), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_until((tmp_path / "sending").exists, bound=60), "never started sending"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)  # the hung call alone would take 120 s
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, output.decode()
    assert b"returned" in output
    store = Store(f"sqlite:///{tmp_path}/x.db")
    try:
        rows = {p.account: p for p in store.publications()}
    finally:
        store.close()
    assert rows["beta"].status == "published"  # the other account was not held up
    hung = rows["alpha"]  # left to the crash path: lease expiry, then reconciliation
    assert hung.status == "publishing" and hung.send_started_at is not None
