"""The ``publication`` table, the unit of exactly-once, and the steps of one sent in steps.

:func:`is_post` is here too: the filter every count of posts applies to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Dialect, Index, String, UniqueConstraint, and_
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel, col

from crosspost.status import COMMENT_PREFIX, NOTIFY_PREFIX, REPLY_PREFIX, Status

__all__ = [
    "Publication",
    "PublicationStep",
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
        # An account's next due row and "is one of its posts being sent": without it SQLite
        # walks every row the account ever had, or every due row of every account.
        Index("ix_publication_account_due", "account", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry: str = Field(index=True)
    occurrence: str
    account: str
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
