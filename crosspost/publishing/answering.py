"""``crosspost reply``: answer one inbox item now, recorded like any other publication.

The answer is a one-off publication of entry ``reply:<item id>`` (see
:mod:`crosspost.publishing.replies`); its occurrence is the hash of the Markdown, so the
same answer to the same item is sent once however often the command runs. It is
claimed and sent by the :class:`~crosspost.publishing.publisher.Publisher`, so a rate limit,
a lost answer or a hold is handled as for every post.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, Literal

from connectors.base import Connector, RenderedPost
from crosspost.errors import CrosspostError
from crosspost.loading.limits import apply_reported_limits
from crosspost.loading.project import Project
from crosspost.planning.pending import waiting_for
from crosspost.publishing.publisher import Publisher
from crosspost.publishing.replies import (
    REPLY_CONTENT,
    answer_key,
    can_reply,
    render_reply,
    reply_entry,
)
from crosspost.status import Status
from crosspost.store import PlannedRow, Store
from crosspost.store.inbox import StoredItem, nearby_ids, stored_item

__all__ = ["AnswerResult", "BadReply", "answer_now"]

#: An answer's state: its publication's, or not recorded (a dry run, a held account).
AnswerStatus = Status | Literal["dry-run", "held"]
#: How long a failed answer stays due for the daemon to retry.
ANSWER_WITHIN = timedelta(days=1)


class BadReply(CrosspostError):
    """The item, its account or the text cannot be answered as asked (bad input, exit 2)."""

    exit_code: ClassVar[int] = 2


@dataclass(frozen=True)
class AnswerResult:
    """What happened to one answer."""

    item: int
    account: str
    platform: str
    status: AnswerStatus
    text: str
    #: The answer's length as its platform counts it, against ``limit`` in ``unit``.
    length: int
    limit: int
    unit: str
    in_reply_to: str
    author: str
    url: str | None = None
    error: str | None = None
    problems: list[str] = field(default_factory=list)


def _item(store: Store, item_id: int) -> StoredItem:
    stored = stored_item(store, item_id)
    if stored is not None:
        return stored
    close = nearby_ids(store, item_id)
    hint = f"; did you mean {' or '.join(f'#{i}' for i in close)}?" if close else ""
    raise BadReply(f"no inbox item #{item_id}{hint} (crosspost inbox lists them)")


def _connector(project: Project, stored: StoredItem) -> Connector:
    if stored.account not in project.accounts:
        raise BadReply(
            f"inbox item #{stored.id} belongs to account {stored.account!r}, "
            "which the schedule no longer defines"
        )
    connector = project.connector(stored.account)
    if not can_reply(connector):
        raise BadReply(
            f"account {stored.account!r} ({connector.name}) cannot reply through crosspost; "
            f"answer on the platform, then: crosspost inbox --mark-answered {stored.id}"
        )
    return connector


def _result(
    stored: StoredItem, connector: Connector, post: RenderedPost, status: AnswerStatus
) -> AnswerResult:
    limits = connector.effective_limits
    return AnswerResult(
        item=stored.id,
        account=stored.account,
        platform=connector.name,
        status=status,
        text=post.text,
        length=connector.measure(post.text),
        limit=limits.max_length,
        unit=limits.unit,
        in_reply_to=stored.item.url or stored.item.remote_id,
        author=stored.item.author,
        problems=connector.check(post),
    )


def answer_now(
    project: Project,
    store: Store,
    item_id: int,
    source: str,
    *,
    dry_run: bool = False,
    clock: Callable[[], datetime],
) -> AnswerResult:
    """Render ``source`` (Markdown) as the answer to inbox item ``item_id`` and send it.

    Raises:
        BadReply: unknown item, an account that cannot reply, an empty answer, or one
            its platform would refuse (nothing is sent then).
    """
    if not source.strip():
        raise BadReply("the answer is empty")
    stored = _item(store, item_id)
    connector = _connector(project, stored)
    apply_reported_limits(store, project)
    post = render_reply(connector, stored.item, source)
    checked = _result(stored, connector, post, "dry-run")
    if dry_run:
        return checked
    if checked.problems:
        raise BadReply(f"#{item_id} → {stored.account}: {'; '.join(checked.problems)}")
    publisher = Publisher(store, project, clock=clock)
    publisher.refresh_holds()
    if stored.account in publisher.held:
        reason = publisher.held[stored.account]
        return _with(checked, "held", error=f"not sent: the account is held ({reason})")
    return _send(publisher, store, stored, source, checked)


def _with(result: AnswerResult, status: AnswerStatus, **changes: str | None) -> AnswerResult:
    values = {**result.__dict__, "status": status, "problems": [], **changes}
    return AnswerResult(**values)


def _send(
    publisher: Publisher, store: Store, stored: StoredItem, source: str, checked: AnswerResult
) -> AnswerResult:
    now = publisher.clock()
    entry, occurrence = reply_entry(stored.id), answer_key(source)
    planned = PlannedRow(
        entry, occurrence, stored.account, REPLY_CONTENT, now, now + ANSWER_WITHIN, message=source
    )
    row = store.add_oneoff(planned, now) or store.find(entry, occurrence, stored.account)
    assert row is not None and row.id is not None
    if row.status != Status.PLANNED:
        return _with(checked, row.status, url=row.url, error=_already(row.status))
    claimed = store.claim(row.id, publisher.worker_id, publisher.lease, now, publisher.holder)
    if claimed is None:
        raise CrosspostError(f"answer {row.id} is being sent by another process")
    outcome = publisher.publish_row(claimed)
    error = outcome.error
    if outcome.status == Status.PLANNED:  # a transient failure: the daemon retries it
        waiting = store.get(row.id)
        assert waiting is not None
        error = waiting_for(waiting, publisher.clock(), publisher.held).describe()
    return _with(checked, outcome.status, url=outcome.url, error=error)


def _already(status: Status) -> str:
    if status == Status.PUBLISHED:
        return "already answered with this text; nothing sent"
    return f"this answer was tried before and is {status}; nothing sent (see crosspost status)"
