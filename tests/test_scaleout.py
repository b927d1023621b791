"""Several daemons on one database: account and feed work claimed once, pauses and pacing shared.

Each test runs on SQLite and on PostgreSQL (``each_store``, marked ``postgres``).
A second daemon is a second collector or publisher on the same store, with a
worker id of its own; "at the same time" is made deterministic by running it
from inside the first one's round (``on_account``), while the first holds its leases.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.base import RateLimited, Transient
from crosspost.collecting.metrics import MetricsCollector
from crosspost.loading.project import load_project
from crosspost.publishing.feeds import FeedPoller
from crosspost.publishing.feeds_fetch import Fetched, fetch_feed
from crosspost.publishing.publisher import Publisher
from crosspost.status import Status
from crosspost.store import PlannedRow, Store
from crosspost.store.claims import (
    COLLECT,
    PUBLISH,
    claim_accounts,
    pause_account,
    paused,
    release_accounts,
)
from tests.fakes import FakeClock, FakePlatform, install
from tests.feedserver import Doc, FeedServer, rss, serving
from tests.test_feeds import items as feed_items
from tests.test_feeds import write
from tests.test_metrics_collect import (
    PLATFORM,
    T0,
    fakes,  # noqa: F401  (the collect fakes, registered for every test here)
    item,
    project_for,
    published,
    snapshots,
)

LEASE = timedelta(minutes=15)
MINUTE = timedelta(minutes=1)


# --------------------------------------------------------------------------- claims


def test_an_account_leased_to_one_worker_is_not_leased_to_another(each_store: Store) -> None:
    accounts = ["a", "b", "c"]
    assert claim_accounts(each_store, COLLECT, accounts, "one", T0, LEASE, limit=2) == ["a", "b"]
    assert claim_accounts(each_store, COLLECT, accounts, "two", T0, LEASE) == ["c"]
    assert claim_accounts(each_store, COLLECT, accounts, "three", T0, LEASE) == []
    # the kinds are apart: publishing work of "a" is still free
    assert claim_accounts(each_store, PUBLISH, ["a"], "three", T0, LEASE) == ["a"]
    release_accounts(each_store, COLLECT, ["a"], "one")
    release_accounts(each_store, COLLECT, ["b"], "not the holder")
    assert claim_accounts(each_store, COLLECT, accounts, "three", T0, LEASE) == ["a"]
    # a holder that died: its lease runs out
    later = T0 + LEASE + MINUTE
    assert claim_accounts(each_store, COLLECT, ["b"], "three", later, LEASE) == ["b"]


def test_threads_claiming_at_once_never_share_an_account(each_store: Store) -> None:
    accounts = [f"acct{n:02d}" for n in range(40)]
    claimed: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        got: list[str] = []
        try:
            start.wait()
            left = accounts
            while batch := claim_accounts(each_store, COLLECT, left, name, T0, LEASE, 3):
                got += batch
                left = [a for a in left if a not in got]
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        claimed[name] = got

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    holders = Counter(a for got in claimed.values() for a in got)
    assert set(holders) == set(accounts)
    assert not [a for a, n in holders.items() if n > 1]


def test_a_pause_reaches_every_daemon_and_only_grows(each_store: Store) -> None:
    pause_account(each_store, "a", COLLECT, T0 + timedelta(hours=1), "slow down")
    pause_account(each_store, "a", COLLECT, T0 + MINUTE, "an earlier retry time")
    assert paused(each_store, COLLECT, T0) == {"a": T0 + timedelta(hours=1)}
    assert paused(each_store, PUBLISH, T0) == {}
    assert paused(each_store, COLLECT, T0 + timedelta(hours=1)) == {}


# --------------------------------------------------------------------------- collection


def _two_collectors(
    store: Store, tmp_path: Path, clock: FakeClock, batch: int, **accounts: str
) -> tuple[MetricsCollector, MetricsCollector]:
    project = project_for(tmp_path, **accounts)
    first = MetricsCollector(store, project, clock, batch_accounts=batch)
    second = MetricsCollector(store, project, clock, batch_accounts=batch)
    return first, second


@pytest.mark.parametrize("batch", [1, 100])
def test_two_collectors_never_collect_the_same_step_twice(
    each_store: Store, tmp_path: Path, batch: int
) -> None:
    clock = FakeClock(T0 + 16 * MINUTE)
    first, second = _two_collectors(
        each_store, tmp_path, clock, batch, alpha="plainfake", beta="plainfake", gamma="plainfake"
    )
    ids = [published(each_store, account, f"{account}1", T0) for account in ("alpha", "beta")]
    ids.append(published(each_store, "gamma", "gamma1", T0))
    # the second collector runs its whole round while the first is in the middle of its own
    first.on_account = lambda _account: second.run_due() and None
    first.run_due()
    second.on_account = None
    second.run_due()
    assert sorted(s.publication_id for s in snapshots(each_store)) == sorted(ids)
    fetched = [tuple(call[2]) for call in PLATFORM.calls if call[1] == "metrics"]
    assert sorted(fetched) == [("alpha1",), ("beta1",), ("gamma1",)]


def test_two_collectors_never_read_an_inbox_twice_in_one_window(
    each_store: Store, tmp_path: Path
) -> None:
    clock = FakeClock(T0)
    first, second = _two_collectors(each_store, tmp_path, clock, 100, alpha="collectfake")
    PLATFORM.inbox["alpha"] = [item(1, None)]
    first.on_account = lambda _account: second.run_due() and None
    first.run_due()
    clock.advance(MINUTE)  # within inbox_every (5 min) of the read
    second.run_due()
    # one read: its first page, then the page after the cursor it reached
    assert [c[2] for c in PLATFORM.calls if c[1] == "inbox"] == [None, "1"]


def test_a_failed_inbox_read_waits_on_every_collector(each_store: Store, tmp_path: Path) -> None:
    clock = FakeClock(T0)
    first, second = _two_collectors(each_store, tmp_path, clock, 100, alpha="collectfake")
    PLATFORM.refused["inbox"] = Transient("inbox is down")
    first.run_due()
    clock.advance(MINUTE)
    second.run_due()
    assert len([c for c in PLATFORM.calls if c[1] == "inbox"]) == 1
    clock.advance(5 * MINUTE)
    second.run_due()
    assert len([c for c in PLATFORM.calls if c[1] == "inbox"]) == 2


def test_a_rate_limit_one_collector_met_is_obeyed_by_the_other(
    each_store: Store, tmp_path: Path
) -> None:
    clock = FakeClock(T0 + 16 * MINUTE)
    first, second = _two_collectors(each_store, tmp_path, clock, 100, alpha="plainfake")
    published(each_store, "alpha", "a1", T0)
    retry_at = T0 + timedelta(hours=2)
    PLATFORM.errors["alpha"] = [RateLimited("slow down", retry_at=retry_at)]
    first.run_due()
    clock.set(T0 + timedelta(hours=1, minutes=1))  # the 1 h step is due, the pause holds
    (outcome,) = second.run_due().accounts
    assert (outcome.error, outcome.retry_at) == ("rate limited", retry_at)
    assert len([c for c in PLATFORM.calls if c[1] == "metrics"]) == 1
    clock.set(retry_at)
    second.run_due()
    assert len(snapshots(each_store)) == 1


# --------------------------------------------------------------------------- publishing


def _publishers(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock, extra: str = ""
) -> tuple[FakePlatform, Publisher, Publisher]:
    platform = install(monkeypatch)
    path = tmp_path / "schedule.yaml"
    path.write_text(
        "timezone: UTC\n"
        f"accounts:\n  alpha: {{connector: fake{extra}}}\n"
        "content:\n  - {id: c, body: Hello}\n"
        "posts: []\n",
        encoding="utf-8",
    )
    project = load_project(path)
    rows = [
        PlannedRow("e", str(n), "alpha", "c", T0 + n * MINUTE, T0 + timedelta(hours=9))
        for n in range(2)
    ]
    store.add_planned(rows, T0)
    return platform, Publisher(store, project, clock=clock), Publisher(store, project, clock=clock)


def test_a_rate_limit_one_publisher_met_is_obeyed_by_the_other(
    each_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(T0 + 5 * MINUTE)
    platform, first, second = _publishers(each_store, tmp_path, monkeypatch, clock)
    retry_at = T0 + timedelta(hours=1)
    platform.script("alpha", RateLimited("slow down", retry_at=retry_at))
    (claimed,) = each_store.claim_next(clock(), first.worker_id, first.lease)
    first.publish_row(claimed)
    assert "alpha" in second.blocked(clock())
    assert (
        each_store.claim_next(clock(), second.worker_id, second.lease, second.blocked(clock()))
        == []
    )
    clock.set(retry_at)
    assert second.blocked(clock()) == []


def test_pacing_holds_when_another_publisher_sent_in_between(
    each_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(T0 + 5 * MINUTE)
    _platform, first, second = _publishers(
        each_store, tmp_path, monkeypatch, clock, extra=", min_interval: 30m"
    )
    stale = second.blocked(clock())  # read before the first publisher sends
    (claimed,) = each_store.claim_next(clock(), first.worker_id, first.lease)
    first.publish_row(claimed)
    rows = each_store.claim_next(clock(), second.worker_id, second.lease, stale)
    assert [r.occurrence for r in rows] == ["1"]
    assert second.keep_paced(rows) == []
    again = each_store.find("e", "1", "alpha")
    assert again is not None and (again.status, again.attempts) == (Status.PLANNED, 0)


# --------------------------------------------------------------------------- feeds


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    yield from serving()


def test_two_pollers_fetch_a_due_feed_once(
    each_store: Store, tmp_path: Path, feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = feeds
    install(monkeypatch)
    project = load_project(write(tmp_path, server, "every: 30m\n"))
    server.docs["/feed.xml"] = Doc(rss(feed_items(1, T0)))
    clock = FakeClock(T0)
    first, second = FeedPoller(each_store, clock), FeedPoller(each_store, clock)
    inside: list[int] = []

    def fetch_while_the_other_polls(url: str, etag: str | None, modified: str | None) -> Fetched:
        inside.append(len(second.poll_due(project)))
        return fetch_feed(url, etag, modified)

    first.fetch = fetch_while_the_other_polls
    assert len(first.poll_due(project)) == 1
    assert inside == [0]
    assert second.poll_due(project) == []  # fetched a moment ago: not due
    assert len(server.asked("/feed.xml")) == 1
