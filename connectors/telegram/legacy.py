"""The state file of older versions, moved into the store once.

Before the store kept them, the update reader kept in the connector's state file
the update offset, the newest reaction counts, a queue of member messages, the
discussion threads of our posts and album ids. On the first read with a store
they are written there in one batch, and then removed from the file, which
keeps only tokens from then on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from connectors.base import InboxItem, Metrics
from connectors.records import AccountRecords, CursorMove, ExtraEntry, Observed, RecordBatch
from connectors.telegram.models import Lenient
from connectors.telegram.updates import ALLOWED, OFFSET, WIDE, thread_entries

__all__ = ["LEGACY_KEYS", "Legacy", "legacy_batch", "without_legacy"]

#: Every key the state file held besides tokens.
LEGACY_KEYS = (
    "update_offset",
    "reactions",
    "inbox_on",
    "inbox_seq",
    "inbox_queue",
    "threads",
    "linked_groups",
    "albums",
)


class _Old(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Snapshot(_Old):
    total: int
    by_type: dict[str, int] = {}
    date: int = 0


class _Item(_Old):
    remote_id: str
    kind: str
    author: str
    author_id: str | None = None
    text: str = ""
    url: str | None = None
    created_at: datetime
    in_reply_to: str | None = None
    raw: dict[str, JsonValue] = {}


class _Queued(_Old):
    item: _Item


class _State(_Old):
    update_offset: Lenient[int] = None
    inbox_on: Lenient[bool] = None
    reactions: Lenient[dict[str, Lenient[_Snapshot]]] = None
    inbox_queue: Lenient[list[Lenient[_Queued]]] = None
    threads: Lenient[dict[str, str]] = None
    albums: Lenient[dict[str, list[int]]] = None


@dataclass(frozen=True)
class Legacy:
    """What an old state file held, as a batch for the store."""

    batch: RecordBatch
    #: Its discussion threads (``"<group>:<thread>"`` → our post), also in ``batch.extra``.
    threads: Mapping[str, str]


def legacy_batch(
    state: Mapping[str, JsonValue], records: AccountRecords, inbox: bool
) -> Legacy | None:
    """What the old ``state`` held, as a batch for ``records``; None when it holds nothing.

    The offset only moves forward: a store that read further already keeps it.
    """
    if not any(key in state for key in LEGACY_KEYS):
        return None
    try:
        old = _State.model_validate(state)
    except ValidationError:
        old = _State()
    threads = old.threads or {}
    batch = RecordBatch(
        cursors=_cursors(old, records, inbox),
        inbox=tuple(_item(q.item) for q in old.inbox_queue or [] if q is not None),
        observed=tuple(
            _observed(remote_id, snapshot)
            for remote_id, snapshot in (old.reactions or {}).items()
            if snapshot is not None
        ),
        extra=(
            *(ExtraEntry(rid, "album", list(ids)) for rid, ids in (old.albums or {}).items()),
            *thread_entries(threads),
        ),
    )
    return Legacy(batch, threads)


def without_legacy(state: dict[str, JsonValue]) -> None:
    """Drop everything but tokens from ``state`` (a ``ConnectorState.update`` change)."""
    for key in LEGACY_KEYS:
        state.pop(key, None)


def _cursors(old: _State, records: AccountRecords, inbox: bool) -> tuple[CursorMove, ...]:
    moves = []
    stored = records.cursor(OFFSET)
    if old.update_offset is not None and old.update_offset > int(stored or 0):
        moves.append(CursorMove(OFFSET, stored, str(old.update_offset)))
    allowed = records.cursor(ALLOWED)
    if inbox and old.inbox_on and allowed != WIDE:
        moves.append(CursorMove(ALLOWED, allowed, WIDE))
    return tuple(moves)


def _item(saved: _Item) -> InboxItem:
    return InboxItem(**saved.model_dump())


def _observed(remote_id: str, snapshot: _Snapshot) -> Observed:
    raw = {"total": snapshot.total, "by_type": snapshot.by_type, "date": snapshot.date}
    return Observed(
        remote_id,
        datetime.fromtimestamp(snapshot.date, UTC),
        Metrics(likes=snapshot.total, raw=raw),
    )
