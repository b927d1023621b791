"""Running it unattended: resolve, pacing, notifications, JSON logs, and stopping on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.base import RateLimited, Rejected, Transient, Unknown
from crosspost.cli import cli
from crosspost.loading.project import load_project
from crosspost.publishing.daemon import Daemon
from crosspost.publishing.notify import Notifier
from crosspost.publishing.outcome import Outcome
from crosspost.publishing.publisher import Publisher
from crosspost.status import Status
from crosspost.store import Ended, PlannedRow, Store
from tests.fakes import FakeClock, copy_example, install

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _schedule(tmp_path: Path, accounts: str, posts: str, extra: str = "") -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(
        "timezone: UTC\naccounts:\n"
        + accounts
        + "content:\n  - {id: hello, body: Hello from the makerspace.}\n"
        + "posts:\n"
        + posts
        + extra,
        encoding="utf-8",
    )
    return path


def _at(n: int, account: str = "alpha", minutes: int = 0) -> str:
    due = (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")
    return f"  - {{id: p{n}, content: hello, to: [{account}], at: '{due}'}}\n"


# --------------------------------------------------------------------------- resolve


@pytest.fixture
def store_with(tmp_path: Path) -> tuple[Store, str]:
    url = f"sqlite:///{tmp_path}/x.db"
    store = Store(url)
    store.add_planned([PlannedRow("launch", "o1", "alpha", "hello", T0, T0 + timedelta(hours=1))])
    (row,) = store.claim_due(T0, "w", timedelta(minutes=5))
    assert row.id is not None
    store.finish(row.id, "w", T0, Ended(Status.UNKNOWN, "read timeout"))
    return store, url


def _resolve(tmp_path: Path, url: str, *args: str) -> tuple[int, str]:
    schedule = _schedule(tmp_path, "  alpha: {connector: folder, path: out}\n", "")
    result = CliRunner().invoke(cli, ["-s", str(schedule), "--database", url, "resolve", *args])
    return result.exit_code, result.output


def test_resolve_published_records_the_url(tmp_path: Path, store_with: tuple[Store, str]) -> None:
    store, url = store_with
    code, output = _resolve(tmp_path, url, "1", "--published", "https://social.example/@c/1")
    assert code == 0, output
    row = store.get(1)
    assert row is not None
    assert (row.status, row.url) == ("published", "https://social.example/@c/1")


def test_resolve_retry_puts_it_back_in_the_queue(
    tmp_path: Path, store_with: tuple[Store, str]
) -> None:
    store, url = store_with
    code, output = _resolve(tmp_path, url, "1", "--retry", "--json")
    assert code == 0, output
    assert [p["status"] for p in json.loads(output)["publications"]] == ["planned"]
    assert store.claim_due(datetime.now(UTC), "w2", timedelta(minutes=5))


def test_resolve_skip_cancels_it(tmp_path: Path, store_with: tuple[Store, str]) -> None:
    store, url = store_with
    assert _resolve(tmp_path, url, "1", "--skip")[0] == 0
    row = store.get(1)
    assert row is not None and row.status == "cancelled"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1"], "exactly one of"),
        (["1", "--retry", "--skip"], "exactly one of"),
        (["99", "--skip"], "no publication 99"),
    ],
)
def test_resolve_refuses_bad_input(
    tmp_path: Path, store_with: tuple[Store, str], args: list[str], message: str
) -> None:
    _, url = store_with
    code, output = _resolve(tmp_path, url, *args)
    assert code == 2
    assert message in output


def test_resolve_refuses_a_published_row(tmp_path: Path, store_with: tuple[Store, str]) -> None:
    store, url = store_with
    _resolve(tmp_path, url, "1", "--published", "https://x.example/1")
    code, output = _resolve(tmp_path, url, "1", "--retry")
    assert code == 2
    assert "is published" in output


# --------------------------------------------------------------------------- pacing


def test_min_interval_spaces_an_accounts_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = install(monkeypatch)
    path = _schedule(
        tmp_path,
        "  alpha: {connector: fake, min_interval: 10m}\n  beta: {connector: fake}\n",
        _at(1) + _at(2) + _at(3, "beta"),
    )
    store, clock = Store(f"sqlite:///{tmp_path}/x.db"), FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    published = [o.entry for o in daemon.run_once() if o.status == "published"]
    assert sorted(published) == ["p1", "p3"]  # p2 waits: alpha posted less than 10 min ago
    clock.advance(timedelta(minutes=10))
    assert [o.entry for o in daemon.tick() if o.status == "published"] == ["p2"]
    assert len(platform.calls) == 3


def test_max_per_day_caps_an_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch)
    path = _schedule(
        tmp_path,
        "  alpha: {connector: fake, max_per_day: 2}\n",
        _at(1) + _at(2) + _at(3),
    )
    store = Store(f"sqlite:///{tmp_path}/x.db")
    daemon = Daemon(path, store, clock=FakeClock(T0))
    outcomes = daemon.run_once()
    assert sum(o.status == "published" for o in outcomes) == 2
    statuses = sorted(p.status for p in store.publications())
    assert statuses == ["planned", "published", "published"]


# --------------------------------------------------------------------------- notify


class _Notify:
    """A project with a ``notify:`` account: the notifier queues, the publisher sends."""

    def __init__(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on: str = "", ops: str = ""
    ) -> None:
        self.platform = install(monkeypatch)
        kinds = f"\n  on: [{on}]" if on else ""
        self.path = _schedule(
            tmp_path,
            "  alpha: {connector: fake}\n" + (ops or "  ops: {connector: folder, path: alerts}\n"),
            _at(1),
            f"notify:\n  to: [ops]{kinds}\n",
        )
        self.store = Store(f"sqlite:///{tmp_path}/x.db")
        self.clock = FakeClock(T0 + timedelta(hours=2))  # p1 is long past: never claimed
        self.notifier = Notifier(self.store, load_project(self.path), self.clock)

    def publisher(self) -> Publisher:
        """A publisher of the project (each one a worker of its own, like another process)."""
        return Publisher(self.store, load_project(self.path), clock=self.clock)

    def tell(self, *outcomes: Outcome) -> list[Outcome]:
        """Queue the notifications for ``outcomes``, then publish what is due."""
        self.notifier.outcomes(outcomes)
        return self.publisher().run_due()


def _alerts(tmp_path: Path) -> list[str]:
    folder = tmp_path / "alerts"
    return sorted(p.read_text("utf-8") for p in folder.glob("*.md")) if folder.exists() else []


def test_each_problem_is_told_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notify = _Notify(tmp_path, monkeypatch)
    failed = Outcome(7, "p1", "alpha", Status.FAILED, error="text is too long")
    notify.tell(failed)
    notify.tell(failed)  # the same problem again: not told twice
    notify.tell(Outcome(8, "p2", "alpha", Status.MISSED, error="late"))
    notify.tell(Outcome(9, "p3", "alpha", Status.PUBLISHED))
    alerts = _alerts(tmp_path)
    assert len(alerts) == 2
    assert any("p1 for alpha failed: text is too long" in a for a in alerts)
    assert any("p2 for alpha was missed" in a for a in alerts)


def test_notify_on_limits_what_is_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notify = _Notify(tmp_path, monkeypatch, on="unknown")
    notify.tell(Outcome(7, "p1", "alpha", Status.FAILED, error="refused"))
    notify.tell(Outcome(8, "p2", "alpha", Status.UNKNOWN, error="timeout"))
    alerts = _alerts(tmp_path)
    assert len(alerts) == 1 and "unknown" in alerts[0]


def test_a_notification_is_a_publication_of_its_own_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify = _Notify(tmp_path, monkeypatch)
    (sent,) = notify.tell(Outcome(7, "p1", "alpha", Status.FAILED, error="refused"))
    assert (sent.entry, sent.account, sent.status) == (
        "notify:publication:7:failed",
        "ops",
        Status.PUBLISHED,
    )
    row = notify.store.get(sent.publication_id)
    assert row is not None and row.message is not None and "p1 for alpha failed" in row.message
    # a notification that fails is not told about through the notify channel again
    notify.tell(Outcome(sent.publication_id, sent.entry, "ops", Status.FAILED, error="x"))
    assert len(_alerts(tmp_path)) == 1


def test_a_daemon_tells_about_a_refused_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = install(monkeypatch)
    platform.script("alpha", Rejected("duplicate content"))
    path = _schedule(
        tmp_path,
        "  alpha: {connector: fake}\n  ops: {connector: folder, path: alerts}\n",
        _at(1),
        "notify: {to: ops}\n",
    )
    daemon = Daemon(path, Store(f"sqlite:///{tmp_path}/x.db"), clock=FakeClock(T0))
    daemon.run_once()
    daemon.tick()
    (alert,) = _alerts(tmp_path)
    assert "duplicate content" in alert


def test_a_notify_target_that_fails_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify = _Notify(tmp_path, monkeypatch, ops="  ops: {connector: fake}\n")
    notify.platform.script("ops", Transient("HTTP 503"), "ok")
    problem = Outcome(7, "p1", "alpha", Status.FAILED, error="refused")
    notify.tell(problem)  # not delivered: planned again after a backoff
    notify.clock.advance(timedelta(minutes=2))
    notify.tell(problem)  # delivered by the retry, and not queued a second time
    notify.clock.advance(timedelta(minutes=2))
    notify.tell(problem)
    assert [(c.account, c.outcome) for c in notify.platform.calls] == [
        ("ops", "Transient"),
        ("ops", "ok"),
    ]


def test_a_rate_limited_notification_goes_out_after_the_retry_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify = _Notify(tmp_path, monkeypatch, ops="  ops: {connector: fake}\n")
    retry_at = notify.clock() + timedelta(minutes=10)
    notify.platform.script("ops", RateLimited("HTTP 429", retry_at=retry_at))
    (first,) = notify.tell(Outcome(7, "p1", "alpha", Status.FAILED, error="refused"))
    assert first.status == Status.PLANNED  # not logged and dropped: waiting in its row
    notify.clock.advance(timedelta(minutes=9))
    assert notify.publisher().run_due() == []
    notify.clock.set(retry_at)
    (sent,) = notify.publisher().run_due()
    assert sent.status == Status.PUBLISHED
    delivered = notify.platform.published("ops")
    assert len(delivered) == 1 and "p1 for alpha failed: refused" in delivered[0].text


def test_a_crash_between_claim_and_send_leaves_no_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify = _Notify(tmp_path, monkeypatch, ops="  ops: {connector: fake}\n")
    problem = Outcome(7, "p1", "alpha", Status.FAILED, error="refused")
    notify.notifier.outcomes([problem])
    lease = timedelta(minutes=10)
    (claimed,) = notify.store.claim_due(notify.clock(), "dead-worker", lease)  # then it dies
    assert claimed.entry == "notify:publication:7:failed"
    notify.clock.advance(lease + timedelta(seconds=1))
    notify.tell(problem)  # the lease ran out untouched: planned again, sent once
    notify.tell(problem)
    notify.clock.advance(timedelta(hours=1))
    notify.tell(problem)
    assert [c.account for c in notify.platform.calls] == ["ops"]
    assert [p.status for p in notify.store.publications()] == [Status.PUBLISHED]


# --------------------------------------------------------------------------- logs


def test_json_logs_are_one_object_a_line_without_secrets(tmp_path: Path) -> None:
    schedule = copy_example(tmp_path)
    env = {**os.environ, "CROSSPOST_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(
        [sys.executable, "-m", "crosspost", "-s", str(schedule), "--log-format", "json",
         "--log-level", "INFO", "daemon", "--once"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert records, result.stdout + result.stderr
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert any("published" in r["message"] for r in records)


# --------------------------------------------------------------------------- signals


def test_sigterm_stops_the_daemon_cleanly(tmp_path: Path) -> None:
    schedule = copy_example(tmp_path)
    database = f"sqlite:///{tmp_path}/x.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "crosspost", "-s", str(schedule), "--database", database,
         "daemon", "--tick", "1s"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        _wait_for_a_post(tmp_path / "public" / "posts", deadline=time.monotonic() + 60)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    rows = Store(database).publications()
    assert not [r for r in rows if r.status == "publishing"]
    assert [r for r in rows if r.status == "published"]


def _wait_for_a_post(folder: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if folder.exists() and any(folder.glob("*.md")):
            return
        time.sleep(0.2)
    raise AssertionError("the daemon published nothing within a minute")


def test_publisher_in_flight_is_recorded_when_stopping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = install(monkeypatch)
    path = _schedule(tmp_path, "  alpha: {connector: fake}\n", _at(1) + _at(2))
    store = Store(f"sqlite:///{tmp_path}/x.db")
    publisher = Publisher(store, load_project(path), clock=FakeClock(T0))
    platform.script("alpha", publisher.stopping.set)
    daemon_rows = [
        PlannedRow("p1", "o", "alpha", "hello", T0, T0 + timedelta(hours=1)),
        PlannedRow("p2", "o", "alpha", "hello", T0, T0 + timedelta(hours=1)),
    ]
    store.add_planned(daemon_rows, T0)
    outcomes = {o.entry: o.status for o in publisher.run_due()}
    assert outcomes == {"p1": "published", "p2": "planned"}


# --------------------------------------------------------------------------- reconciling later


def test_unknown_is_looked_for_again_later(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform = install(monkeypatch)
    path = _schedule(tmp_path, "  alpha: {connector: fake-reconcile}\n", _at(1))
    store, clock = Store(f"sqlite:///{tmp_path}/x.db"), FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    platform.script("alpha", Unknown("read timeout"))
    daemon.run_once()
    (row,) = store.publications()
    assert row.status == "unknown"  # the platform does not show it (yet)

    # it shows up later (eventual consistency): the next look records it, no resend
    platform.make_published("alpha", platform.calls[0].key, 1)
    clock.advance(timedelta(minutes=1))
    assert daemon.tick() == []  # looked for at most every 5 minutes
    clock.advance(timedelta(minutes=5))
    assert [o.status for o in daemon.tick()] == ["published"]
    (row,) = store.publications()
    assert row.status == "published" and row.remote_id is not None
    assert len(platform.calls) == 1


def test_unknown_without_a_key_is_never_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = install(monkeypatch)
    path = _schedule(tmp_path, "  alpha: {connector: fake-reconcile}\n", _at(1))
    store, clock = Store(f"sqlite:///{tmp_path}/x.db"), FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    platform.script("alpha", Unknown("read timeout"))
    daemon.run_once()
    for _ in range(5):
        clock.advance(timedelta(minutes=10))
        daemon.tick()
    (row,) = store.publications()
    assert row.status == "unknown"
    assert len(platform.calls) == 1
