"""The store's rows the queue planner plays: the items queues sent, the times held.

Read from a SQLite file by :func:`crosspost.history.read_sqlite_history` or through the
store by :mod:`crosspost.store.slots`. A module apart, imported when rows are read:
``check`` of a project without a database yet makes none, and on Python 3.11 each
frozen dataclass compiles six methods at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Booked", "Turn"]


@dataclass(frozen=True)
class Turn:
    """An item a queue sent (or tried to send) to an account, at its slot."""

    entry: str
    account: str
    content: str
    due_at: datetime


@dataclass(frozen=True)
class Booked:
    """A publication of the store that holds a time of an account (a one-off, a pinned slot)."""

    entry: str
    account: str
    due_at: datetime
