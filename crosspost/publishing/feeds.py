"""Feeds in: fetch each subscription when due, and write down a post for every new entry.

A fetch (:meth:`FeedPoller.poll`) goes: GET with the last validators (304: nothing
new) → parse → keep the entries whose key the feed has not seen → decide each:

* ``old``: published before ``since`` (``since: subscribed``: every entry of the
  very first good fetch, and any later one dated before it);
* ``capped``: more new entries than ``max_per_fetch``: the newest are posted;
* ``planned``: one publication per account, due now, entry ``feed:<id>``,
  occurrence the entry's key, expiring after the feed's ``grace``.

Every new entry is remembered whatever the decision, with its publications, in
one transaction (:func:`crosspost.store.feeds.record_fetch`), so an entry is posted
at most once across restarts, edits of the entry and edits of the schedule. A
fetch that fails records why and keeps the old validators; nothing is posted and
the next fetch starts afresh.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crosspost.errors import FeedError
from crosspost.loading.feeds_item import FeedEntryItem, content_id, entry_item
from crosspost.loading.feeds_spec import SUBSCRIBED, FeedSpec
from crosspost.loading.project import Project
from crosspost.planning.plan import Occurrence
from crosspost.planning.preview import StoredPost
from crosspost.planning.sync import grace_of
from crosspost.publishing.feeds_fetch import Fetched, fetch_feed
from crosspost.publishing.feeds_parse import ParsedEntry, ParsedFeed, parse_feed
from crosspost.status import Status
from crosspost.store import PlannedRow, Publication, Store
from crosspost.store.claims import FEED, claim_accounts, release_accounts
from crosspost.store.feeds import (
    FetchRecord,
    cancel_feed_rows,
    feed_entry,
    feed_state,
    feed_states,
    forget_errors,
    record_fetch,
    seen_keys,
)
from crosspost.store.models import FeedEntry, FeedState

__all__ = ["FeedPoller", "FeedReport", "decide", "publication_item", "stored_posts"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Fetch = Callable[[str, str | None, str | None], Fetched]


@dataclass(frozen=True)
class FeedReport:
    """What one fetch of one feed found and did."""

    feed: str
    url: str
    #: ``new`` (a good fetch), ``not-modified`` (HTTP 304) or ``failed``.
    outcome: str
    planned: list[FeedEntry] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    old: int = 0
    capped: int = 0
    error: str | None = None


def _zone(feed: FeedSpec, project: Project) -> ZoneInfo:
    return feed.timezone or project.schedule.timezone


def _since(feed: FeedSpec, project: Project) -> datetime | None:
    if not isinstance(feed.since, datetime):
        return None
    moment = feed.since
    return moment if moment.tzinfo else moment.replace(tzinfo=_zone(feed, project))


def decide(
    feed: FeedSpec,
    entries: Sequence[ParsedEntry],
    subscribed_at: datetime | None,
    now: datetime,
    since: datetime | None = None,
) -> list[tuple[ParsedEntry, str]]:
    """Each entry (not seen before) with its decision: ``planned``, ``old`` or ``capped``.

    Args:
        subscribed_at: the first good fetch; None when this is it.
        since: ``since`` as an aware moment (None for ``since: subscribed``).
    """
    decided: list[tuple[ParsedEntry, str]] = []
    fresh: list[ParsedEntry] = []
    for entry in entries:
        if feed.since == SUBSCRIBED:
            old = subscribed_at is None or (
                entry.published is not None and entry.published < subscribed_at
            )
        else:
            old = since is not None and (entry.published or now) < since
        if old:
            decided.append((entry, "old"))
        else:
            fresh.append(entry)
    # oldest first, so that the posts go out in the order they were written
    fresh.sort(key=lambda e: e.published or now)
    cut = max(len(fresh) - feed.max_per_fetch, 0)
    decided += [(entry, "capped") for entry in fresh[:cut]]
    decided += [(entry, "planned") for entry in fresh[cut:]]
    return decided


def _unique(entries: Sequence[ParsedEntry]) -> list[ParsedEntry]:
    """The first of entries that share a key (a feed that lists one entry twice)."""
    found: dict[str, ParsedEntry] = {}
    for entry in entries:
        found.setdefault(entry.key, entry)
    return list(found.values())


def _row(feed: str, entry: ParsedEntry, decision: str, now: datetime) -> FeedEntry:
    return FeedEntry(
        feed=feed,
        key=entry.key,
        guid=entry.guid[:2000],
        title=entry.title[:1000],
        summary=entry.summary,
        link=entry.link[:2000] if entry.link else None,
        image=entry.image[:2000] if entry.image else None,
        author=entry.author[:200],
        tags=list(entry.tags),
        published_at=entry.published,
        seen_at=now,
        decision=decision,
    )


class FeedPoller:
    """Fetches the project's feeds when due and writes down what their new entries post.

    Args:
        store: the store.
        clock: current UTC time (injected in tests).
        fetch: ``fetch(url, etag, last_modified)``; HTTP by default.
        workers: how many feeds are fetched at the same time.
        log_failures: log a failed fetch as an error (the daemon); a command prints it.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        fetch: Fetch | None = None,
        workers: int = 4,
        log_failures: bool = True,
    ) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self.fetch: Fetch = fetch or (lambda url, etag, modified: fetch_feed(url, etag, modified))
        self.workers = workers
        self.log_failures = log_failures
        self.worker = f"{socket.gethostname()}:{os.getpid()}:feeds:{id(self):x}"
        #: How long a feed stays leased if the daemon dies while fetching it.
        self.lease = timedelta(minutes=10)

    def due(self, project: Project, now: datetime) -> list[FeedSpec]:
        """The enabled feeds never fetched, fetched ``every`` ago, or given a new address."""
        states = feed_states(self.store)
        return [
            feed
            for feed in project.feeds
            if feed.enabled and _is_due(feed, states.get(feed.id), now)
        ]

    def poll_due(self, project: Project) -> list[FeedReport]:
        """Fetch every due feed, a few at a time; one failing or slow feed delays no other.

        The due feeds are leased first (several daemons on one database fetch each feed
        once), and read as due again once the lease is held.
        """
        now = self.clock()
        ids = [feed.id for feed in self.due(project, now)]
        leased = set(claim_accounts(self.store, FEED, ids, self.worker, now, self.lease))
        try:
            feeds = [feed for feed in self.due(project, self.clock()) if feed.id in leased]
            if len(feeds) <= 1:
                return [self.poll(project, feed) for feed in feeds]
            with ThreadPoolExecutor(min(self.workers, len(feeds)), "feeds") as pool:
                return list(pool.map(lambda feed: self.poll(project, feed), feeds))
        finally:
            release_accounts(self.store, FEED, sorted(leased), self.worker)

    def poll(self, project: Project, feed: FeedSpec, *, dry_run: bool = False) -> FeedReport:
        """Fetch ``feed`` now and write down what it posts (nothing with ``dry_run``)."""
        now = self.clock()
        state = feed_state(self.store, feed.id)
        same = state is not None and state.url == feed.url
        try:
            fetched = self.fetch(
                feed.url,
                state.etag if same and state else None,
                state.last_modified if same and state else None,
            )
            parsed = None if fetched.not_modified else _parsed(fetched)
        except FeedError as exc:
            return self._failed(feed, now, str(exc), dry_run)
        record = FetchRecord(
            feed.id,
            feed.url,
            now,
            now + feed.every,
            not_modified=fetched.not_modified,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            title=parsed.title if parsed else None,
        )
        if parsed is None:
            if not dry_run:
                record_fetch(self.store, record)
            return FeedReport(feed.id, feed.url, "not-modified")
        return self._found(project, feed, state, parsed, record, dry_run)

    def _failed(self, feed: FeedSpec, now: datetime, reason: str, dry_run: bool) -> FeedReport:
        if self.log_failures:
            log.error("feed %s not read, nothing posted: %s", feed.id, reason)
        if not dry_run:
            record_fetch(self.store, FetchRecord(feed.id, feed.url, now, now + feed.every, reason))
        return FeedReport(feed.id, feed.url, "failed", error=reason)

    def _found(
        self,
        project: Project,
        feed: FeedSpec,
        state: FeedState | None,
        parsed: ParsedFeed,
        record: FetchRecord,
        dry_run: bool,
    ) -> FeedReport:
        now = record.at
        entries = _unique(parsed.entries)
        seen = seen_keys(self.store, feed.id, [e.key for e in entries])
        subscribed_at = state.subscribed_at if state else None
        new = [e for e in entries if e.key not in seen]
        decided = decide(feed, new, subscribed_at, now, _since(feed, project))
        rows = [_row(feed.id, entry, decision, now) for entry, decision in decided]
        accounts = project.targets.get(feed.entry, [])
        if not dry_run:
            rows = record_fetch(self.store, record, rows, lambda e: self._rows(feed, e, accounts))
        planned = [r for r in rows if r.decision == "planned"]
        if planned:
            log.info("feed %s: %d new entries to post", feed.id, len(planned))
        return FeedReport(
            feed.id,
            feed.url,
            "new",
            planned,
            list(accounts),
            old=sum(r.decision == "old" for r in rows),
            capped=sum(r.decision == "capped" for r in rows),
        )

    @staticmethod
    def _rows(feed: FeedSpec, entry: FeedEntry, accounts: list[str]) -> list[PlannedRow]:
        due = entry.seen_at
        expires = due + grace_of(feed.as_post())
        content = content_id(feed.id, entry.key)
        return [
            PlannedRow(feed.entry, entry.key, account, content, due, expires)
            for account in accounts
        ]

    def retire(self, project: Project, now: datetime) -> int:
        """Cancel the planned posts of feeds (or accounts) that left the schedule."""
        wanted = {
            f.entry: set(project.targets.get(f.entry, [])) for f in project.feeds if f.enabled
        }
        cancelled = cancel_feed_rows(self.store, wanted, now)
        forget_errors(self.store, [feed.id for feed in project.feeds if feed.enabled])
        if cancelled:
            log.info("%d planned feed posts cancelled: their feed or account left", cancelled)
        return cancelled


def _parsed(fetched: Fetched) -> ParsedFeed:
    """The feed fetched; whatever a document does to the parsers is that feed's error.

    Raises:
        FeedError: the document is not a feed, or made a parser fail.
    """
    try:
        return parse_feed(fetched.body, fetched.content_type, fetched.url)
    except FeedError:
        raise
    except Exception as exc:  # a feed is anyone's input: it must not stop the others
        log.debug("parsing %s failed", fetched.url, exc_info=True)
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise FeedError(f"{fetched.url}: could not be read ({reason})") from None


def _is_due(feed: FeedSpec, state: FeedState | None, now: datetime) -> bool:
    if state is None or state.last_fetch_at is None or state.url != feed.url:
        return True
    return now >= state.last_fetch_at + feed.every


def publication_item(store: Store, project: Project, row: Publication) -> FeedEntryItem:
    """The content a feed publication posts: its entry as stored, with the feed's template.

    Raises:
        KeyError: the entry is not in the store, or the feed left the schedule.
    """
    feed = project.feed(row.entry)
    if feed is None:
        raise KeyError(f"{row.entry} is no longer in the schedule")
    stored = feed_entry(store, feed.id, row.occurrence)
    if stored is None:
        raise KeyError(f"entry {row.occurrence} of {row.entry} is not in the store")
    state = feed_state(store, feed.id)
    entry = ParsedEntry(
        guid=stored.guid,
        title=stored.title,
        summary=stored.summary,
        link=stored.link,
        image=stored.image,
        author=stored.author,
        tags=tuple(stored.tags),
        published=stored.published_at,
    )
    return entry_item(feed, stored.key, entry, _zone(feed, project), state.title if state else "")


def stored_posts(store: Store, project: Project, until: datetime) -> list[StoredPost]:
    """The planned posts of feed entries due before ``until``, with their content (for plan)."""
    found = []
    for row in store.publications([Status.PLANNED], until=until):
        feed = project.feed(row.entry)
        if feed is None or row.account not in project.accounts:
            continue
        try:
            item = publication_item(store, project, row)
        except KeyError:
            continue
        due = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC)
        local = due.astimezone(_zone(feed, project))
        found.append(
            StoredPost(Occurrence(due, row.entry, row.occurrence, local), row.account, item)
        )
    return found
