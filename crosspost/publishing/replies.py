"""Answering members: what ``crosspost reply`` sends, and how the publisher sends it.

An answer is a publication of its own entry, ``reply:<inbox item id>``, whose
occurrence is the hash of the Markdown written, so that running the same command
twice finds the first record and sends nothing more. The Markdown is kept in the
row (``publication.message``): a retry (the daemon, after a transient failure)
renders and sends the same answer. The publisher sends an answer through the
connector's ``reply`` (never ``publish``: it would be a post of its own) and,
once it is out, marks the item answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from connectors.base import (
    Capability,
    Connector,
    InboxItem,
    Published,
    Rejected,
    RenderedPost,
    Replier,
)
from crosspost.rendering.markdown import render_markdown
from crosspost.rendering.markdown_forms import TextFormat, form_of
from crosspost.rendering.markup import unmark
from crosspost.rendering.render import text_hash
from crosspost.status import REPLY_PREFIX

if TYPE_CHECKING:  # the store (SQLAlchemy) is not needed to render an answer
    from crosspost.store import Publication, Store
    from crosspost.store.inbox import StoredItem

__all__ = [
    "REPLY_CONTENT",
    "Unanswerable",
    "answer_key",
    "can_reply",
    "interaction_of",
    "is_reply",
    "mark_sent",
    "render_reply",
    "reply_entry",
    "reply_row_post",
    "send_reply",
]

#: The content id recorded for answers: they have no content item.
REPLY_CONTENT = "crosspost-reply"


class Unanswerable(KeyError):
    """An answer row cannot be sent: its inbox item is gone, or its account cannot reply.

    A ``KeyError``, as for a scheduled post whose content is gone: the publisher
    records the row as failed with this message.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "the answer cannot be sent"


def reply_entry(interaction_id: int) -> str:
    """The entry of answers to inbox item ``interaction_id``."""
    return f"{REPLY_PREFIX}{interaction_id}"


def is_reply(entry: str) -> bool:
    """Whether ``entry`` is an answer to an inbox item."""
    return entry.startswith(REPLY_PREFIX)


def interaction_of(entry: str) -> int | None:
    """The inbox item id of an answer's entry, or None when ``entry`` is not one."""
    number = entry.removeprefix(REPLY_PREFIX)
    return int(number) if is_reply(entry) and number.isdigit() else None


def answer_key(source: str) -> str:
    """The occurrence of an answer: the same Markdown to the same item is one answer."""
    return text_hash((source.strip(),))[:16]


def can_reply(connector: Connector) -> bool:
    """Whether ``connector`` answers in a thread: the method AND the account's capability."""
    return isinstance(connector, Replier) and Capability.REPLY in connector.capabilities


def render_reply(connector: Connector, item: InboxItem, source: str) -> RenderedPost:
    """``source`` (Markdown) in the connector's form, as its answer to ``item``.

    Raises:
        Rejected: the connector cannot answer (check :func:`can_reply` first).
    """
    if not isinstance(connector, Replier) or not can_reply(connector):
        raise Rejected(f"{connector.name} cannot reply", platform=connector.name)
    form = form_of(connector)
    marked = unmark(render_markdown(source, form))
    links = (marked.links,) if form.format is TextFormat.RICH and marked.links else ()
    post = RenderedPost(parts=(marked.text,), content_id=REPLY_CONTENT, links=links)
    return connector.reply_post(item, post)


def _stored(store: Store, row: Publication) -> StoredItem:
    from crosspost.store.inbox import stored_item

    number = interaction_of(row.entry)
    stored = stored_item(store, number) if number is not None else None
    if stored is None:
        raise Unanswerable(f"inbox item {row.entry.removeprefix(REPLY_PREFIX)} is gone")
    return stored


def reply_row_post(store: Store, connector: Connector, row: Publication) -> RenderedPost:
    """The answer an answer row sends, rendered again from its Markdown.

    Raises:
        Unanswerable: its inbox item is no longer stored, or the account cannot reply.
    """
    if not can_reply(connector):
        raise Unanswerable(f"{connector.name} account {row.account!r} cannot reply")
    return render_reply(connector, _stored(store, row).item, row.message or "")


def send_reply(
    store: Store, connector: Connector, row: Publication, post: RenderedPost, key: str
) -> Published:
    """Send ``post`` as the answer of ``row`` through the connector's ``reply``.

    Raises:
        Unanswerable: its inbox item is no longer stored.
        AuthError, RateLimited, Rejected, Transient, Unknown: from the connector.
    """
    if not isinstance(connector, Replier) or not can_reply(connector):
        raise Rejected(f"{connector.name} cannot reply", platform=connector.name)
    return connector.reply(_stored(store, row).item, post, key)


def mark_sent(store: Store, row: Publication, at: datetime) -> None:
    """Record that the item of answer ``row`` is answered (at ``at``, unless it was before)."""
    from crosspost.store.inbox import mark_answered

    number = interaction_of(row.entry)
    if number is not None:
        mark_answered(store, [number], at)
