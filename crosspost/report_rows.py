"""The rows ``crosspost report`` reads, and what it reads them from.

A :class:`ReportSource` hands back these rows, every time timezone-aware UTC. There
are two: the store's queries (:class:`crosspost.store.report_source.StoreReportSource`,
any database) and their twins on a SQLite file read with the standard library
(:class:`crosspost.reporting.report_sqlite.SqliteReportSource`), which spare a report
importing SQLAlchemy and the ORM models, most of its time on a small store. This
module imports neither, so the report can use its rows without them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from crosspost.status import REPLY_PREFIX

__all__ = [
    "FIRST_DAY",
    "PAST_REPLIES",
    "ConversionRow",
    "FollowerPoint",
    "InteractionRow",
    "PostReactions",
    "PostRow",
    "ReactionSnapshot",
    "ReceivedItem",
    "ReportSource",
    "answered_item",
    "reactions_by_post",
]

#: The first-day velocity compares a post's reactions at the end of this span.
FIRST_DAY = timedelta(hours=24)
#: The first entry after every ``reply:…`` one (``;`` follows ``:``): answers are read
#: as the range ``[REPLY_PREFIX, PAST_REPLIES)``, which the entry index serves.
PAST_REPLIES = REPLY_PREFIX[:-1] + chr(ord(REPLY_PREFIX[-1]) + 1)


@dataclass(frozen=True)
class PostRow:
    """A published publication, as the report needs it."""

    id: int
    entry: str
    content_id: str
    account: str
    published_at: datetime
    url: str | None


@dataclass(frozen=True)
class ReactionSnapshot:
    """One metric snapshot of a post."""

    publication_id: int
    collected_at: datetime
    likes: int | None
    reposts: int | None
    replies: int | None
    quotes: int | None
    views: int | None
    bookmarks: int | None


@dataclass(frozen=True)
class PostReactions:
    """The snapshots of one post the report needs: the latest, and the last of its first day."""

    latest: ReactionSnapshot
    early: ReactionSnapshot | None


@dataclass(frozen=True)
class FollowerPoint:
    """Followers of an account at one moment."""

    account: str
    collected_at: datetime
    followers: int


@dataclass(frozen=True)
class InteractionRow:
    """A member-written mention, reply, quote or comment."""

    account: str
    platform: str
    kind: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class ConversionRow:
    """One row of an analytics export, keyed by UTM campaign, content, source and day."""

    campaign: str
    content: str
    source: str
    day: str
    conversions: int
    clicks: int | None = None
    value: float | None = None


@dataclass(frozen=True)
class ReceivedItem:
    """One member-written item and when it was first answered (None: not yet)."""

    id: int
    account: str
    platform: str
    text: str
    #: The connector marked it as a question.
    flagged_question: bool
    created_at: datetime
    first_answer: datetime | None


def answered_item(entry: str) -> int | None:
    """The member's item an answer's entry (``reply:<item id>``) answers; None if it names none."""
    item = entry.removeprefix(REPLY_PREFIX)
    return int(item) if item.isdigit() else None


def reactions_by_post(
    rows: Iterable[Sequence[Any]], moment: Callable[[Any], datetime]
) -> dict[int, PostReactions]:
    """The snapshots picked per post, from rows of ``(publication id, collected at, likes,
    reposts, replies, quotes, views, bookmarks, is the latest, is the first day's last)``
    in ``(collected at, id)`` order: of tied rows the last wins. ``moment`` reads a time
    as the database hands it back."""
    latest: dict[int, Sequence[Any]] = {}
    early: dict[int, Sequence[Any]] = {}
    for row in rows:
        if row[8]:
            latest[row[0]] = row
        if row[9]:
            early[row[0]] = row

    def snapshot(row: Sequence[Any]) -> ReactionSnapshot:
        return ReactionSnapshot(row[0], moment(row[1]), *row[2:8])

    return {
        key: PostReactions(snapshot(row), snapshot(early[key]) if key in early else None)
        for key, row in latest.items()
    }


class ReportSource(Protocol):
    """Where a report reads its rows; every period is ``[since, until)``, None: open."""

    def published_posts(
        self, since: datetime | None, until: datetime | None, accounts: Iterable[str]
    ) -> list[PostRow]:
        """The posts published in the period by ``accounts``, oldest first."""
        ...

    def post_reactions(
        self, since: datetime | None, until: datetime | None, accounts: Iterable[str]
    ) -> dict[int, PostReactions]:
        """Per post of the period: its latest snapshot and the last of its first day."""
        ...

    def account_snapshots(
        self, accounts: Sequence[str], since: datetime | None, until: datetime | None
    ) -> dict[str, list[FollowerPoint]]:
        """Follower counts per account, each series led by the last one before ``since``."""
        ...

    def follower_event_counts(
        self, accounts: Sequence[str], since: datetime | None, until: datetime | None
    ) -> dict[str, dict[str, int]]:
        """Joins and leaves per account: ``{account: {"join": n, "leave": m}}``."""
        ...

    def interactions(
        self, accounts: Sequence[str], since: datetime | None, until: datetime | None
    ) -> list[InteractionRow]:
        """Member-written content the accounts received, oldest first."""
        ...

    def conversions_for(self, campaigns: Iterable[str]) -> list[ConversionRow]:
        """Every imported conversion row of these campaigns (any day)."""
        ...

    def received_items(
        self, accounts: Sequence[str], since: datetime, until: datetime
    ) -> list[ReceivedItem]:
        """Items received by ``accounts``, oldest first, with their first answer."""
        ...

    def close(self) -> None:
        """Let go of the database."""
        ...
