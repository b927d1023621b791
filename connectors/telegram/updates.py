"""A page of ``getUpdates`` sorted into what the store keeps: offset, counts, messages, threads."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from connectors.base import InboxItem, Metrics
from connectors.records import CursorMove, ExtraEntry, Observed, RecordBatch
from connectors.telegram.members import DISCUSSION, Members
from connectors.telegram.models import MessageReactionCountUpdated, Update

__all__ = [
    "ALLOWED",
    "MESSAGES",
    "NARROW",
    "OFFSET",
    "REACTIONS",
    "WIDE",
    "observed",
    "page_batch",
    "thread_entries",
]

#: The cursor of the stream: the ``offset`` to ask ``getUpdates`` for next.
OFFSET = "updates"
#: The cursor holding the ``allowed_updates`` list, once the inbox widened it.
ALLOWED = "allowed_updates"
#: The update type that carries reaction counts of channel posts.
REACTIONS = "message_reaction_count"
#: Member messages, read once the inbox is in use.
MESSAGES = "message"
NARROW = json.dumps([REACTIONS])
WIDE = json.dumps([REACTIONS, MESSAGES])


def observed(counted: MessageReactionCountUpdated) -> Observed:
    """The reaction total of a message as ``likes``, with the count of each reaction."""
    by_type = {reaction.type.key: reaction.total_count for reaction in counted.reactions}
    total = sum(by_type.values())
    return Observed(
        remote_id=f"{counted.chat.id}:{counted.message_id}",
        at=datetime.fromtimestamp(counted.date, UTC),
        metrics=Metrics(
            likes=total, raw={"total": total, "by_type": by_type, "date": counted.date}
        ),
    )


def page_batch(
    updates: Sequence[Update], offset: str | None, members: Members | None
) -> RecordBatch:
    """What to store from ``updates``, read from ``offset``: all of it, or none of it.

    ``members`` sorts member messages (None: the page has none). The threads it
    learns are written with the page, and so are the ones learned before whose
    publications were not recorded yet.
    """
    start = int(offset or 0)
    end = max([start, *(update.update_id + 1 for update in updates)])
    cursors = (CursorMove(OFFSET, offset, str(end)),) if end != start else ()
    inbox: list[InboxItem] = []
    if members is not None:
        found = (members.item(u.message) for u in updates if u.message is not None)
        inbox = [item for item in found if item is not None]
    return RecordBatch(
        cursors=cursors,
        inbox=tuple(inbox),
        observed=tuple(
            observed(u.message_reaction_count) for u in updates if u.message_reaction_count
        ),
        extra=thread_entries(members.threads.learned) if members is not None else (),
    )


def thread_entries(threads: Mapping[str, str]) -> tuple[ExtraEntry, ...]:
    """Each thread (``"<group>:<thread>"`` → our post) as an entry of its post's extra."""
    return tuple(ExtraEntry(post, DISCUSSION, {link: post}) for link, post in threads.items())
