"""The tables. Only :mod:`crosspost.store` reads or writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Dialect,
    Index,
    String,
    UniqueConstraint,
    and_,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel, col

from crosspost.status import COMMENT_PREFIX, NOTIFY_PREFIX, ONE_OFF_PREFIX, REPLY_PREFIX, Status

__all__ = [
    "AccountClaim",
    "AccountHold",
    "AccountLimits",
    "AccountSnapshot",
    "Approval",
    "CollectCursor",
    "Conversion",
    "DaemonHeartbeat",
    "EntryState",
    "FeedEntry",
    "FeedState",
    "Follower",
    "FollowerEvent",
    "FollowerList",
    "InboxPoll",
    "Interaction",
    "MetricObservation",
    "MetricSnapshot",
    "Notification",
    "NOTIFY_PREFIX",
    "ONE_OFF_PREFIX",
    "Publication",
    "REPLY_PREFIX",
    "PublicationStep",
    "Status",
    "is_post",
]


class _StatusColumn(TypeDecorator[Status]):
    """A :class:`Status` stored as its plain string value (the column stays VARCHAR)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Status | str | None, dialect: Dialect) -> str | None:
        return None if value is None else Status(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> Status | None:
        return None if value is None else Status(value)


class Publication(SQLModel, table=True):
    """One occurrence of one entry for one account: the unit of exactly-once."""

    __table_args__ = (
        UniqueConstraint("entry", "occurrence", "account", name="uq_publication_key"),
        Index("ix_publication_due", "status", "due_at"),
        # A sync's per-entry reads: without it SQLite takes ix_publication_due and
        # scans every planned row of every entry for each one.
        Index("ix_publication_entry_status", "entry", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry: str = Field(index=True)
    occurrence: str
    account: str = Field(index=True)
    content_id: str
    status: Status = Field(
        default=Status.PLANNED, sa_column=Column(_StatusColumn(), nullable=False)
    )
    due_at: datetime
    #: After this, a publication never attempted is ``missed`` instead of sent late.
    expires_at: datetime
    next_attempt_at: datetime | None = None
    claimed_until: datetime | None = None
    claimed_by: str | None = None
    #: Set just before the request leaves; a claim that dies without it never sent anything.
    send_started_at: datetime | None = None
    #: The process holding the lease: a restart on the same host can tell it is gone.
    claimed_host: str | None = None
    claimed_pid: int | None = None
    #: Start time of that process (epoch seconds), so a reused pid is not taken for it.
    claimed_process_start: float | None = None
    #: One-offs: the Markdown file it was made from, to render it again on a retry.
    source: str | None = None
    #: Notifications: the message itself, written when the problem was seen.
    message: str | None = None
    attempts: int = 0
    remote_id: str | None = None
    url: str | None = None
    thread_ids: list[str] | None = Field(default=None, sa_column=Column(JSON))
    #: ``Published.extra``: what the connector needs again (album ids, a cid, …).
    extra: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    published_at: datetime | None = None
    error: str | None = None
    text_hash: str | None = None
    #: An announcement of an article waiting for this account's publication of the same
    #: occurrence (whose URL it links to); recording that one wakes it (rendering.articles).
    waits_for: str | None = None
    created_at: datetime
    updated_at: datetime


class PublicationStep(SQLModel, table=True):
    """One step of a publication that goes out in steps (a newsletter: one per recipient).

    Written by the worker that holds the publication, one short transaction per
    change, so that a publication interrupted by a crash resumes where it stopped
    (``connectors.progress``).
    """

    __tablename__ = "publication_step"

    publication_id: int = Field(foreign_key="publication.id", primary_key=True)
    #: The connector's name for the step (a recipient's address).
    name: str = Field(primary_key=True)
    #: ``connectors.progress.StepState``: started, done, refused, deferred or uncertain.
    state: str
    #: What the platform said (a refusal's reason); empty when nothing.
    detail: str = ""
    updated_at: datetime


def is_post() -> ColumnElement[bool]:
    """Publications that are posts to an audience: not notifications, not answers to members,
    not the first comments under posts (they are parts of their post).

    Answers (``crosspost reply``) count in the report's response figures, not as posts.
    """
    entry = col(Publication.entry)
    return and_(
        entry.not_like(f"{NOTIFY_PREFIX}%"),
        entry.not_like(f"{REPLY_PREFIX}%"),
        entry.not_like(f"{COMMENT_PREFIX}%"),
    )


class MetricSnapshot(SQLModel, table=True):
    """Reactions to one publication at one moment."""

    __tablename__ = "metric_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publication.id", index=True)
    collected_at: datetime
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    views: int | None = None
    bookmarks: int | None = None
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    #: The step of ``metrics.after`` (seconds after publishing) this snapshot covers;
    #: None for snapshots taken before steps were recorded (inferred from ``collected_at``).
    step: int | None = None


class MetricObservation(SQLModel, table=True):
    """The newest counts a platform pushed for one of an account's posts (any post of a thread).

    Written by connectors whose platform reports counts as events (through
    ``connectors.records``), read back by their ``fetch_metrics``; the collector
    then takes its snapshots from them as from any platform's answer.
    """

    __tablename__ = "metric_observation"

    account: str = Field(primary_key=True)
    remote_id: str = Field(primary_key=True)
    #: When the platform saw these counts (not when they were read).
    observed_at: datetime
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    views: int | None = None
    bookmarks: int | None = None
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class AccountSnapshot(SQLModel, table=True):
    """Audience figures of one account at one moment."""

    __tablename__ = "account_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(index=True)
    collected_at: datetime
    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    members: int | None = None
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class EntryState(SQLModel, table=True):
    """How far ahead an entry's occurrences have been written down."""

    __tablename__ = "entry_state"

    entry: str = Field(primary_key=True)
    first_seen_at: datetime
    planned_until: datetime
    #: The fingerprint of the entry's definition as last synced (``planning.sync.definitions``),
    #: ``""`` once its rows were cancelled for leaving the schedule, None before r020.
    definition: str | None = None


class DaemonHeartbeat(SQLModel, table=True):
    """When each daemon process was last alive."""

    __tablename__ = "daemon_heartbeat"

    worker: str = Field(primary_key=True)
    alive_at: datetime
    started_at: datetime


class Interaction(SQLModel, table=True):
    """Something a member wrote to or about us: a mention, a reply, a quote, a comment."""

    __tablename__ = "interaction"
    __table_args__ = (UniqueConstraint("account", "remote_id", name="uq_interaction_remote"),)

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(index=True)
    platform: str
    remote_id: str
    kind: str  # mention | reply | quote | comment
    author: str
    author_id: str | None = None
    text: str = ""
    url: str | None = None
    created_at: datetime
    #: Remote id of our post it answers, when it answers one.
    in_reply_to: str | None = None
    publication_id: int | None = Field(default=None, foreign_key="publication.id", index=True)
    collected_at: datetime
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    #: When we answered it (through crosspost or marked by hand); None while unanswered.
    answered_at: datetime | None = None


class Follower(SQLModel, table=True):
    """A follower currently known for an account (where the platform lists followers)."""

    __tablename__ = "follower"

    account: str = Field(primary_key=True)
    follower_id: str = Field(primary_key=True)
    handle: str = ""
    first_seen_at: datetime


class FollowerList(SQLModel, table=True):
    """An account whose follower list has been read: later lists are compared with it.

    Recorded explicitly because an empty ``follower`` set cannot tell "never
    listed" from "listed, nobody follows": only the very first list is a seed.
    """

    __tablename__ = "follower_list"

    account: str = Field(primary_key=True)
    first_listed_at: datetime
    last_listed_at: datetime


class FollowerEvent(SQLModel, table=True):
    """A join or a leave seen by comparing follower lists."""

    __tablename__ = "follower_event"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(index=True)
    follower_id: str
    handle: str = ""
    kind: str  # join | leave
    observed_at: datetime


class CollectCursor(SQLModel, table=True):
    """Where reading an account's inbox stopped last time."""

    __tablename__ = "collect_cursor"

    account: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    cursor: str
    updated_at: datetime


class InboxPoll(SQLModel, table=True):
    """When an account's inbox is read next; the interval grows while reads find nothing."""

    __tablename__ = "inbox_poll"

    account: str = Field(primary_key=True)
    every_seconds: int
    next_at: datetime


class AccountClaim(SQLModel, table=True):
    """One kind of an account's work (``collect``, ``publish``) as the daemons share it.

    A daemon leases the row before it works on the account (``crosspost.store.claims``);
    a rate limit the platform reported pauses the work for every daemon. Kind ``feed``
    leases fetching a feed: ``account`` then holds the feed's id.
    """

    __tablename__ = "account_claim"

    account: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    #: The worker holding the lease (None: free).
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    #: No daemon does this work for the account before then.
    paused_until: datetime | None = None
    paused_reason: str | None = None


class Conversion(SQLModel, table=True):
    """Conversions imported from an analytics export, keyed by UTM campaign and content."""

    __tablename__ = "conversion"
    __table_args__ = (
        UniqueConstraint("campaign", "content", "source", "day", name="uq_conversion_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(index=True)
    content: str = ""
    source: str = ""
    day: str = ""  # YYYY-MM-DD, or "" when the export has no date
    clicks: int | None = None
    conversions: int = 0
    value: float | None = None
    imported_at: datetime
    source_file: str = ""


class Notification(SQLModel, table=True):
    """A problem a person was told about, so that each is told once."""

    __tablename__ = "notification"

    key: str = Field(primary_key=True)
    sent_at: datetime
    message: str = ""


class AccountHold(SQLModel, table=True):
    """An account whose credentials failed: none of its posts are tried until it is lifted.

    Lifted when the account's settings (``settings_hash``) change, or by
    ``crosspost resolve --account NAME --retry``.
    """

    __tablename__ = "account_hold"

    account: str = Field(primary_key=True)
    reason: str
    #: Hash of the account's settings when it was held (see ``accounts.settings_hash``).
    settings_hash: str
    since: datetime


class AccountLimits(SQLModel, table=True):
    """The limits an account's server last reported (e.g. a Mastodon instance's)."""

    __tablename__ = "account_limits"

    account: str = Field(primary_key=True)
    #: Settings they were read with: another server or token may report others.
    settings_hash: str
    limits: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    reported_at: datetime


class FeedState(SQLModel, table=True):
    """One subscription of ``feeds:``: HTTP validators and how its last fetch went."""

    __tablename__ = "feed_state"

    feed: str = Field(primary_key=True)
    #: The address last fetched (the schedule may change it; the seen entries stay).
    url: str
    #: The feed's own title, from its last good fetch.
    title: str = ""
    #: The first fetch that worked: ``since: subscribed`` posts only what came after it.
    subscribed_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: datetime | None = None
    last_ok_at: datetime | None = None
    next_fetch_at: datetime | None = None
    #: Why the last fetch failed; None when it worked.
    error: str | None = None
    #: Entries the last good fetch found that had not been seen before.
    last_new: int = 0


class FeedEntry(SQLModel, table=True):
    """An entry of a feed, seen once: it is never posted a second time.

    ``key`` is the hash of the entry's stable id and is the ``occurrence`` of its
    publications; the fields are the entry as first seen (what is posted).
    """

    __tablename__ = "feed_entry"

    feed: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    #: The entry's own id (guid, id, link or a hash of title and link), as read.
    guid: str
    title: str = ""
    summary: str = ""
    link: str | None = None
    image: str | None = None
    author: str = ""
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    published_at: datetime | None = None
    seen_at: datetime
    #: ``planned`` (its publications were written down), ``old`` (before ``since``)
    #: or ``capped`` (over ``max_per_fetch``).
    decision: str


class Approval(SQLModel, table=True):
    """Content a person approved with ``crosspost approve``, as it read then."""

    __tablename__ = "approval"

    content_id: str = Field(primary_key=True)
    #: :func:`crosspost.planning.approval.content_hash` when approved: an edit needs a new approval.
    content_hash: str = Field(primary_key=True)
    approved_by: str
    approved_at: datetime
