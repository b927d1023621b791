"""Metric collection: decaying schedule, batching, rate limits, follower churn, inbox cursors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
import responses
from click.testing import CliRunner
from sqlmodel import Session, col, select

from connectors.base import (
    AccountMetrics,
    AuthError,
    BaseConnector,
    Capability,
    FollowerRef,
    InboxItem,
    InboxPage,
    Limits,
    Metrics,
    RateLimited,
    Transient,
)
from crosspost.cli.context import AppContext
from crosspost.cli.metrics import collect
from crosspost.cli.report import report
from crosspost.collecting.metric_batches import next_step
from crosspost.collecting.metrics import MetricsCollector
from crosspost.collecting.thread_metrics import thread_metrics
from crosspost.errors import ConfigError
from crosspost.loading import registry
from crosspost.loading.project import Project, load_project
from crosspost.store import PlannedRow, Sent, Store
from crosspost.store.collect import add_metric_snapshot
from crosspost.store.collect_audience import apply_followers
from crosspost.store.models import (
    AccountSnapshot,
    CollectCursor,
    FollowerEvent,
    Interaction,
    MetricSnapshot,
)
from tests.fakes import FakeClock

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STEPS = [
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=30),
]


class Platform:
    """What the fake accounts answer, and every call they received."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.likes: dict[str, int] = {}
        self.errors: dict[str, list[Exception]] = {}
        self.followers: dict[str, list[list[FollowerRef]]] = {}
        self.inbox: dict[str, list[InboxItem]] = {}
        #: An error each named call raises (``account``, ``followers``), every time.
        self.refused: dict[str, Exception] = {}

    def refuse(self, call: str) -> None:
        if call in self.refused:
            raise self.refused[call]

    def fail(self, account: str) -> None:
        queue = self.errors.get(account)
        if queue:
            raise queue.pop(0)


PLATFORM = Platform()


class CollectFake(BaseConnector):
    """A connector answering from :data:`PLATFORM`, with inbox and follower list."""

    name: ClassVar[str] = "collectfake"
    limits: ClassVar[Limits] = Limits(max_length=500)
    capabilities: frozenset[Capability] = frozenset({Capability.INBOX, Capability.FOLLOWER_LIST})

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        PLATFORM.calls.append((self.account, "metrics", list(remote_ids)))
        PLATFORM.fail(self.account)
        return {
            rid: Metrics(likes=PLATFORM.likes.get(rid, 0), raw={"id": rid}) for rid in remote_ids
        }

    def account_metrics(self) -> AccountMetrics:
        PLATFORM.calls.append((self.account, "account", None))
        PLATFORM.refuse("account")
        return AccountMetrics(followers=len(self._current_followers()))

    def _current_followers(self) -> list[FollowerRef]:
        sets = PLATFORM.followers.get(self.account) or [[]]
        return sets[0]

    def followers(self, limit: int) -> list[FollowerRef]:
        PLATFORM.refuse("followers")
        sets = PLATFORM.followers.get(self.account) or [[]]
        current = sets.pop(0) if len(sets) > 1 else sets[0]
        return current[:limit]

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Items with a numeric id above ``cursor``, at most two per page, oldest first."""
        PLATFORM.calls.append((self.account, "inbox", cursor))
        PLATFORM.refuse("inbox")
        after = int(cursor or 0)
        items = sorted(
            (i for i in PLATFORM.inbox.get(self.account, []) if int(i.remote_id) > after),
            key=lambda i: int(i.remote_id),
        )[:2]
        return InboxPage(tuple(items), items[-1].remote_id if items else cursor)


class Plain(BaseConnector):
    """A connector with no optional capability (metrics only)."""

    name: ClassVar[str] = "plainfake"
    limits: ClassVar[Limits] = Limits(max_length=500)

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        PLATFORM.calls.append((self.account, "metrics", list(remote_ids)))
        PLATFORM.fail(self.account)
        return {rid: Metrics(likes=PLATFORM.likes.get(rid, 0)) for rid in remote_ids}


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    real = registry.load
    fakes: dict[str, Any] = {"collectfake": CollectFake, "plainfake": Plain}
    monkeypatch.setattr(registry, "load", lambda name: fakes.get(name) or real(name))
    PLATFORM.__init__()  # type: ignore[misc]


def write_schedule(tmp_path: Path, accounts: dict[str, str], extra: str = "") -> Path:
    lines = ["timezone: UTC", "accounts:"]
    for name, connector in accounts.items():
        lines += [f"  {name}:", f"    connector: {connector}"]
        if connector == "bluesky":
            lines += [
                "    handle: crosspost.bsky.social",
                "    app_password: ${BSKY_PASSWORD}",
                "    appview: https://public.api.bsky.app",
            ]
        if connector == "mastodon":
            lines += [
                "    instance: https://social.example",
                "    access_token: ${MASTODON_TOKEN}",
            ]
    lines += ["content:", "  - id: hello", "    title: Hello", "    body: Hello.", "posts: []"]
    path = tmp_path / "schedule.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def project_for(tmp_path: Path, **accounts: str) -> Project:
    return load_project(write_schedule(tmp_path, accounts))


def published(
    store: Store, account: str, remote_id: str, at: datetime, thread_ids: list[str] | None = None
) -> int:
    """Record a publication of ``account`` published at ``at`` as ``remote_id``."""
    row = PlannedRow(
        entry="e",
        occurrence=remote_id,
        account=account,
        content_id="hello",
        due_at=at,
        expires_at=at + timedelta(hours=1),
    )
    publication = store.add_oneoff(row, now=at)
    assert publication is not None and publication.id is not None
    store.claim(publication.id, "w", timedelta(minutes=5), at)
    store.finish(
        publication.id,
        "w",
        at,
        Sent(remote_id, None, at, thread_ids=tuple(thread_ids or [remote_id])),
    )
    return publication.id


def snapshots(store: Store, publication_id: int | None = None) -> list[MetricSnapshot]:
    with Session(store.engine) as session:
        query = select(MetricSnapshot).order_by(col(MetricSnapshot.collected_at))
        if publication_id is not None:
            query = query.where(MetricSnapshot.publication_id == publication_id)
        return list(session.exec(query).all())


def rows(store: Store, model: Any) -> list[Any]:
    with Session(store.engine) as session:
        return list(session.exec(select(model)).all())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'collect.db'}")


# --------------------------------------------------------------------------- schedule


def test_next_step_walks_the_steps_and_ends() -> None:
    assert next_step(T0, None, STEPS) == STEPS[0]
    assert next_step(T0, T0 + timedelta(minutes=16), STEPS) == STEPS[1]
    assert next_step(T0, T0 + timedelta(days=2), STEPS) == STEPS[4]
    assert next_step(T0, T0 + timedelta(days=30), STEPS) is None


def test_snapshots_fire_on_the_decaying_schedule_and_stop(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="plainfake")
    pid = published(store, "alpha", "a1", T0)
    clock = FakeClock(T0)
    collector = MetricsCollector(store, project, clock, thin=False)
    fired: list[timedelta] = []
    minute = timedelta(minutes=1)
    # Walk 31 days: a minute after each step, and every 7 h (never on a step) in between.
    ticks = sorted({*(s + minute for s in STEPS), *(timedelta(hours=h) for h in range(5, 745, 7))})
    for tick in ticks:
        clock.set(T0 + tick)
        before = len(snapshots(store, pid))
        collector.run_due()
        if len(snapshots(store, pid)) > before:
            fired.append(tick)
    assert fired == [s + minute for s in STEPS]
    assert [c[2] for c in PLATFORM.calls] == [["a1"]] * len(STEPS)


def test_an_account_with_its_own_steps_is_collected_on_them(tmp_path: Path, store: Store) -> None:
    path = write_schedule(tmp_path, {"alpha": "plainfake", "beta": "plainfake"})
    text = path.read_text(encoding="utf-8").replace(
        "    connector: plainfake\n", "    connector: plainfake\n    metrics_after: [1h, 30d]\n", 1
    )
    path.write_text(text, encoding="utf-8")
    project = load_project(path)
    alpha, beta = published(store, "alpha", "a1", T0), published(store, "beta", "b1", T0)
    clock = FakeClock(T0)
    collector = MetricsCollector(store, project, clock, thin=False)
    for tick in sorted({*(s + timedelta(minutes=1) for s in STEPS)}):
        clock.set(T0 + tick)
        collector.run_due()
    assert [s.step for s in snapshots(store, alpha)] == [3600, 30 * 86400]
    assert [s.step for s in snapshots(store, beta)] == [int(s.total_seconds()) for s in STEPS]


def test_an_account_without_steps_is_never_collected(tmp_path: Path, store: Store) -> None:
    path = write_schedule(tmp_path, {"alpha": "plainfake"})
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    connector: plainfake\n", "    connector: plainfake\n    metrics_after: []\n"
        ),
        encoding="utf-8",
    )
    project = load_project(path)
    published(store, "alpha", "a1", T0)
    for tick in STEPS:
        MetricsCollector(store, project, FakeClock(T0 + tick + timedelta(minutes=1))).run_due()
    assert snapshots(store) == [] and PLATFORM.calls == []


def test_an_account_s_steps_are_checked_where_written(tmp_path: Path) -> None:
    path = write_schedule(tmp_path, {"alpha": "plainfake"})
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    connector: plainfake\n", "    connector: plainfake\n    metrics_after: [1h, 0m]\n"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        load_project(path)
    assert str(exc.value.problems[0]).startswith(f"{path}:5:")
    assert "accounts.alpha.metrics_after.1" in str(exc.value.problems[0])


def test_more_than_100_steps_are_refused_where_written(tmp_path: Path) -> None:
    steps = ", ".join(f"{n}h" for n in range(1, 102))
    path = write_schedule(tmp_path, {"alpha": "plainfake"}, extra=f"metrics:\n  after: [{steps}]\n")
    with pytest.raises(ConfigError) as exc:
        load_project(path)
    assert "metrics.after: List should have at most 100 items" in str(exc.value)
    assert str(exc.value.problems[0]).startswith(f"{path}:")


def test_nothing_fires_before_the_first_step(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="plainfake")
    published(store, "alpha", "a1", T0)
    report = MetricsCollector(store, project, FakeClock(T0 + timedelta(minutes=14))).run_due()
    assert snapshots(store) == []
    assert PLATFORM.calls == []
    assert all(o.posts == 0 for o in report.accounts)


def test_missed_steps_are_caught_up_with_one_snapshot(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="plainfake")
    pid = published(store, "alpha", "a1", T0)
    clock = FakeClock(T0 + timedelta(hours=7))
    collector = MetricsCollector(store, project, clock)
    collector.run_due()
    collector.run_due()
    assert len(snapshots(store, pid)) == 1
    clock.advance(timedelta(hours=17))  # T0 + 24 h: the next step
    collector.run_due()
    assert len(snapshots(store, pid)) == 2


def test_rate_limited_account_is_retried_at_retry_at_while_others_go_on(
    tmp_path: Path, store: Store
) -> None:
    project = project_for(tmp_path, alpha="plainfake", beta="plainfake")
    alpha, beta = published(store, "alpha", "a1", T0), published(store, "beta", "b1", T0)
    retry_at = T0 + timedelta(minutes=40)
    PLATFORM.errors["alpha"] = [RateLimited("slow down", retry_at=retry_at)]
    clock = FakeClock(T0 + timedelta(minutes=16))
    collector = MetricsCollector(store, project, clock)
    first = {o.account: o for o in collector.run_due().accounts}
    assert first["alpha"].retry_at == retry_at and first["alpha"].failed
    assert (len(snapshots(store, alpha)), len(snapshots(store, beta))) == (0, 1)
    clock.set(T0 + timedelta(minutes=30))  # still paused: alpha is not even asked
    collector.run_due()
    assert [c for c in PLATFORM.calls if c[0] == "alpha"] == [("alpha", "metrics", ["a1"])]
    clock.set(retry_at)
    collector.run_due()
    assert len(snapshots(store, alpha)) == 1


def test_a_refused_step_does_not_skip_the_others(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="collectfake")
    pid = published(store, "alpha", "a1", T0)
    PLATFORM.followers["alpha"] = [refs("ann")]
    PLATFORM.inbox["alpha"] = [item(1, "a1")]
    scope = "the token lacks the read:accounts scope: out_of_scope"
    PLATFORM.refused["account"] = AuthError(scope, status=403)
    outcome = MetricsCollector(store, project, FakeClock(T0 + timedelta(hours=1))).run_due()
    (alpha,) = outcome.accounts
    assert alpha.errors == {"account figures": f"{scope} (HTTP 403)"}
    assert alpha.error == f"account figures: {scope} (HTTP 403)"
    assert (alpha.posts, alpha.interactions) == (1, 1)
    assert [s.publication_id for s in snapshots(store)] == [pid]
    assert [i.remote_id for i in rows(store, Interaction)] == ["1"]
    assert rows(store, AccountSnapshot) == []


def test_each_failed_step_has_its_own_message(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="collectfake")
    PLATFORM.refused["followers"] = AuthError("needs read:follows", status=403)
    PLATFORM.refused["inbox"] = Transient("inbox is down")
    (alpha,) = MetricsCollector(store, project, FakeClock(T0)).run_due().accounts
    assert alpha.errors == {"followers": "needs read:follows (HTTP 403)", "inbox": "inbox is down"}
    assert alpha.account_snapshot


def test_a_rate_limit_stops_the_account_s_later_steps(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="collectfake")
    PLATFORM.refused["account"] = RateLimited("slow down", retry_at=T0 + timedelta(hours=1))
    (alpha,) = MetricsCollector(store, project, FakeClock(T0)).run_due().accounts
    assert list(alpha.errors) == ["account figures"]
    assert alpha.retry_at == T0 + timedelta(hours=1)
    assert [c[1] for c in PLATFORM.calls] == ["account"]


@pytest.mark.parametrize("error", [Transient("503"), AuthError("token revoked")])
def test_failures_are_retried_next_round(tmp_path: Path, store: Store, error: Exception) -> None:
    project = project_for(tmp_path, alpha="plainfake")
    pid = published(store, "alpha", "a1", T0)
    PLATFORM.errors["alpha"] = [error]
    clock = FakeClock(T0 + timedelta(minutes=20))
    collector = MetricsCollector(store, project, clock)
    report = collector.run_due()
    assert report.all_failed and snapshots(store, pid) == []
    clock.advance(timedelta(minutes=1))
    assert not collector.run_due().all_failed
    assert len(snapshots(store, pid)) == 1


def test_an_unexpected_error_does_not_stop_other_accounts(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="plainfake", beta="plainfake")
    published(store, "alpha", "a1", T0)
    beta = published(store, "beta", "b1", T0)
    PLATFORM.errors["alpha"] = [KeyError("bug")]
    report = MetricsCollector(store, project, FakeClock(T0 + timedelta(hours=1))).run_due()
    assert {o.account: o.failed for o in report.accounts} == {"alpha": True, "beta": False}
    assert len(snapshots(store, beta)) == 1


def test_due_posts_are_fetched_in_one_call_per_account(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="plainfake")
    for number in range(5):
        published(store, "alpha", f"a{number}", T0 + timedelta(minutes=number))
    MetricsCollector(store, project, FakeClock(T0 + timedelta(hours=1))).run_due()
    assert PLATFORM.calls == [("alpha", "metrics", ["a0", "a1", "a2", "a3", "a4"])]


@responses.activate
def test_25_bluesky_posts_are_one_getposts_call(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BSKY_PASSWORD", "abcd-efgh-ijkl-mnop")
    project = project_for(tmp_path, sky="bluesky")
    uris = [f"at://did:plc:abc/app.bsky.feed.post/{n:03d}" for n in range(25)]
    for uri in uris:
        published(store, "sky", uri, T0)
    views = [
        {"uri": uri, "cid": "c", "likeCount": n, "repostCount": 0, "replyCount": 0, "quoteCount": 0}
        for n, uri in enumerate(uris)
    ]
    responses.get("https://public.api.bsky.app/xrpc/app.bsky.feed.getPosts", json={"posts": views})
    responses.get(
        "https://public.api.bsky.app/xrpc/app.bsky.actor.getProfile",
        json={
            "did": "did:plc:abc",
            "handle": "crosspost.bsky.social",
            "followersCount": 3,
            "followsCount": 1,
            "postsCount": 25,
        },
    )
    report = MetricsCollector(store, project, FakeClock(T0 + timedelta(minutes=15))).run_due()
    calls = [c for c in responses.calls if "getPosts" in str(c.request.url)]
    assert len(calls) == 1
    assert str(calls[0].request.url).count("uris=") == 25
    assert report.accounts[0].posts == 25
    assert sorted(s.likes or 0 for s in snapshots(store)) == list(range(25))


# --------------------------------------------------------------------------- threads

ROOT = "at://did:plc:abc/app.bsky.feed.post/root"
PART2 = "at://did:plc:abc/app.bsky.feed.post/part2"


def view(uri: str, likes: int = 0, reposts: int = 0, replies: int = 0) -> dict[str, Any]:
    """A post view of ``app.bsky.feed.getPosts``."""
    counts = {"likeCount": likes, "repostCount": reposts, "replyCount": replies}
    return {"uri": uri, "cid": "c", **counts, "quoteCount": 0}


def test_a_thread_is_its_parts_without_its_own_replies() -> None:
    found = {
        "root": Metrics(likes=1, reposts=0, replies=1),  # the reply is part 2
        "part2": Metrics(likes=2, reposts=1, replies=1),  # a member answered part 2
    }
    combined = thread_metrics(("root", "part2"), found)
    assert combined is not None
    assert (combined.likes, combined.reposts, combined.replies) == (3, 1, 1)
    assert combined.views is None  # no part reports views
    assert thread_metrics(("root", "part2"), {}) is None
    assert thread_metrics(("root",), {"root": found["root"]}) == found["root"]


@responses.activate
@pytest.mark.parametrize(
    ("root", "part2", "expected"),
    [
        # one like on part 1; part 2 is counted by the AppView as a reply to part 1
        ({"likes": 1, "replies": 1}, {}, (1, 0, 0)),
        # a member reposted and answered part 2
        ({"replies": 1}, {"reposts": 1, "replies": 1}, (0, 1, 1)),
    ],
    ids=["own-part-is-no-reply", "reactions-to-a-later-part-count"],
)
def test_a_bluesky_thread_is_the_sum_of_its_parts(
    tmp_path: Path,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    root: dict[str, int],
    part2: dict[str, int],
    expected: tuple[int, int, int],
) -> None:
    monkeypatch.setenv("BSKY_PASSWORD", "abcd-efgh-ijkl-mnop")
    project = project_for(tmp_path, sky="bluesky")
    pid = published(store, "sky", ROOT, T0, thread_ids=[ROOT, PART2])
    responses.get(
        "https://public.api.bsky.app/xrpc/app.bsky.feed.getPosts",
        json={"posts": [view(ROOT, **root), view(PART2, **part2)]},
    )
    MetricsCollector(store, project, FakeClock(T0 + timedelta(minutes=15))).run_due()
    (call,) = [c for c in responses.calls if "getPosts" in str(c.request.url)]
    assert str(call.request.url).count("uris=") == 2
    (snapshot,) = snapshots(store, pid)
    assert (snapshot.likes, snapshot.reposts, snapshot.replies) == expected


@responses.activate
def test_a_mastodon_thread_counts_its_parts_not_its_own_replies(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", "secret-token")
    project = project_for(tmp_path, masto="mastodon")
    pid = published(store, "masto", "101", T0, thread_ids=["101", "102", "103"])
    statuses = "https://social.example/api/v1/statuses"
    for status_id, favourites, replies in (("101", 2, 1), ("102", 0, 2), ("103", 1, 0)):
        counts = {"favourites_count": favourites, "reblogs_count": 0, "replies_count": replies}
        responses.get(f"{statuses}/{status_id}", json={"id": status_id, **counts})
    MetricsCollector(store, project, FakeClock(T0 + timedelta(minutes=15))).run_due()
    (snapshot,) = snapshots(store, pid)
    # 3 replies counted by the server, 2 of them the thread's own parts
    assert (snapshot.likes, snapshot.replies) == (3, 1)


# --------------------------------------------------------------------------- thinning


def test_thinning_drops_unchanged_middles_and_keeps_the_last(store: Store) -> None:
    pid = published(store, "alpha", "a1", T0)
    likes = [1, 1, 1, 1, 2, 2, 2]
    for hour, count in enumerate(likes):
        snapshot = MetricSnapshot(
            publication_id=pid, collected_at=T0 + timedelta(hours=hour), likes=count
        )
        add_metric_snapshot(store, snapshot, thin=True)
    kept = snapshots(store, pid)
    assert [(s.collected_at.hour - 12, s.likes) for s in kept] == [(0, 1), (3, 1), (4, 2), (6, 2)]
    assert kept[-1].collected_at.replace(tzinfo=UTC) == T0 + timedelta(hours=6)


def test_collector_thins_a_flat_series(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="plainfake")
    pid = published(store, "alpha", "a1", T0)
    clock = FakeClock(T0)
    collector = MetricsCollector(store, project, clock)
    for step in STEPS[:4]:
        clock.set(T0 + step)
        collector.run_due()
    kept = snapshots(store, pid)
    assert len(kept) == 2
    assert kept[-1].collected_at.replace(tzinfo=UTC) == T0 + STEPS[3]


# --------------------------------------------------------------------------- audience


def refs(*names: str) -> list[FollowerRef]:
    return [FollowerRef(f"id-{name}", f"@{name}") for name in names]


def test_follower_churn_over_a_sequence_of_sets(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="collectfake")
    PLATFORM.followers["alpha"] = [
        refs("ann", "bob"),
        refs("ann", "bob", "cy"),
        refs("bob", "cy", "dee"),
        refs("dee"),
        refs("dee", "ann"),
    ]
    clock = FakeClock(T0)
    collector = MetricsCollector(store, project, clock)
    seen = []
    for _day in range(5):
        outcome = collector.run_due().accounts[0]
        seen.append((outcome.joins, outcome.leaves))
        clock.advance(timedelta(days=1))
    assert seen == [(0, 0), (1, 0), (1, 1), (0, 2), (1, 0)]
    events = [
        (e.kind, e.handle, e.observed_at.replace(tzinfo=UTC) - T0)
        for e in rows(store, FollowerEvent)
    ]
    day = timedelta(days=1)
    assert sorted(events) == sorted(
        [
            ("join", "@cy", day),
            ("join", "@dee", 2 * day),
            ("leave", "@ann", 2 * day),
            ("leave", "@bob", 3 * day),
            ("leave", "@cy", 3 * day),
            ("join", "@ann", 4 * day),
        ]
    )
    assert [s.followers for s in rows(store, AccountSnapshot)] == [2, 3, 3, 1, 2]


def test_account_snapshots_follow_accounts_every(tmp_path: Path, store: Store) -> None:
    path = write_schedule(tmp_path, {"alpha": "collectfake"}, "metrics:\n  accounts_every: 6h\n")
    clock = FakeClock(T0)
    collector = MetricsCollector(store, load_project(path), clock)
    for _tick in range(12):  # every hour for 12 hours
        collector.run_due()
        clock.advance(timedelta(hours=1))
    taken = [s.collected_at.replace(tzinfo=UTC) - T0 for s in rows(store, AccountSnapshot)]
    assert taken == [timedelta(0), timedelta(hours=6)]


def test_a_cut_short_follower_list_is_not_diffed(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="collectfake")
    PLATFORM.followers["alpha"] = [refs("ann", "bob", "cy"), refs("ann")]
    clock = FakeClock(T0)
    collector = MetricsCollector(store, project, clock, follower_limit=3)
    collector.run_due()
    clock.advance(timedelta(days=1))
    collector.run_due()
    assert rows(store, FollowerEvent) == []


def test_first_followers_of_an_account_with_none_are_joins(store: Store) -> None:
    assert apply_followers(store, "m", [], T0).seeded
    diff = apply_followers(store, "m", refs("ann", "bob"), T0 + timedelta(days=1))
    assert not diff.seeded
    assert [ref.handle for ref in diff.joins] == ["@ann", "@bob"]
    assert sorted(e.handle for e in rows(store, FollowerEvent)) == ["@ann", "@bob"]


def test_followers_after_everyone_left_are_joins(store: Store) -> None:
    apply_followers(store, "m", refs("ann"), T0)
    left = apply_followers(store, "m", [], T0 + timedelta(days=1))
    assert [ref.handle for ref in left.leaves] == ["@ann"]
    back = apply_followers(store, "m", refs("bob"), T0 + timedelta(days=2))
    assert [ref.handle for ref in back.joins] == ["@bob"]
    kinds = sorted((e.kind, e.handle) for e in rows(store, FollowerEvent))
    assert kinds == [("join", "@bob"), ("leave", "@ann")]


def test_report_of_first_two_followers_and_one_leave(tmp_path: Path, store: Store) -> None:
    path = write_schedule(tmp_path, {"alpha": "collectfake"})
    PLATFORM.followers["alpha"] = [[], refs("ann", "bob"), refs("bob")]
    start = datetime.now(UTC) - timedelta(days=3)
    clock = FakeClock(start)
    collector = MetricsCollector(store, load_project(path), clock)
    for _day in range(3):
        collector.run_due()
        clock.advance(timedelta(days=1))
    result = CliRunner().invoke(
        report, ["--since", "7d", "--format", "json"], obj=AppContext(path, store.url)
    )
    assert result.exit_code == 0, result.output
    (figures,) = json.loads(result.stdout)["accounts"]
    assert (figures["joins"], figures["leaves"]) == (2, 1)
    assert (figures["followers_start"], figures["followers_end"]) == (0, 1)


# --------------------------------------------------------------------------- inbox


def item(number: int, in_reply_to: str | None = None) -> InboxItem:
    return InboxItem(
        remote_id=str(number),
        kind="reply" if in_reply_to else "mention",
        author=f"@member{number}",
        author_id=f"m{number}",
        text=f"hi {number}",
        url=f"https://fake.example/{number}",
        created_at=T0,
        in_reply_to=in_reply_to,
        raw={"n": number},
    )


def test_inbox_cursor_means_nothing_is_fetched_or_stored_twice(
    tmp_path: Path, store: Store
) -> None:
    project = project_for(tmp_path, alpha="collectfake")
    pid = published(store, "alpha", "root", T0, thread_ids=["root", "part2"])
    PLATFORM.inbox["alpha"] = [item(1), item(2, "part2"), item(3, "root")]
    clock = FakeClock(T0)
    collector = MetricsCollector(store, project, clock, inbox_every=timedelta(0))
    assert collector.run_due().accounts[0].interactions == 3
    PLATFORM.inbox["alpha"].append(item(4, "somebody-else"))
    clock.advance(timedelta(minutes=1))
    assert collector.run_due().accounts[0].interactions == 1
    inbox_calls = [c[2] for c in PLATFORM.calls if c[1] == "inbox"]
    assert inbox_calls == [None, "2", "3", "3", "4"]  # pages of two; an empty one ends
    stored = {i.remote_id: i.publication_id for i in rows(store, Interaction)}
    assert stored == {"1": None, "2": pid, "3": pid, "4": None}
    assert [c.cursor for c in rows(store, CollectCursor)] == ["4"]


def test_a_page_read_twice_is_stored_once(tmp_path: Path, store: Store) -> None:
    from crosspost.store.collect_inbox import save_inbox

    assert save_inbox(store, "alpha", "x", [item(1), item(2)], "2", T0) == 2
    assert save_inbox(store, "alpha", "x", [item(2), item(3)], "3", T0) == 1
    assert sorted(i.remote_id for i in rows(store, Interaction)) == ["1", "2", "3"]


def test_inbox_is_read_every_inbox_every_while_items_arrive(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="collectfake")
    clock = FakeClock(T0)
    collector = MetricsCollector(store, project, clock, inbox_every=timedelta(minutes=5))
    read: list[int] = []
    for minute in range(11):
        PLATFORM.inbox.setdefault("alpha", []).append(item(minute + 1))
        read += inbox_read_minutes(collector, clock, range(minute, minute + 1))
    assert read == [0, 5, 10]


def inbox_read_minutes(collector: MetricsCollector, clock: FakeClock, minutes: range) -> list[int]:
    """The minutes (from T0) at which the inbox was read, ticking every minute."""
    read: list[int] = []
    for minute in minutes:
        clock.set(T0 + timedelta(minutes=minute))
        before = len(PLATFORM.calls)
        collector.run_due()
        if any(c[1] == "inbox" for c in PLATFORM.calls[before:]):
            read.append(minute)
    return read


def test_empty_inbox_reads_back_off_and_a_new_item_resets(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="collectfake")
    clock = FakeClock(T0)
    collector = MetricsCollector(
        store, project, clock, inbox_every=timedelta(minutes=5), inbox_max_every=timedelta(hours=1)
    )
    # Nothing ever arrives: 5 → 10 → 20 → 40 → 60 (the cap) → 60 minutes apart.
    assert inbox_read_minutes(collector, clock, range(300)) == [0, 10, 30, 70, 130, 190, 250]
    PLATFORM.inbox["alpha"] = [item(1)]
    # Read at 310 (found the item): back to every 5 minutes, then backing off again.
    assert inbox_read_minutes(collector, clock, range(300, 400)) == [310, 315, 325, 345, 385]


def test_inbox_backoff_survives_a_restart(tmp_path: Path, store: Store) -> None:
    project = project_for(tmp_path, alpha="collectfake")
    clock = FakeClock(T0)
    first = MetricsCollector(store, project, clock, inbox_every=timedelta(minutes=5))
    assert inbox_read_minutes(first, clock, range(60)) == [0, 10, 30]
    restarted = MetricsCollector(store, project, clock, inbox_every=timedelta(minutes=5))
    assert inbox_read_minutes(restarted, clock, range(60, 120)) == [70]


# --------------------------------------------------------------------------- CLI


def test_collect_once_json(tmp_path: Path, store: Store) -> None:
    path = write_schedule(tmp_path, {"alpha": "plainfake"})
    published(store, "alpha", "a1", datetime.now(UTC) - timedelta(hours=2))
    app = AppContext(path, store.url)
    result = CliRunner().invoke(collect, ["--once", "--json"], obj=app)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["accounts"][0]["account"] == "alpha"
    assert body["accounts"][0]["posts"] == 1


def test_collect_once_exits_1_when_every_account_failed(tmp_path: Path, store: Store) -> None:
    path = write_schedule(tmp_path, {"alpha": "plainfake"})
    published(store, "alpha", "a1", datetime.now(UTC) - timedelta(hours=2))
    PLATFORM.errors["alpha"] = [Transient("503 from the platform")]
    result = CliRunner().invoke(collect, ["--once", "--json"], obj=AppContext(path, store.url))
    assert result.exit_code == 1
    assert (
        json.loads(result.stdout)["accounts"][0]["error"] == "post metrics: 503 from the platform"
    )


def test_collect_once_prints_a_table(tmp_path: Path, store: Store) -> None:
    path = write_schedule(tmp_path, {"alpha": "plainfake"})
    published(store, "alpha", "a1", datetime.now(UTC) - timedelta(hours=2))
    PLATFORM.errors["alpha"] = [Transient("[bold]503[/bold]")]
    result = CliRunner().invoke(collect, ["--once"], obj=AppContext(path, store.url))
    assert result.exit_code == 1
    assert "alpha" in result.stdout and "[bold]503" in result.stdout


def test_collect_bad_schedule_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text("accounts:\n  a:\n    connector: nosuchthing\n", encoding="utf-8")
    result = CliRunner().invoke(collect, ["--once"], obj=AppContext(path, "sqlite://"))
    assert isinstance(result.exception, ConfigError)  # the cli group turns it into exit 2
    assert result.exception.exit_code == 2


def test_collect_help_has_an_example() -> None:
    result = CliRunner().invoke(collect, ["--help"])
    assert result.exit_code == 0 and "Example: crosspost collect" in result.output


def test_collect_loops_at_a_fixed_rate_whatever_a_round_takes(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rounds start ``--interval`` apart (the collector counts on it to keep steps inside
    their windows), not a whole interval after each round ends; an overrun round is
    followed at once."""
    import crosspost.cli.metrics as cli_metrics

    path = write_schedule(tmp_path, {"alpha": "plainfake"})
    clock = [0.0]
    durations = iter([25.0, 70.0, 10.0])
    starts: list[float] = []

    def a_round(_collector: MetricsCollector, _as_json: bool) -> None:
        starts.append(clock[0])
        clock[0] += next(durations, -1.0)
        if clock[0] < starts[-1]:
            raise KeyboardInterrupt

    def sleep(seconds: float) -> None:
        assert seconds > 0
        clock[0] += seconds

    monkeypatch.setattr(cli_metrics, "_round", a_round)
    monkeypatch.setattr(
        cli_metrics, "time", SimpleNamespace(monotonic=lambda: clock[0], sleep=sleep)
    )
    result = CliRunner().invoke(collect, ["--interval", "60"], obj=AppContext(path, store.url))
    assert result.exit_code == 0, result.output
    assert starts == [0.0, 60.0, 130.0, 190.0]


def test_collect_table_keeps_names_and_headings_whole_at_80_columns(
    tmp_path: Path, store: Store
) -> None:
    """Before, ``website-feed`` became ``website-fe`` / ``ed``, the ``interactions``
    heading broke in two and the error folded into a column of word ends."""
    path = write_schedule(tmp_path, {"website-feed": "plainfake"})
    published(store, "website-feed", "a1", datetime.now(UTC) - timedelta(hours=2))
    error = "503 from the platform, " * 4
    PLATFORM.errors["website-feed"] = [Transient(error)]
    result = CliRunner().invoke(collect, ["--once"], obj=AppContext(path, store.url))
    lines = result.stdout.splitlines()
    assert lines[0].startswith("collected at ")
    table = lines[1 : lines.index(next(line for line in lines if line.startswith("website-feed:")))]
    assert max(len(line) for line in table) <= 80
    assert any(line.split()[:2] == ["website-feed", "0"] for line in table if line.strip())
    assert any(line.split()[-1:] == ["interactions"] for line in table if line.strip())
    assert f"website-feed: post metrics: {error.strip()}" in result.stdout
