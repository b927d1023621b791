"""What members wrote to us, as ``crosspost inbox`` lists it, and whether we answered.

Reads the ``interaction`` rows the metrics collector stored, with the
publication each one answers; writes only ``answered_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from connectors.base import InboxItem
from crosspost.store import Store
from crosspost.store.models import Interaction, Publication
from crosspost.store.sessions import utc

__all__ = [
    "InboxEntry",
    "StoredItem",
    "inbox_entries",
    "mark_answered",
    "nearby_ids",
    "stored_item",
]


@dataclass(frozen=True)
class InboxEntry:
    """One member-written item, with the post of ours it answers (when it answers one)."""

    id: int
    account: str
    platform: str
    kind: str
    author: str
    text: str
    url: str | None
    created_at: datetime
    answered_at: datetime | None
    #: The schedule entry, content id and URL of our post it answers.
    entry: str | None = None
    content_id: str | None = None
    post_url: str | None = None


def inbox_entries(
    store: Store,
    accounts: Sequence[str] = (),
    since: datetime | None = None,
    unanswered: bool = False,
    limit: int | None = None,
) -> list[InboxEntry]:
    """Member-written items, newest first.

    Args:
        store: The store.
        accounts: Only these accounts (all when empty).
        since: Only items written at or after this moment.
        unanswered: Only items not answered yet.
        limit: At most this many (all when None).
    """
    query = (
        select(Interaction, Publication.entry, Publication.content_id, Publication.url)
        .outerjoin(Publication, col(Interaction.publication_id) == col(Publication.id))
        .order_by(col(Interaction.created_at).desc(), col(Interaction.id).desc())
    )
    if accounts:
        query = query.where(col(Interaction.account).in_(list(accounts)))
    if since is not None:
        query = query.where(col(Interaction.created_at) >= utc(since))
    if unanswered:
        query = query.where(col(Interaction.answered_at).is_(None))
    if limit is not None:
        query = query.limit(limit)
    with Session(store.engine) as session:
        return [_entry(*row) for row in session.exec(query).all()]


def _entry(
    item: Interaction, entry: str | None, content_id: str | None, post_url: str | None
) -> InboxEntry:
    return InboxEntry(
        id=int(item.id or 0),
        account=item.account,
        platform=item.platform,
        kind=item.kind,
        author=item.author,
        text=item.text,
        url=item.url,
        created_at=utc(item.created_at),
        answered_at=utc(item.answered_at) if item.answered_at else None,
        entry=entry,
        content_id=content_id,
        post_url=post_url,
    )


def mark_answered(store: Store, interaction_ids: Sequence[int], at: datetime) -> list[int]:
    """Record that these items were answered at ``at`` (the first answer's time is kept).

    Returns:
        The ids that exist (marked now or before); the others are unknown.
    """
    ids = list(interaction_ids)
    with Session(store.engine) as session:
        found = session.exec(select(Interaction.id).where(col(Interaction.id).in_(ids))).all()
        session.execute(
            update(Interaction)
            .where(col(Interaction.id).in_(ids), col(Interaction.answered_at).is_(None))
            .values(answered_at=utc(at))
        )
        session.commit()
    return sorted(int(i) for i in found if i is not None)


@dataclass(frozen=True)
class StoredItem:
    """One inbox item as collected, for answering it: the account and what the connector read."""

    id: int
    account: str
    platform: str
    item: InboxItem
    answered_at: datetime | None


def stored_item(store: Store, interaction_id: int) -> StoredItem | None:
    """The inbox item ``interaction_id`` (the ``#`` that ``crosspost inbox`` shows), or None."""
    with Session(store.engine) as session:
        row = session.get(Interaction, interaction_id)
    if row is None:
        return None
    raw = dict(row.raw or {})
    item = InboxItem(
        remote_id=row.remote_id,
        kind=row.kind,
        author=row.author,
        author_id=row.author_id,
        text=row.text,
        url=row.url,
        created_at=utc(row.created_at),
        in_reply_to=row.in_reply_to,
        raw=raw,
        question=raw.get("question") is True,
    )
    answered = utc(row.answered_at) if row.answered_at else None
    return StoredItem(interaction_id, row.account, row.platform, item, answered)


def nearby_ids(store: Store, interaction_id: int, count: int = 3) -> list[int]:
    """Ids of existing items closest to ``interaction_id`` (for a "did you mean")."""
    with Session(store.engine) as session:
        below = session.exec(
            select(Interaction.id)
            .where(col(Interaction.id) < interaction_id)
            .order_by(col(Interaction.id).desc())
            .limit(count)
        ).all()
        above = session.exec(
            select(Interaction.id)
            .where(col(Interaction.id) > interaction_id)
            .order_by(col(Interaction.id))
            .limit(count)
        ).all()
    found = [int(i) for i in [*below, *above] if i is not None]
    return sorted(found, key=lambda i: (abs(i - interaction_id), i))[:count]
