"""Connector records in the store: cursors, pushed counts, member messages, publication extras.

:class:`StoreRecords` is the :class:`~connectors.records.AccountRecords` the core
hands to a connector that reads a pushed stream. Each batch is one transaction:
the cursor moves only from the value the reader started at (compare and set), so
two readers of one stream (two processes) never both confirm the same page, and
the cursor never lands without what was read before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue
from sqlalchemy import update
from sqlmodel import Session, col, select

from connectors.base import Metrics
from connectors.records import (
    CursorMove,
    CursorMoved,
    ExtraEntry,
    Observed,
    RecordBatch,
    Written,
    merge_extra,
    newest_observations,
)
from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.collect import COUNTS
from crosspost.store.collect_inbox import interaction_row, publication_links
from crosspost.store.db import dialect_module, insert_new
from crosspost.store.models import (
    CollectCursor,
    Interaction,
    MetricObservation,
    Publication,
    is_post,
)
from crosspost.store.sessions import table_of, utc

__all__ = ["CURSOR_PREFIX", "EXTRAS_SCANNED", "StoreRecords"]

#: Connector cursors share ``collect_cursor`` with the core's own (``inbox``), apart by name.
CURSOR_PREFIX = "connector:"
#: ``extras`` looks at this many of the account's newest publications.
EXTRAS_SCANNED = 1000


class StoreRecords:
    """One account's :class:`~connectors.records.AccountRecords` in ``store``.

    Args:
        store: the store.
        account: the account alias.
        platform: the connector name, written with each interaction.
        clock: the current UTC time (``collected_at`` of interactions).
    """

    def __init__(
        self,
        store: Store,
        account: str,
        platform: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.account = account
        self.platform = platform
        self.clock = clock or (lambda: datetime.now(UTC))
        self._new_interactions = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"StoreRecords({self.account!r})"

    def _session(self) -> Session:
        return Session(self.store.engine, expire_on_commit=False)

    def take_new_interactions(self) -> int:
        """Interactions the connector stored since the last call (the collector counts them)."""
        with self._lock:
            count, self._new_interactions = self._new_interactions, 0
        return count

    # -- reading ---------------------------------------------------------------

    def cursor(self, name: str) -> str | None:
        """The cursor ``name`` of the account."""
        with self._session() as session:
            row = session.get(CollectCursor, (self.account, CURSOR_PREFIX + name))
            return row.cursor if row is not None else None

    def observed(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """The newest counts observed for each id that has any."""
        wanted = list(dict.fromkeys(remote_ids))
        if not wanted:
            return {}
        query = select(MetricObservation).where(
            col(MetricObservation.account) == self.account,
            col(MetricObservation.remote_id).in_(wanted),
        )
        with self._session() as session:
            rows = session.exec(query).all()
        return {row.remote_id: _metrics(row) for row in rows}

    def extras(self, key: str) -> dict[str, JsonValue]:
        """``extra[key]`` of the account's newest published posts that have it."""
        query = (
            select(Publication.remote_id, Publication.extra)
            .where(
                col(Publication.account) == self.account,
                col(Publication.status) == Status.PUBLISHED,
                col(Publication.remote_id).is_not(None),
                col(Publication.extra).is_not(None),
                is_post(),
            )
            .order_by(col(Publication.published_at).desc(), col(Publication.id).desc())
            .limit(EXTRAS_SCANNED)
        )
        with self._session() as session:
            rows = session.exec(query).all()
        return {str(remote_id): extra[key] for remote_id, extra in rows if extra and key in extra}

    # -- writing ---------------------------------------------------------------

    def write(self, batch: RecordBatch) -> Written:
        """Write ``batch`` in one transaction.

        Raises:
            CursorMoved: a cursor was no longer at its ``old`` value; nothing was written.
        """
        now = utc(self.clock())
        with self._session() as session:
            for move in batch.cursors:
                self._move(session, move, now)
            links = publication_links(
                session,
                self.account,
                {item.in_reply_to for item in batch.inbox} | {e.remote_id for e in batch.extra},
            )
            rows = [
                interaction_row(self.account, self.platform, item, links, now)
                for item in batch.inbox
            ]
            added = insert_new(session, table_of(Interaction), rows, ["account", "remote_id"])
            self._observe(session, batch.observed)
            unmatched = self._add_extra(session, batch.extra, links)
            session.commit()
        with self._lock:
            self._new_interactions += added
        return Written(added, unmatched)

    def _move(self, session: Session, move: CursorMove, now: datetime) -> None:
        kind = CURSOR_PREFIX + move.name
        if move.old is None:
            row = {"account": self.account, "kind": kind, "cursor": move.new, "updated_at": now}
            moved = insert_new(session, table_of(CollectCursor), [row], ["account", "kind"])
        else:
            result = session.execute(
                update(CollectCursor)
                .where(
                    col(CollectCursor.account) == self.account,
                    col(CollectCursor.kind) == kind,
                    col(CollectCursor.cursor) == move.old,
                )
                .values(cursor=move.new, updated_at=now)
            )
            moved = result.rowcount  # type: ignore[attr-defined]
        if not moved:
            raise CursorMoved(move.name)

    def _observe(self, session: Session, observed: Sequence[Observed]) -> None:
        """Keep the newest counts per post: an older report never replaces a newer one."""
        rows = [
            _observation_row(self.account, item) for item in newest_observations(observed).values()
        ]
        if not rows:
            return
        table = table_of(MetricObservation)
        dialect = dialect_module(session.get_bind().dialect.name)
        statement = dialect.insert(table).values(rows)
        fields = ["observed_at", *COUNTS, "raw"]
        statement = statement.on_conflict_do_update(
            index_elements=["account", "remote_id"],
            set_={name: statement.excluded[name] for name in fields},
            where=table.c.observed_at <= statement.excluded.observed_at,
        )
        session.execute(statement)

    def _add_extra(
        self, session: Session, entries: Iterable[ExtraEntry], links: dict[str, int]
    ) -> frozenset[str]:
        """Merge each entry into its publication's ``extra``; the remote ids nobody has."""
        by_publication: dict[int, list[ExtraEntry]] = {}
        unmatched = set()
        for entry in entries:
            if entry.remote_id in links:
                by_publication.setdefault(links[entry.remote_id], []).append(entry)
            else:
                unmatched.add(entry.remote_id)
        for publication_id, found in sorted(by_publication.items()):
            row = session.get(Publication, publication_id, with_for_update=True)
            if row is None:
                continue
            extra: dict[str, JsonValue] = dict(row.extra or {})
            for entry in found:
                extra = merge_extra(extra, entry)
            if extra != (row.extra or {}):
                row.extra = extra  # a new dict: the JSON column sees the change
                session.add(row)
        return frozenset(unmatched)


def _observation_row(account: str, item: Observed) -> dict[str, Any]:
    metrics = item.metrics
    return {
        "account": account,
        "remote_id": item.remote_id,
        "observed_at": utc(item.at),
        **{name: getattr(metrics, name) for name in COUNTS},
        "raw": dict(metrics.raw),
    }


def _metrics(row: MetricObservation) -> Metrics:
    return Metrics(**{name: getattr(row, name) for name in COUNTS}, raw=row.raw or {})
