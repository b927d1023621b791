"""``crosspost resolve``'s step for one publication: a person's decision, recorded.

A publication that cannot decide itself (``unknown``, ``failed``, ``missed``, or one
still to come that should not go out) is marked published by hand, planned again
now, or skipped. Kept apart from :mod:`crosspost.publishing.oneoff`, so recording a
decision loads no publisher.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from crosspost.errors import ConfigError, Problem
from crosspost.status import Status
from crosspost.store import Decision, Ended, Publication, Replanned, Sent, Store

__all__ = ["RESOLVABLE", "resolve_publication"]


#: What each decision may be taken on.
RESOLVABLE = {
    "published": {Status.UNKNOWN, Status.FAILED, Status.MISSED},
    "retry": {Status.UNKNOWN, Status.FAILED, Status.MISSED},
    "skip": {
        Status.UNKNOWN,
        Status.FAILED,
        Status.MISSED,
        Status.PLANNED,
        Status.AWAITING_APPROVAL,
    },
}


def resolve_publication(
    store: Store, publication_id: int, action: str, url: str | None, now: datetime
) -> Publication:
    """Record a person's decision about a publication.

    Raises:
        ConfigError: no such publication, or it is not in a state the action applies to.
    """
    row = store.get(publication_id)
    if row is None:
        raise ConfigError(
            [
                Problem.at(
                    "crosspost resolve",
                    1,
                    1,
                    f"no publication {publication_id} (see crosspost status)",
                )
            ]
        )
    if row.status not in RESOLVABLE[action]:
        allowed = ", ".join(sorted(RESOLVABLE[action]))
        raise ConfigError(
            [
                Problem.at(
                    "crosspost resolve",
                    1,
                    1,
                    f"publication {publication_id} is {row.status}; "
                    f"--{action} applies to: {allowed}",
                )
            ]
        )
    decision: Decision
    if action == "published":
        decision = Sent(row.remote_id or url, url, now, note="marked published by hand")
    elif action == "retry":
        decision = Replanned(due_at=now, expires_at=now + timedelta(hours=1))
    else:
        decision = Ended(Status.CANCELLED, "skipped by hand")
    resolved = store.resolve(publication_id, now, decision)
    assert resolved is not None
    return resolved
