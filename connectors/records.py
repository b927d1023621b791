"""What the core keeps in its store for a connector that reads a stream of pushed events.

Most platforms answer questions ("how many likes has post 42?"), so the core asks
and stores the answer. A few push instead: Telegram's ``getUpdates`` hands out
each reaction count and member message once, and confirms it away as soon as the
next page is asked for. Such a connector must keep what it read (where the stream
stopped, the newest counts, the member messages, references that belong to a
publication) until the core asks for it, and keep it where the core's other data
lives: in the store, written in one transaction with the position in the stream.

The core hands such a connector an :class:`AccountRecords` of its account (see
:class:`KeepsRecords`); :class:`MemoryRecords` is the stand-in for tests and for
connectors built without a store. Rotating tokens are not records: they stay in
the connector's :class:`~connectors.base.ConnectorState` file, because the store
holds no secrets.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import JsonValue

# docs/writing-a-connector.md tells connector authors to import it from here too.
from connectors.abilities import KeepsRecords
from connectors.base import InboxItem, Metrics

__all__ = [
    "AccountRecords",
    "CursorMove",
    "CursorMoved",
    "ExtraEntry",
    "KeepsRecords",
    "MemoryRecords",
    "Observed",
    "RecordBatch",
    "Written",
    "merge_extra",
    "newest_observations",
]


class CursorMoved(Exception):
    """Another reader moved the cursor first; nothing of the batch was written.

    What the batch held is still unconfirmed on the platform (it is confirmed only
    by asking for the next position), so it is read again from the stored cursor.
    """


@dataclass(frozen=True)
class CursorMove:
    """Move the cursor ``name`` from ``old`` (the value read before; None: unset) to ``new``."""

    name: str
    old: str | None
    new: str


@dataclass(frozen=True)
class Observed:
    """Counts the platform reported for one post at ``at``; the newest report wins."""

    remote_id: str
    at: datetime
    metrics: Metrics


@dataclass(frozen=True)
class ExtraEntry:
    """Something to add to the ``extra`` of the publication that has ``remote_id``.

    ``remote_id`` may be any post of a thread. Entries only add: a key already
    there is kept, and when both the stored and the new value are mappings, the
    keys missing from the stored one are added. So an entry can be written twice,
    or by two threads, without losing or changing anything.
    """

    remote_id: str
    key: str
    value: JsonValue


@dataclass(frozen=True)
class RecordBatch:
    """What one read produced; written in one transaction, or not at all."""

    cursors: tuple[CursorMove, ...] = ()
    #: Member messages, stored as interactions (an item already stored is left alone).
    inbox: tuple[InboxItem, ...] = ()
    observed: tuple[Observed, ...] = ()
    extra: tuple[ExtraEntry, ...] = ()


@dataclass(frozen=True)
class Written:
    """What a batch changed."""

    #: Interactions that were new.
    interactions: int = 0
    #: Remote ids of extra entries that no publication of the account has (yet).
    unmatched: frozenset[str] = frozenset()


class AccountRecords(Protocol):
    """One account's records in the core's store."""

    def cursor(self, name: str) -> str | None:
        """The cursor ``name`` as last written, None before the first write."""
        ...

    def observed(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """The newest counts observed for each of ``remote_ids`` that has any."""
        ...

    def extras(self, key: str) -> dict[str, JsonValue]:
        """``extra[key]`` of the account's newest publications that have it, by remote id."""
        ...

    def write(self, batch: RecordBatch) -> Written:
        """Write ``batch`` in one transaction.

        Raises:
            CursorMoved: a cursor is no longer at its ``old`` value; nothing was written.
        """
        ...


def merge_extra(extra: Mapping[str, JsonValue] | None, entry: ExtraEntry) -> dict[str, JsonValue]:
    """``extra`` with ``entry`` added (see :class:`ExtraEntry`: nothing is replaced)."""
    merged = dict(extra or {})
    old, new = merged.get(entry.key), entry.value
    if entry.key not in merged:
        merged[entry.key] = new
    elif isinstance(old, dict) and isinstance(new, dict):
        merged[entry.key] = {**new, **old}
    return merged


def newest_observations(observed: Sequence[Observed]) -> dict[str, Observed]:
    """The newest of ``observed`` per remote id (the later one on a tie)."""
    newest: dict[str, Observed] = {}
    for item in observed:
        known = newest.get(item.remote_id)
        if known is None or item.at >= known.at:
            newest[item.remote_id] = item
    return newest


@dataclass
class MemoryRecords:
    """:class:`AccountRecords` that live as long as the object (tests, no store).

    ``publications`` maps a publication's remote id to its ``extra``; ``parts``
    maps a later post of a thread to the remote id of its publication.
    """

    publications: dict[str, dict[str, JsonValue]] = field(default_factory=dict)
    parts: dict[str, str] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    interactions: dict[str, InboxItem] = field(default_factory=dict)
    observations: dict[str, Observed] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def cursor(self, name: str) -> str | None:
        """The cursor ``name``."""
        return self.cursors.get(name)

    def observed(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """The newest counts of each id that has some."""
        found = {rid: self.observations[rid] for rid in remote_ids if rid in self.observations}
        return {rid: item.metrics for rid, item in found.items()}

    def extras(self, key: str) -> dict[str, JsonValue]:
        """``extra[key]`` of every publication that has it."""
        return {rid: extra[key] for rid, extra in self.publications.items() if key in extra}

    def write(self, batch: RecordBatch) -> Written:
        """Apply ``batch`` under one lock; a moved cursor leaves everything as it was."""
        with self._lock:
            for move in batch.cursors:
                if self.cursors.get(move.name) != move.old:
                    raise CursorMoved(move.name)
            self.cursors.update({move.name: move.new for move in batch.cursors})
            new = [item for item in batch.inbox if item.remote_id not in self.interactions]
            self.interactions.update({item.remote_id: item for item in new})
            for rid, item in newest_observations(batch.observed).items():
                known = self.observations.get(rid)
                if known is None or item.at >= known.at:
                    self.observations[rid] = item
            unmatched = set()
            for entry in batch.extra:
                owner = self.parts.get(entry.remote_id, entry.remote_id)
                if owner not in self.publications:
                    unmatched.add(entry.remote_id)
                    continue
                self.publications[owner] = merge_extra(self.publications[owner], entry)
            return Written(len({item.remote_id for item in new}), frozenset(unmatched))
