"""The plan's state: how far entries are planned, feeds and their entries, approvals,
the daemons' heartbeats and the notifications already sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

__all__ = [
    "Approval",
    "DaemonHeartbeat",
    "EntryState",
    "FeedEntry",
    "FeedState",
    "Notification",
]


class EntryState(SQLModel, table=True):
    """How far ahead an entry's occurrences have been written down."""

    __tablename__ = "entry_state"

    entry: str = Field(primary_key=True)
    first_seen_at: datetime
    planned_until: datetime
    #: The fingerprint of the entry's definition as last synced (``planning.sync.definitions``),
    #: ``""`` once its rows were cancelled for leaving the schedule, None before r020.
    definition: str | None = None


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


class DaemonHeartbeat(SQLModel, table=True):
    """When each daemon process was last alive."""

    __tablename__ = "daemon_heartbeat"

    worker: str = Field(primary_key=True)
    alive_at: datetime
    started_at: datetime
    #: When the daemon stopped cleanly (None while it runs, or when it died).
    stopped_at: datetime | None = None


class Notification(SQLModel, table=True):
    """A problem a person was told about, so that each is told once."""

    __tablename__ = "notification"

    key: str = Field(primary_key=True)
    sent_at: datetime
    message: str = ""
