"""What a run did to one publication, and the values every step of publishing shares.

:class:`Outcome` is what :class:`~crosspost.publishing.publisher.Publisher` returns for each
publication it touched; :func:`idempotency_key` names one publication on every attempt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from connectors.base import Published, RenderedPost
from crosspost.rendering.render import text_hash
from crosspost.status import Status
from crosspost.store import Publication, Sent

__all__ = ["Outcome", "Ready", "idempotency_key", "outcome_of", "sent_from"]


def idempotency_key(entry: str, occurrence: str, account: str) -> str:
    """The same key for every attempt of one publication, and only for it."""
    digest = hashlib.sha256(f"{entry}\x1f{occurrence}\x1f{account}".encode()).hexdigest()
    return f"crosspost-{digest[:32]}"


@dataclass(frozen=True)
class Outcome:
    """What happened to one publication in this run."""

    publication_id: int
    entry: str
    account: str
    status: Status
    url: str | None = None
    error: str | None = None
    #: ``"credentials"`` when the account's credentials failed (reported per account).
    cause: str | None = None
    #: What happened to the publications sent right after this one (its first comment).
    then: tuple[Outcome, ...] = ()

    def flat(self) -> list[Outcome]:
        """This outcome, then those of the publications sent right after it."""
        return [self, *(o for after in self.then for o in after.flat())]


@dataclass(frozen=True)
class Ready:
    """An account's next publication, claimed and marked as sending when the one before
    it was recorded (:mod:`crosspost.store.handover`): the next call sends it."""

    row: Publication
    post: RenderedPost


def sent_from(published: Published, post: RenderedPost, note: str | None = None) -> Sent:
    """What the store records of a post the platform has."""
    return Sent(
        remote_id=published.remote_id,
        url=published.url,
        published_at=published.published_at,
        thread_ids=tuple(published.thread_ids),
        extra=dict(published.extra),
        text_hash=text_hash(post.parts),
        note=note or published.note,
    )


def outcome_of(
    row: Publication, status: Status, url: str | None = None, error: str | None = None
) -> Outcome:
    """The outcome of ``row`` now in ``status``."""
    assert row.id is not None
    return Outcome(row.id, row.entry, row.account, status, url or row.url, error)
