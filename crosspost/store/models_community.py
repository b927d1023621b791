"""The community tables: what members wrote to us, followers, and where reading them stopped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "CollectCursor",
    "Follower",
    "FollowerEvent",
    "FollowerList",
    "InboxPoll",
    "Interaction",
]


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
