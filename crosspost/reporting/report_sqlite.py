"""The report's rows from a SQLite file, read with the standard library alone.

Each method is the twin of a query of :mod:`crosspost.store.reports`,
:mod:`~crosspost.store.reports_audience`, :mod:`~crosspost.store.conversions` or
:mod:`~crosspost.store.responses`, with the same SQL shape (so SQLite answers both
in the same order); ``tests/test_report_sqlite.py`` checks that both read the same
rows. The file is opened read-only and only at the newest schema: otherwise the
store opens it (and creates, upgrades or refuses it).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crosspost.history import (
    chunked,
    open_current_sqlite,
    placeholders,
    sql_time,
    stored_utc,
)
from crosspost.report_rows import (
    FIRST_DAY,
    PAST_REPLIES,
    ConversionRow,
    FollowerPoint,
    InteractionRow,
    PostReactions,
    PostRow,
    ReceivedItem,
    answered_item,
    reactions_by_post,
)
from crosspost.status import COMMENT_PREFIX, NOTIFY_PREFIX, REPLY_PREFIX, Status

if TYPE_CHECKING:
    import sqlite3

__all__ = ["SqliteReportSource", "open_sqlite_report"]


#: Published posts to an audience (:func:`crosspost.store.models.is_post`).
_PUBLISHED = (
    "status = ? AND published_at IS NOT NULL"
    " AND entry NOT LIKE ? AND entry NOT LIKE ? AND entry NOT LIKE ?"
)
_PUBLISHED_VALUES = (
    Status.PUBLISHED.value,
    f"{NOTIFY_PREFIX}%",
    f"{REPLY_PREFIX}%",
    f"{COMMENT_PREFIX}%",
)

#: A post's latest and last first-day snapshot (ties: every tied row). SQLite keeps
#: times as ``YYYY-MM-DD HH:MM:SS.ffffff`` text: the first day's end shifts the whole
#: seconds and puts the fraction back, so the bound is exact and compares as text.
_REACTIONS = """
WITH posts AS MATERIALIZED (
    SELECT id, published_at,
        datetime(substr(published_at, 1, 19), ?) || substr(published_at, 20) AS "end"
    FROM publication WHERE {published}
),
newest AS (
    SELECT posts.id AS id, max(s.collected_at) AS latest,
        max(CASE WHEN s.collected_at > posts.published_at AND s.collected_at <= posts."end"
            THEN s.collected_at END) AS early
    FROM posts JOIN metric_snapshot AS s ON s.publication_id = posts.id
    GROUP BY posts.id
)
SELECT s.publication_id, s.collected_at, s.likes, s.reposts, s.replies, s.quotes, s.views,
    s.bookmarks, s.collected_at = newest.latest, s.collected_at = newest.early
FROM newest JOIN metric_snapshot AS s ON s.publication_id = newest.id
WHERE s.collected_at = newest.latest OR s.collected_at = newest.early
ORDER BY s.publication_id, s.collected_at, s.id
"""


class _Where:
    """A WHERE clause built of conditions and their parameters."""

    def __init__(self, condition: str = "", *values: Any) -> None:
        self.conditions = [condition] if condition else []
        self.values: list[Any] = list(values)

    def add(self, condition: str, *values: Any) -> _Where:
        self.conditions.append(condition)
        self.values.extend(values)
        return self

    def among(self, column: str, values: Sequence[str]) -> _Where:
        return self.add(f"{column} IN ({placeholders(values)})", *values)

    def period(self, column: str, since: datetime | None, until: datetime | None) -> _Where:
        if since is not None:
            self.add(f"{column} >= ?", sql_time(since))
        if until is not None:
            self.add(f"{column} < ?", sql_time(until))
        return self

    def __str__(self) -> str:
        return " AND ".join(self.conditions)


def _earliest(*moments: str | None) -> datetime | None:
    known = [stored_utc(m) for m in moments if m is not None]
    return min(known) if known else None


class SqliteReportSource:
    """The report's rows from a SQLite file at the newest schema, read-only."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def close(self) -> None:
        self._connection.close()

    def _rows(self, query: str, where: _Where) -> list[Any]:
        return self._connection.execute(query.format(where=where), where.values).fetchall()

    def _posts(
        self, since: datetime | None, until: datetime | None, accounts: Iterable[str]
    ) -> _Where:
        where = _Where(_PUBLISHED, *_PUBLISHED_VALUES).period("published_at", since, until)
        return where.among("account", list(accounts))

    def published_posts(
        self, since: datetime | None, until: datetime | None, accounts: Iterable[str]
    ) -> list[PostRow]:
        query = (
            "SELECT id, entry, content_id, account, published_at, url FROM publication"
            " WHERE {where} ORDER BY published_at, id"
        )
        rows = self._rows(query, self._posts(since, until, accounts))
        return [PostRow(i, e, c, a, stored_utc(at), url) for i, e, c, a, at, url in rows]

    def post_reactions(
        self, since: datetime | None, until: datetime | None, accounts: Iterable[str]
    ) -> dict[int, PostReactions]:
        posts = self._posts(since, until, accounts)
        shift = f"+{int(FIRST_DAY.total_seconds())} seconds"
        query = _REACTIONS.replace("{published}", str(posts))
        rows = self._connection.execute(query, [shift, *posts.values])
        return reactions_by_post(rows, stored_utc)

    def account_snapshots(
        self, accounts: Sequence[str], since: datetime | None, until: datetime | None
    ) -> dict[str, list[FollowerPoint]]:
        counted = _Where().among("account", list(accounts)).add("followers IS NOT NULL")
        found: dict[str, list[FollowerPoint]] = defaultdict(list)
        if since is not None:
            before = _Where(str(counted), *counted.values).add("collected_at < ?", sql_time(since))
            baselines = (
                "SELECT account, collected_at, followers FROM (SELECT account, collected_at,"
                " followers, row_number() OVER (PARTITION BY account"
                " ORDER BY collected_at DESC, id DESC) AS n"
                " FROM account_snapshot WHERE {where}) WHERE n = 1"
            )
            for account, at, followers in self._rows(baselines, before):
                found[account].append(FollowerPoint(account, stored_utc(at), followers))
        period = (
            "SELECT account, collected_at, followers FROM account_snapshot"
            " WHERE {where} ORDER BY collected_at, id"
        )
        for account, at, followers in self._rows(
            period, counted.period("collected_at", since, until)
        ):
            found[account].append(FollowerPoint(account, stored_utc(at), followers))
        return dict(found)

    def follower_event_counts(
        self, accounts: Sequence[str], since: datetime | None, until: datetime | None
    ) -> dict[str, dict[str, int]]:
        where = _Where().among("account", list(accounts)).period("observed_at", since, until)
        query = (
            "SELECT account, kind, count(*) FROM follower_event WHERE {where}"
            " GROUP BY account, kind"
        )
        counts: dict[str, dict[str, int]] = defaultdict(dict)
        for account, kind, number in self._rows(query, where):
            counts[account][kind] = number
        return dict(counts)

    def interactions(
        self, accounts: Sequence[str], since: datetime | None, until: datetime | None
    ) -> list[InteractionRow]:
        where = _Where().among("account", list(accounts)).period("created_at", since, until)
        query = (
            "SELECT account, platform, kind, author, created_at FROM interaction"
            " WHERE {where} ORDER BY created_at"
        )
        rows = self._rows(query, where)
        return [InteractionRow(a, p, k, who, stored_utc(at)) for a, p, k, who, at in rows]

    def conversions_for(self, campaigns: Iterable[str]) -> list[ConversionRow]:
        wanted = sorted(set(campaigns))
        query = (
            "SELECT campaign, content, source, day, conversions, clicks, value FROM conversion"
            " WHERE {where}"
        )
        found: list[ConversionRow] = []
        for chunk in chunked(wanted):
            found += [
                ConversionRow(*row) for row in self._rows(query, _Where().among("campaign", chunk))
            ]
        return found

    def _answers(self, accounts: Sequence[str], since: datetime) -> dict[int, str]:
        where = _Where("entry >= ? AND entry < ?", REPLY_PREFIX, PAST_REPLIES)
        where.add("status = ?", Status.PUBLISHED.value).among("account", list(accounts))
        where.add("published_at >= ?", sql_time(since))
        query = "SELECT entry, min(published_at) FROM publication WHERE {where} GROUP BY entry"
        answers: dict[int, str] = {}
        for entry, at in self._rows(query, where):
            item = answered_item(str(entry))
            if item is not None and at is not None:
                answers[item] = at
        return answers

    def received_items(
        self, accounts: Sequence[str], since: datetime, until: datetime
    ) -> list[ReceivedItem]:
        where = _Where().among("account", list(accounts)).period("created_at", since, until)
        query = (
            "SELECT id, account, platform, text, raw, created_at, answered_at FROM interaction"
            " WHERE {where} ORDER BY created_at, id"
        )
        answers = self._answers(accounts, since)
        return [
            ReceivedItem(
                id=int(id),
                account=account,
                platform=platform,
                text=text or "",
                flagged_question=bool((_json(raw) or {}).get("question") is True),
                created_at=stored_utc(created),
                first_answer=_earliest(answered, answers.get(int(id))),
            )
            for id, account, platform, text, raw, created, answered in self._rows(query, where)
        ]


def _json(stored: str | None) -> Any:
    # The store's JSON columns keep None as JSON null (or, written by hand, SQL NULL).
    return None if stored is None else json.loads(stored)


def open_sqlite_report(url: str) -> SqliteReportSource | None:
    """The report's rows of ``url`` read without the store, if it is a SQLite file at the
    newest schema; None otherwise (open the store, which creates or upgrades it).

    Raises:
        sqlite3.Error: the file cannot be read as a crosspost database.
    """
    connection = open_current_sqlite(url)
    return None if connection is None else SqliteReportSource(connection)
