"""Notification streams: a word from the platform reads the inbox at once, polling goes on."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from connectors.base import (
    AuthError,
    BaseConnector,
    Capability,
    ConnectorSettings,
    InboxItem,
    InboxPage,
    Limits,
    Metrics,
    RateLimited,
    Rejected,
    Transient,
)
from crosspost.collecting import inbox_streams
from crosspost.collecting.inbox_streams import InboxStreams, StreamLeases
from crosspost.collecting.metrics import MetricsCollector
from crosspost.loading import registry
from crosspost.loading.project import Project, load_project
from crosspost.store import Store
from crosspost.store.claims import COLLECT, STREAM, claim_accounts
from crosspost.store.models_community import InboxPoll
from tests.fakes import FakeClock
from tests.streaming import seconds_until_stored, stored

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
#: What each fake account's inbox holds, and what its stream says next.
INBOX: dict[str, list[InboxItem]] = {}
WORDS: dict[str, queue.Queue[object]] = {}


def item(number: int) -> InboxItem:
    return InboxItem(
        remote_id=str(number),
        kind="mention",
        author="@member",
        author_id="77",
        text=f"mention {number}",
        url=f"https://social.example/{number}",
        created_at=T0,
    )


class StreamFake(BaseConnector[ConnectorSettings]):
    """Reads its inbox from :data:`INBOX`; its stream says what :data:`WORDS` holds:
    ``"word"`` (something new), ``"end"`` (the server ends the stream) or an error."""

    name: ClassVar[str] = "streamfake"
    limits: ClassVar[Limits] = Limits(max_length=500)
    capabilities: frozenset[Capability] = frozenset({Capability.INBOX, Capability.INBOX_STREAM})

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        return {}

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        after = int(cursor or 0)
        items = [i for i in INBOX.get(self.account, []) if int(i.remote_id) > after]
        return InboxPage(tuple(items), items[-1].remote_id if items else cursor)

    def stream_inbox(self, stop: threading.Event) -> Iterator[None]:
        words = WORDS.setdefault(self.account, queue.Queue())
        yield  # connected
        while not stop.is_set():
            try:
                word = words.get(timeout=0.02)
            except queue.Empty:
                continue
            if isinstance(word, Exception):
                raise word
            if word == "end":
                return
            yield


class PollOnly(StreamFake):
    name: ClassVar[str] = "pollfake"
    capabilities: frozenset[Capability] = frozenset({Capability.INBOX})


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    real = registry.load
    known: dict[str, Any] = {"streamfake": StreamFake, "pollfake": PollOnly}
    monkeypatch.setattr(registry, "load", lambda name: known.get(name) or real(name))
    monkeypatch.setattr(inbox_streams, "FIRST_RETRY", timedelta(seconds=0.01))
    INBOX.clear()
    WORDS.clear()


def project(tmp_path: Path, **accounts: str) -> Project:
    lines = ["timezone: UTC", "accounts:"]
    lines += [f"  {name}: {{connector: {connector}}}" for name, connector in accounts.items()]
    lines += ["content:", "  - {id: hello, body: Hello.}", "posts: []"]
    path = tmp_path / "schedule.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_project(path)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'streams.db'}")


def eventually(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time bound"
        time.sleep(0.01)


# -- the collector's read -------------------------------------------------------


def test_a_word_reads_the_inbox_now_from_the_cursor(tmp_path: Path, store: Store) -> None:
    collector = MetricsCollector(store, project(tmp_path, m="streamfake"), FakeClock(T0))
    INBOX["m"] = [item(1)]
    assert collector.read_inbox_now("m") == 1
    INBOX["m"] += [item(2)]
    assert collector.read_inbox_now("m") == 1  # only what is new since the cursor
    assert stored(store) == ["1", "2"]


def test_another_daemons_lease_makes_the_read_wait(tmp_path: Path, store: Store) -> None:
    collector = MetricsCollector(store, project(tmp_path, m="streamfake"), FakeClock(T0))
    INBOX["m"] = [item(1)]
    claim_accounts(store, COLLECT, ["m"], "other-daemon", T0, timedelta(minutes=15))
    assert collector.read_inbox_now("m") is None
    assert stored(store) == []


def test_a_rate_limited_account_is_not_read_before_its_pause_ends(
    tmp_path: Path, store: Store
) -> None:
    collector = MetricsCollector(store, project(tmp_path, m="streamfake"), FakeClock(T0))
    collector._paused["m"] = T0 + timedelta(minutes=5)
    INBOX["m"] = [item(1)]
    assert collector.read_inbox_now("m") == 0
    assert stored(store) == []


def test_while_the_stream_is_up_polls_wait_the_longest_interval(
    tmp_path: Path, store: Store
) -> None:
    collector = MetricsCollector(store, project(tmp_path, m="streamfake"), FakeClock(T0))
    INBOX["m"] = [item(1)]
    collector.stream_changed("m", True)
    collector.run_due()
    with Session(store.engine) as session:
        poll = session.exec(select(InboxPoll)).one()
    assert poll.every_seconds == 3600  # not 5 minutes although the read found something
    collector.stream_changed("m", False)
    INBOX["m"] += [item(2)]
    assert collector.read_inbox_now("m") == 1
    with Session(store.engine) as session:
        assert session.exec(select(InboxPoll)).one().every_seconds == 300


# -- the stream threads ---------------------------------------------------------


class Seen:
    """What the streams told: reads asked for, and each account's stream going up or down."""

    def __init__(self) -> None:
        self.reads: list[str] = []
        self.changes: list[tuple[str, bool]] = []

    def changed(self, account: str, up: bool) -> None:
        self.changes.append((account, up))

    def streams(self) -> InboxStreams:
        return InboxStreams(self.reads.append, self.changed)


def test_an_account_that_streams_reads_at_connect_and_at_each_word(tmp_path: Path) -> None:
    seen = Seen()
    streams = seen.streams()
    streams.follow(project(tmp_path, s="streamfake", p="pollfake"))
    assert streams.accounts == ["s"]  # polling only for the other
    eventually(lambda: seen.reads == ["s"])
    WORDS["s"].put("word")
    WORDS["s"].put("word")
    eventually(lambda: seen.reads == ["s", "s", "s"])
    assert seen.changes[0] == ("s", True)
    streams.close()
    assert seen.changes[-1] == ("s", False)


@pytest.mark.parametrize(
    "trouble", [Transient("connection reset"), "end", RuntimeError("a bug in a connector")]
)
def test_a_stream_that_breaks_or_ends_is_opened_again(tmp_path: Path, trouble: object) -> None:
    seen = Seen()
    streams = seen.streams()
    streams.follow(project(tmp_path, s="streamfake"))
    eventually(lambda: len(seen.reads) == 1)
    WORDS["s"].put(trouble)
    eventually(lambda: len(seen.reads) == 2)  # connected again: what came meanwhile is read
    assert ("s", False) in seen.changes and seen.changes[-1] == ("s", True)
    streams.close()


def test_what_the_platform_says_sets_the_wait_before_the_next_try(tmp_path: Path) -> None:
    streams = Seen().streams()
    connector = StreamFake("s", StreamFake.Settings())
    stop = threading.Event()
    retry_at = datetime.now(UTC) + timedelta(minutes=7)
    for trouble, wait in [
        (AuthError("token refused"), inbox_streams.REFUSED_RETRY),
        (Rejected("404: no streaming on this server"), inbox_streams.REFUSED_RETRY),
        (Transient("reset"), None),
    ]:
        WORDS["s"] = queue.Queue()
        WORDS["s"].put(trouble)
        connected, asked = streams._listen("s", connector, stop, opened=0)
        assert connected and asked == wait
    WORDS["s"].put(RateLimited("slow down", retry_at=retry_at))
    _, asked = streams._listen("s", connector, stop, opened=1)
    assert asked is not None and timedelta(minutes=6) < asked <= timedelta(minutes=7)


def test_a_reload_stops_streams_no_longer_wanted_and_reopens_changed_ones(
    tmp_path: Path,
) -> None:
    seen = Seen()
    streams = seen.streams()
    first = project(tmp_path, s="streamfake", t="streamfake")
    streams.follow(first)
    eventually(lambda: sorted(seen.reads) == ["s", "t"])
    streams.follow(first)  # the same connectors: nothing reopened
    assert streams.accounts == ["s", "t"]
    time.sleep(0.05)
    assert sorted(seen.reads) == ["s", "t"]
    streams.follow(project(tmp_path, s="streamfake", t="pollfake"))  # new connectors
    eventually(lambda: seen.reads.count("s") == 2)
    assert streams.accounts == ["s"]
    assert ("t", False) in seen.changes
    streams.close()
    assert streams.accounts == []


# -- several daemons on one database ---------------------------------------------


class Daemons:
    """Two daemons' streams on one store, each with its own worker id and what it saw."""

    def __init__(self, store: Store, clock: FakeClock) -> None:
        self.seen = {name: Seen() for name in ("one", "two")}
        self.leases = {name: StreamLeases(store, name, clock) for name in self.seen}
        self.streams = {
            name: InboxStreams(seen.reads.append, seen.changed, leases=self.leases[name])
            for name, seen in self.seen.items()
        }

    def up(self, name: str) -> bool:
        changes = self.seen[name].changes
        return bool(changes) and changes[-1][1]


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox_streams, "HELD_ELSEWHERE_RETRY", timedelta(seconds=0.02))


@pytest.mark.usefixtures("quick_retries")
def test_two_daemons_open_one_stream_per_account(tmp_path: Path, store: Store) -> None:
    daemons = Daemons(store, FakeClock(T0))
    schedule = project(tmp_path, s="streamfake")
    daemons.streams["one"].follow(schedule)
    eventually(lambda: daemons.up("one"))
    daemons.streams["two"].follow(schedule)
    time.sleep(0.2)  # ten looks at the lease
    assert daemons.seen["two"].changes == [] and daemons.seen["two"].reads == []
    WORDS["s"].put("word")
    eventually(lambda: daemons.seen["one"].reads == ["s", "s"])  # one read per mention
    assert daemons.seen["two"].reads == []
    for streams in daemons.streams.values():
        streams.close()


@pytest.mark.usefixtures("quick_retries")
def test_when_the_holder_stops_another_daemon_takes_the_stream_over(
    tmp_path: Path, store: Store
) -> None:
    daemons = Daemons(store, FakeClock(T0))
    schedule = project(tmp_path, s="streamfake")
    daemons.streams["one"].follow(schedule)
    eventually(lambda: daemons.up("one"))
    daemons.streams["two"].follow(schedule)
    daemons.streams["one"].close()  # gives its hold back
    eventually(lambda: daemons.up("two"))
    assert daemons.seen["two"].reads == ["s"]  # read at connect: nothing missed meanwhile
    daemons.streams["two"].close()


@pytest.mark.usefixtures("quick_retries")
def test_a_daemon_that_died_is_replaced_when_its_hold_runs_out(
    tmp_path: Path, store: Store
) -> None:
    clock = FakeClock(T0)
    claim_accounts(store, STREAM, ["s"], "dead-daemon", T0, inbox_streams.STREAM_LEASE)
    daemons = Daemons(store, clock)
    daemons.streams["one"].follow(project(tmp_path, s="streamfake"))
    time.sleep(0.1)
    assert not daemons.up("one")
    clock.advance(inbox_streams.STREAM_LEASE + timedelta(seconds=1))
    eventually(lambda: daemons.up("one"))
    daemons.streams["one"].close()


def test_a_stream_whose_hold_another_daemon_took_ends_at_the_renewal(
    tmp_path: Path, store: Store
) -> None:
    clock = FakeClock(T0)
    daemons = Daemons(store, clock)
    streams = daemons.streams["one"]
    streams.follow(project(tmp_path, s="streamfake"))
    eventually(lambda: daemons.up("one"))
    streams.renew()  # still ours: renewed, nothing ends
    assert daemons.up("one")
    clock.advance(inbox_streams.STREAM_LEASE + timedelta(seconds=1))  # a long pause here
    assert claim_accounts(store, STREAM, ["s"], "two", clock(), inbox_streams.STREAM_LEASE)
    streams.renew()
    eventually(lambda: not daemons.up("one"))
    streams.close()


def test_a_store_that_cannot_be_asked_does_not_stop_the_stream(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    leases = StreamLeases(store, "one", FakeClock(T0))
    claim_accounts(store, STREAM, ["s"], "two", T0, inbox_streams.STREAM_LEASE)
    assert not leases.hold("s")  # asked: another daemon holds it

    def locked(*_args: object, **_kwargs: object) -> list[str]:
        raise OperationalError("UPDATE", {}, Exception("database is locked"))

    monkeypatch.setattr(inbox_streams, "claim_accounts", locked)
    monkeypatch.setattr(inbox_streams, "release_accounts", locked)
    assert leases.hold("s")  # not asked: at worst two daemons stream it a while
    leases.let_go("s")  # and no error either


# -- the daemon, against the mock Mastodon over a socket ----------------------------


def test_the_daemon_stores_a_mention_as_it_happens(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first collection round comes 10 s after the start and polls every 5 minutes:
    a mention stored within seconds of being posted came through the stream."""
    from tests.mockplatform import MockMastodon

    with MockMastodon(tokens=["us-token", "member-token"]) as server:
        server.stream_heartbeat = 0.05
        monkeypatch.setenv("US_TOKEN", "us-token")
        account = (
            f"{{connector: mastodon, instance: '{server.url}', access_token: '${{US_TOKEN}}', "
            "inbox_stream: true}"
        )
        mention = f"@{server.acct('us-token')} when is the next meetup?"
        seconds = seconds_until_stored(
            tmp_path,
            store,
            account,
            lambda: server_streams(server),
            lambda: server.post_as("member-token", mention),
        )
    assert len(stored(store)) == 1
    assert seconds < 8  # not at a poll: the first one comes 10 s after the start


def server_streams(server: Any) -> bool:
    return any(r.path.startswith("/api/v1/streaming") for r in server.requests)


def test_a_word_during_a_read_is_read_after_it(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timer ran one read of an account at a time and skipped the next: a mention
    that came while the inbox was being read waited for the next poll."""
    from crosspost.publishing.daemon import Daemon

    project(tmp_path, p="pollfake")
    daemon = Daemon(
        tmp_path / "schedule.yaml", store, tick=timedelta(milliseconds=200), collect_every=None
    )
    reads: list[str] = []
    reading, go_on = threading.Event(), threading.Event()

    def slow_read(account: str) -> int:
        reads.append(account)
        if len(reads) == 1:
            reading.set()
            go_on.wait(5)
        return 0

    monkeypatch.setattr(daemon.collector, "read_inbox_now", slow_read)

    def two_words() -> None:
        try:
            eventually(lambda: daemon._scheduler is not None and daemon._scheduler.running)
            daemon._read_inbox_soon("p")
            assert reading.wait(5)
            daemon._read_inbox_soon("p")  # while the first read goes on
            time.sleep(0.1)
            go_on.set()
            eventually(lambda: len(reads) == 2)
        finally:
            go_on.set()
            daemon.stop()

    helper = threading.Thread(target=two_words)
    helper.start()
    daemon.run_forever()  # the main thread: it sets signal handlers
    helper.join()
    assert reads == ["p", "p"]
