"""The feed tables on SQLite and PostgreSQL: a seen entry and its posts are written once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crosspost.status import Status
from crosspost.store import PlannedRow, Store
from crosspost.store.feeds import (
    FetchRecord,
    cancel_feed_rows,
    entry_counts,
    failing_feeds,
    feed_entry,
    feed_states,
    forget_errors,
    record_fetch,
    seen_keys,
)
from crosspost.store.models import FeedEntry
from tests.test_store import pg_url, store  # noqa: F401  (the fixtures on both databases)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def entry(key: str, decision: str = "planned") -> FeedEntry:
    return FeedEntry(
        feed="blog",
        key=key,
        guid=f"urn:{key}",
        title=f"Title {key}",
        tags=["a", "b"],
        published_at=T0 - timedelta(hours=1),
        seen_at=T0,
        decision=decision,
    )


def rows(found: FeedEntry) -> list[PlannedRow]:
    return [
        PlannedRow("feed:blog", found.key, account, f"blog.{found.key}", T0, T0 + timedelta(1))
        for account in ("alpha", "beta")
    ]


def record(at: datetime = T0, **fields: object) -> FetchRecord:
    return FetchRecord("blog", "https://b.example/feed", at, at + timedelta(minutes=15), **fields)  # type: ignore[arg-type]


def test_an_entry_and_its_posts_are_written_once_by_racing_fetches(store: Store) -> None:  # noqa: F811
    first = record_fetch(store, record(etag='"1"'), [entry("k1"), entry("k2", "old")], rows)
    assert [e.key for e in first] == ["k1", "k2"]
    again = record_fetch(store, record(), [entry("k1"), entry("k3")], rows)
    assert [e.key for e in again] == ["k3"]  # k1 was written by the first
    published = sorted((p.occurrence, p.account) for p in store.publications())
    assert published == [("k1", "alpha"), ("k1", "beta"), ("k3", "alpha"), ("k3", "beta")]
    assert seen_keys(store, "blog", ["k1", "k2", "k3", "k4"]) == {"k1", "k2", "k3"}
    assert entry_counts(store) == {"blog": {"planned": 2, "old": 1}}
    stored = feed_entry(store, "blog", "k1")
    assert stored is not None and stored.tags == ["a", "b"]
    assert stored.published_at == T0 - timedelta(hours=1)


def test_the_state_keeps_validators_of_good_fetches_only(store: Store) -> None:  # noqa: F811
    record_fetch(store, record(etag='"1"', last_modified="Tue", title="Blog"))
    record_fetch(store, record(T0 + timedelta(minutes=15), error="HTTP 500"))
    state = feed_states(store)["blog"]
    assert (state.etag, state.last_modified, state.title) == ('"1"', "Tue", "Blog")
    assert state.subscribed_at == T0 and state.error == "HTTP 500"
    assert state.last_fetch_at == T0 + timedelta(minutes=15) and state.last_ok_at == T0
    assert [s.feed for s in failing_feeds(store)] == ["blog"]
    forget_errors(store, ["blog"])
    assert failing_feeds(store)
    forget_errors(store, [])
    assert failing_feeds(store) == []


def test_posts_of_a_feed_or_account_that_left_are_cancelled(store: Store) -> None:  # noqa: F811
    record_fetch(store, record(), [entry("k1")], rows)
    assert cancel_feed_rows(store, {"feed:blog": {"alpha", "beta"}}, T0) == 0
    assert cancel_feed_rows(store, {"feed:blog": {"alpha"}}, T0) == 1
    assert cancel_feed_rows(store, {}, T0) == 1
    assert {p.status for p in store.publications()} == {Status.CANCELLED}
