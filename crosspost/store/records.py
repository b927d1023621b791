"""What can be written on a publication when it leaves ``publishing`` or ``unknown``.

One small value per kind of outcome, so that a caller cannot write a status
without the fields that go with it (a ``published`` row without its remote
id, a retry without its time). :meth:`crosspost.store.Store.finish`,
``settle`` and ``resolve`` take them; ``columns()`` is what lands in the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement
from sqlmodel import col

from crosspost.status import Status
from crosspost.store.models import Publication

__all__ = [
    "Awaiting",
    "Decision",
    "Ended",
    "Finish",
    "Noted",
    "Replanned",
    "Requeued",
    "Retracted",
    "Sent",
]


@dataclass(frozen=True)
class Sent:
    """``published``: the platform has it, here."""

    remote_id: str | None
    url: str | None
    published_at: datetime | None
    thread_ids: tuple[str, ...] = ()
    #: What the connector needs later about the post (album ids, a thread map), as JSON.
    extra: dict[str, object] = field(default_factory=dict)
    #: sha256 of the parts that were sent (:func:`crosspost.rendering.render.text_hash`).
    text_hash: str | None = None
    #: Why a person should look anyway (a thread that went out incomplete).
    note: str | None = None

    @property
    def status(self) -> Status:
        """The status it records."""
        return Status.PUBLISHED

    def columns(self) -> dict[str, object]:
        """The row's new values."""
        return {
            "status": self.status,
            "remote_id": self.remote_id,
            "url": self.url,
            "published_at": self.published_at,
            "thread_ids": list(self.thread_ids) or None,
            "extra": dict(self.extra) or None,
            "text_hash": self.text_hash,
            "error": self.note,
            "next_attempt_at": None,
        }


@dataclass(frozen=True)
class Ended:
    """``failed``, ``unknown``, ``missed`` or ``cancelled``: nothing more happens by itself."""

    status: Literal[Status.FAILED, Status.UNKNOWN, Status.MISSED, Status.CANCELLED]
    error: str

    def columns(self) -> dict[str, object]:
        """The row's new values."""
        return {"status": self.status, "error": self.error, "next_attempt_at": None}


@dataclass(frozen=True)
class Requeued:
    """``planned`` again: tried again at ``at`` (None: as soon as it is due)."""

    at: datetime | None
    error: str | None
    #: The claim was not a try: the row was handed back untried, or rate limited.
    undo_attempt: bool = False
    #: An announcement waiting for this account's article (crosspost.rendering.articles).
    waits_for: str | None = None
    #: A later end of its grace: a wait is not a miss (None: unchanged).
    expires_at: datetime | None = None

    @property
    def status(self) -> Status:
        """The status it records."""
        return Status.PLANNED

    def columns(self) -> dict[str, object]:
        """The row's new values (``attempts`` as an expression: claims count in the database)."""
        values: dict[str, object] = {
            "status": self.status,
            "next_attempt_at": self.at,
            "error": self.error,
        }
        if self.undo_attempt:
            attempts: ColumnElement[int] = col(Publication.attempts) - 1
            values["attempts"] = attempts
        values["waits_for"] = self.waits_for
        if self.expires_at is not None:
            values["expires_at"] = self.expires_at
        return values


@dataclass(frozen=True)
class Awaiting:
    """``awaiting-approval``: handed back untried until its content is approved."""

    error: str

    @property
    def status(self) -> Status:
        """The status it records."""
        return Status.AWAITING_APPROVAL

    def columns(self) -> dict[str, object]:
        """The row's new values (the claim was not a try)."""
        attempts: ColumnElement[int] = col(Publication.attempts) - 1
        return {
            "status": self.status,
            "error": self.error,
            "next_attempt_at": None,
            "attempts": attempts,
        }


@dataclass(frozen=True)
class Replanned:
    """``planned`` for a new time, by a person (``crosspost resolve --retry``)."""

    due_at: datetime
    expires_at: datetime

    def columns(self) -> dict[str, object]:
        """The row's new values."""
        return {
            "status": Status.PLANNED,
            "due_at": self.due_at,
            "expires_at": self.expires_at,
            "next_attempt_at": None,
            "error": None,
        }


@dataclass(frozen=True)
class Retracted:
    """``retracted``: every part was deleted from the platform; ids and URL stay as history."""

    def columns(self) -> dict[str, object]:
        """The row's new values."""
        return {"status": Status.RETRACTED, "error": None, "next_attempt_at": None}


@dataclass(frozen=True)
class Noted:
    """The status stays; ``error`` says why a person should look (a retract that failed)."""

    error: str

    def columns(self) -> dict[str, object]:
        """The row's new values."""
        return {"error": self.error}


#: What a worker records for a publication it claimed (or reconciliation, for an unknown one).
Finish = Sent | Ended | Requeued | Awaiting
#: What a person decides about a publication (``crosspost resolve``, ``crosspost retract``).
Decision = Sent | Ended | Replanned | Retracted | Noted
