"""What the report's response figures are made of: the items members wrote, and our answers.

An item counts as answered from its first answer on: ``interaction.answered_at`` (set
by ``crosspost reply`` or ``crosspost inbox --mark-answered``) or the earliest answer
published through ``crosspost reply`` (a publication of entry ``reply:<item id>``),
whichever came first. Connectors leave the account's own posts out of the inbox, so
an answer written on the platform itself counts once someone marks the item answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlmodel import col

from crosspost.report_rows import PAST_REPLIES, ReceivedItem, answered_item
from crosspost.status import REPLY_PREFIX, Status
from crosspost.store import Store
from crosspost.store.models import Interaction, Publication
from crosspost.store.sessions import utc

__all__ = ["received_items"]


def _earliest(*moments: datetime | None) -> datetime | None:
    known = [utc(m) for m in moments if m is not None]
    return min(known) if known else None


def _received(accounts: Sequence[str], since: datetime, until: datetime) -> Any:
    """The WHERE clause of "items received by ``accounts`` in ``[since, until)``"."""
    return and_(
        col(Interaction.account).in_(list(accounts)),
        col(Interaction.created_at) >= since,
        col(Interaction.created_at) < until,
    )


def _answers(store: Store, accounts: Sequence[str], since: datetime) -> dict[int, datetime]:
    """Item id → when its first answer sent through crosspost went out.

    An answer's entry is ``reply:<item id>``: the answers are found by that prefix (a
    range the entry index serves), not by joining items to ``'reply:' || id``, which no
    index serves (every item met every publication: most of a report's time). An answer
    goes out after its item came, so answers to items received since ``since`` went
    out after it; answers to older items are read too and never asked for.
    """
    query = (
        select(col(Publication.entry), func.min(col(Publication.published_at)))
        .where(
            col(Publication.entry) >= REPLY_PREFIX,
            col(Publication.entry) < PAST_REPLIES,
            col(Publication.status) == Status.PUBLISHED,
            col(Publication.account).in_(list(accounts)),
            col(Publication.published_at) >= since,
        )
        .group_by(col(Publication.entry))
    )
    with store.engine.connect() as connection:
        rows: Sequence[Any] = connection.execute(query).all()
    answers: dict[int, datetime] = {}
    for entry, at in rows:
        item = answered_item(str(entry))
        if item is not None and at is not None:
            answers[item] = utc(at)
    return answers


def received_items(
    store: Store, accounts: Sequence[str], since: datetime, until: datetime
) -> list[ReceivedItem]:
    """Items received by ``accounts`` in ``[since, until)``, oldest first, with their answer."""
    query = (
        select(
            col(Interaction.id),
            col(Interaction.account),
            col(Interaction.platform),
            col(Interaction.text),
            col(Interaction.raw),
            col(Interaction.created_at),
            col(Interaction.answered_at),
        )
        .where(_received(accounts, since, until))
        .order_by(col(Interaction.created_at), col(Interaction.id))
    )
    answers = _answers(store, accounts, since)
    with store.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [
        ReceivedItem(
            id=int(row["id"]),
            account=row["account"],
            platform=row["platform"],
            text=row["text"] or "",
            flagged_question=bool((row["raw"] or {}).get("question") is True),
            created_at=utc(row["created_at"]),
            first_answer=_earliest(row["answered_at"], answers.get(int(row["id"]))),
        )
        for row in rows
    ]
