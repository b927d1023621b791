"""The store: the only code that touches the database.

The ``publication`` table is the queue of record. Every state change is one
short transaction; no network call ever happens inside one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, String, and_, exists, func, or_, type_coerce, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from crosspost.status import UNSETTLED
from crosspost.store.conditions import begun, due, held_by, in_flight, not_a_comment
from crosspost.store.db import insert_new, is_sqlite, make_engine, migrate
from crosspost.store.lease import Holder
from crosspost.store.models import (
    AccountSnapshot,
    DaemonHeartbeat,
    EntryState,
    MetricSnapshot,
    Notification,
    Publication,
    Status,
)
from crosspost.store.planned import (
    CANCELLED_BY_SYNC,
    PUBLICATION_KEY,
    PlannedRow,
    planned_values,
)
from crosspost.store.records import Awaiting, Decision, Ended, Finish, Replanned, Requeued, Sent

__all__ = [
    "AccountSnapshot",
    "Awaiting",
    "DaemonHeartbeat",
    "Decision",
    "Ended",
    "Finish",
    "MetricSnapshot",
    "PlannedRow",
    "Publication",
    "Replanned",
    "Requeued",
    "Sent",
    "Status",
    "Store",
    "held_by",
]


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Publications, snapshots and heartbeats in SQLite or PostgreSQL.

    Args:
        url: SQLAlchemy URL; the schema is created or upgraded on the spot.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        migrate(self.engine)

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # -- planning -----------------------------------------------------------

    def entry_states(self) -> dict[str, EntryState]:
        """How far each entry has been planned."""
        with self._session() as session:
            return {s.entry: s for s in session.exec(select(EntryState)).all()}

    def add_planned(self, rows: Sequence[PlannedRow], now: datetime | None = None) -> int:
        """Write down publications that are not there yet; return how many were new."""
        if not rows:
            return 0
        values = planned_values(rows, now or _now())
        table = Publication.__table__  # type: ignore[attr-defined]
        inserted = 0
        with self._session() as session:
            for chunk in _chunks(values, 500):
                inserted += insert_new(session, table, chunk, PUBLICATION_KEY)
            session.commit()
        return inserted

    def set_planned_until(self, entry: str, until: datetime, now: datetime) -> None:
        """Remember that ``entry`` is planned up to ``until``."""
        with self._session() as session:
            state = session.get(EntryState, entry)
            if state is None:
                session.add(EntryState(entry=entry, first_seen_at=now, planned_until=until))
            else:
                state.planned_until = max(state.planned_until, until)
                session.add(state)
            session.commit()

    def cancel_planned(
        self, entry: str, keep: set[tuple[str, str]], since: datetime | None, now: datetime
    ) -> int:
        """Cancel the entry's untried planned rows due from ``since`` on that are not in ``keep``.

        ``keep`` holds ``(occurrence, account)`` pairs; ``since=None`` means any time.
        """
        with self._session() as session:
            # ``status || ''`` keeps SQLite off ix_publication_due, which it would
            # pick and then scan every planned row of every entry
            query = select(Publication).where(
                col(Publication.entry) == entry,
                type_coerce(col(Publication.status), String).concat("") == Status.PLANNED.value,
                col(Publication.attempts) == 0,
            )
            if since is not None:
                query = query.where(col(Publication.due_at) >= since)
            cancelled = 0
            for row in session.exec(query).all():
                if (row.occurrence, row.account) not in keep:
                    row.status, row.updated_at = Status.CANCELLED, now
                    row.error = CANCELLED_BY_SYNC
                    session.add(row)
                    cancelled += 1
            session.commit()
        return cancelled

    def restore_cancelled(
        self, entry: str, wanted: set[tuple[str, str]], since: datetime, now: datetime
    ) -> int:
        """Plan again the entry's rows a schedule change cancelled that are ``wanted`` again.

        Only never-tried rows due from ``since`` on, cancelled by a sync (not by a
        person), come back: an entry removed by a bad save and restored keeps its plan.
        """
        if not wanted:
            return 0
        with self._session() as session:
            query = select(Publication).where(
                col(Publication.entry) == entry,
                col(Publication.status) == Status.CANCELLED,
                col(Publication.attempts) == 0,
                col(Publication.error) == CANCELLED_BY_SYNC,
                col(Publication.due_at) >= since,
            )
            restored = 0
            for row in session.exec(query).all():
                if (row.occurrence, row.account) in wanted:
                    row.status, row.error, row.updated_at = Status.PLANNED, None, now
                    session.add(row)
                    restored += 1
            session.commit()
        return restored

    def planned_entries(self) -> set[str]:
        """Entries that still have planned rows."""
        with self._session() as session:
            query = (
                select(Publication.entry)
                .where(col(Publication.status) == Status.PLANNED)
                .distinct()
            )
            return set(session.exec(query).all())

    def add_oneoff(self, row: PlannedRow, now: datetime | None = None) -> Publication | None:
        """Record a one-off publication; None if the same key is already recorded."""
        if self.add_planned([row], now) == 0:
            return None
        return self.find(row.entry, row.occurrence, row.account)

    # -- dispatching ----------------------------------------------------------

    def expire_missed(self, now: datetime) -> list[Publication]:
        """Planned, never-tried rows whose grace ran out become ``missed``.

        A row that has begun to go out in steps (a paced newsletter, whose rate-limited
        rounds do not count as tries) is never missed: it is finished instead.
        """
        condition = and_(
            col(Publication.status) == Status.PLANNED,
            # implied by the next line (grace is never negative); it keeps the index
            # range to past-due rows instead of every planned row, each round
            col(Publication.due_at) < now,
            col(Publication.attempts) == 0,
            col(Publication.expires_at) < now,
            ~begun(),
        )
        missed = self._transition(
            condition,
            Status.MISSED,
            now,
            "its time passed while crosspost was not running (later than the entry's grace allows)",
        )
        unapproved = and_(
            col(Publication.status) == Status.AWAITING_APPROVAL,
            col(Publication.due_at) < now,
            col(Publication.expires_at) < now,
        )
        return missed + self._transition(
            unapproved,
            Status.MISSED,
            now,
            "its content was not approved before its time (and the entry's grace) passed",
        )

    def expire_leases(self, now: datetime, gone: Iterable[str] = ()) -> list[Publication]:
        """Rows left ``publishing`` by a worker that died: lease over, or holder ``gone``.

        A row whose sending had started becomes ``unknown`` (never ``planned``);
        one that was claimed but never sent goes back to ``planned``, untouched.
        """
        expired = and_(
            col(Publication.status) == Status.PUBLISHING,
            or_(
                col(Publication.claimed_until) < now,
                col(Publication.claimed_by).in_(list(gone)),
            ),
        )
        self._unclaim_unsent(and_(expired, col(Publication.send_started_at).is_(None)), now)
        return self._transition(
            expired,
            Status.UNKNOWN,
            now,
            "the worker stopped while publishing; it may have gone out",
        )

    def _unclaim_unsent(self, condition: Any, now: datetime) -> None:
        statement = (
            update(Publication)
            .where(condition)
            .values(
                status=Status.PLANNED,
                claimed_by=None,
                claimed_until=None,
                attempts=col(Publication.attempts) - 1,
                updated_at=now,
            )
        )
        with self._session() as session:
            session.execute(statement)
            session.commit()

    def lease_holders(
        self, host: str
    ) -> list[tuple[str, int | None, float | None, datetime | None]]:
        """Workers of ``host`` holding leases: (worker, pid, process start, last heartbeat)."""
        query = (
            select(
                Publication.claimed_by,
                Publication.claimed_pid,
                Publication.claimed_process_start,
                DaemonHeartbeat.alive_at,
            )
            .join(
                DaemonHeartbeat,
                col(DaemonHeartbeat.worker) == col(Publication.claimed_by),
                isouter=True,
            )
            .where(
                col(Publication.status) == Status.PUBLISHING,
                col(Publication.claimed_host) == host,
            )
            .distinct()
        )
        with self._session() as session:
            rows = session.exec(query).all()
        return [(w, pid, start, _utc(beat)) for w, pid, start, beat in rows if w is not None]

    def start_sending(
        self, publication_id: int, worker: str, now: datetime, lease: timedelta
    ) -> bool:
        """Mark that the request is about to leave (and renew the lease); False if not ours."""
        statement = (
            update(Publication)
            .where(*held_by(publication_id, worker))
            .values(send_started_at=now, claimed_until=now + lease, updated_at=now)
        )
        with self._session() as session:
            result = session.execute(statement)
            session.commit()
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def remote_id_taken(self, account: str, remote_id: str, other_than: int) -> bool:
        """Whether another publication of ``account`` already recorded ``remote_id``."""
        with self._session() as session:
            query = select(Publication.id).where(
                col(Publication.account) == account,
                col(Publication.remote_id) == remote_id,
                col(Publication.id) != other_than,
            )
            return session.exec(query).first() is not None

    def _transition(
        self, condition: Any, status: Status, now: datetime, error: str
    ) -> list[Publication]:
        query = select(Publication).where(condition)
        if not is_sqlite(self.engine):
            query = query.with_for_update(skip_locked=True)
        with self._session() as session:
            rows = list(session.exec(query).all())
            for row in rows:
                row.status, row.updated_at, row.error = status, now, error
                row.claimed_until = row.claimed_by = None
                session.add(row)
            session.commit()
        return rows

    def claim_due(
        self,
        now: datetime,
        worker: str,
        lease: timedelta,
        limit: int = 50,
        skip_accounts: Iterable[str] = (),
        holder: Holder | None = None,
    ) -> list[Publication]:
        """Lease up to ``limit`` due publications to ``worker`` (oldest first).

        ``holder`` is the process behind ``worker``, recorded so that a restart on its
        host can tell when it is gone.
        """
        query = (
            select(Publication)
            .where(*due(now, skip_accounts))
            .order_by(col(Publication.due_at), col(Publication.id))
            .limit(limit)
        )
        return self._lease(query, worker, lease, now, holder)

    def claim_next(
        self,
        now: datetime,
        worker: str,
        lease: timedelta,
        skip_accounts: Iterable[str] = (),
        account: str | None = None,
        holder: Holder | None = None,
    ) -> list[Publication]:
        """Lease the oldest due publication of every account (or of ``account`` only).

        One row per account and call, and none of an account with a post in flight
        (under any worker, of any daemon): each account's posts go out one after the
        other in due order, while accounts go in parallel, with no cap on how many.
        ``holder`` is recorded as in :meth:`claim_due`.
        """
        conditions = [*due(now, skip_accounts), ~in_flight()]
        if account is not None:
            conditions.append(col(Publication.account) == account)
        rank = (
            func.row_number()
            .over(
                partition_by=col(Publication.account),
                order_by=(col(Publication.due_at), col(Publication.id)),
            )
            .label("rank")
        )
        ranked = select(col(Publication.id), rank).where(*conditions).subquery()
        first = select(ranked.c.id).where(ranked.c.rank == 1)
        query = select(Publication).where(col(Publication.id).in_(first), *conditions)
        query = query.order_by(col(Publication.due_at), col(Publication.id))
        return self._lease(query, worker, lease, now, holder)

    def _lease(
        self, query: Any, worker: str, lease: timedelta, now: datetime, holder: Holder | None
    ) -> list[Publication]:
        if not is_sqlite(self.engine):
            query = query.with_for_update(skip_locked=True)
        with self._session() as session:
            rows = list(session.exec(query).all())
            for row in rows:
                _take_lease(row, worker, now + lease, now, holder)
                session.add(row)
            session.commit()
        return rows

    def claim(
        self,
        publication_id: int,
        worker: str,
        lease: timedelta,
        now: datetime,
        holder: Holder | None = None,
    ) -> Publication | None:
        """Lease one planned publication to ``worker`` (``crosspost publish``)."""
        query = select(Publication).where(
            col(Publication.id) == publication_id,
            col(Publication.status) == Status.PLANNED,
        )
        rows = self._lease(query, worker, lease, now, holder)
        return rows[0] if rows else None

    def finish(
        self,
        publication_id: int,
        worker: str,
        now: datetime,
        outcome: Finish,
        follow: Sequence[PlannedRow] = (),
    ) -> bool:
        """Record the outcome of a claimed publication, if ``worker`` still holds the lease.

        The status and its fields (remote id, URL, …) are written in this one transaction,
        with ``follow``: publications that exist because this one went out (its first
        comment), so that a crash cannot leave the post recorded without them.
        """
        recorded = self._record(outcome, now, follow, *held_by(publication_id, worker))
        if recorded and isinstance(outcome, Requeued) and outcome.waits_for is not None:
            self._wake_if_settled(publication_id, outcome.waits_for, now)
        return recorded

    def settle(
        self, publication_id: int, now: datetime, outcome: Finish, follow: Sequence[PlannedRow] = ()
    ) -> bool:
        """Record what reconciliation found out about an ``unknown`` publication.

        False if it is no longer ``unknown`` (a person or another daemon decided first).
        """
        return self._record(
            outcome,
            now,
            follow,
            col(Publication.id) == publication_id,
            col(Publication.status) == Status.UNKNOWN,
        )

    def _record(
        self, outcome: Finish, now: datetime, follow: Sequence[PlannedRow], *condition: Any
    ) -> bool:
        values = {"claimed_by": None, "claimed_until": None, "updated_at": now}
        statement = update(Publication).where(*condition).values(**values, **outcome.columns())
        table = Publication.__table__  # type: ignore[attr-defined]
        with self._session() as session:
            result = session.execute(statement)
            recorded = bool(result.rowcount)  # type: ignore[attr-defined]
            if recorded and follow:
                insert_new(session, table, planned_values(follow, now), PUBLICATION_KEY)
            session.commit()
        return recorded

    def wake_waiting(self, entry: str, occurrence: str, account: str, now: datetime) -> int:
        """Make due now the announcements waiting for ``account``'s publication of this
        occurrence (it was just recorded); return how many."""
        statement = (
            update(Publication)
            .where(
                col(Publication.entry) == entry,
                col(Publication.occurrence) == occurrence,
                col(Publication.waits_for) == account,
                col(Publication.status) == Status.PLANNED,
            )
            .values(next_attempt_at=now, updated_at=now)
        )
        with self._session() as session:
            result = session.execute(statement)
            session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _wake_if_settled(self, publication_id: int, awaited: str, now: datetime) -> None:
        """Make a just-requeued announcement due now if ``awaited`` settled meanwhile.

        The awaited account's record may land while the announcement is still being
        looked at (another account's worker), when :meth:`wake_waiting` finds nothing
        planned to wake; run after the requeue, this closes that gap. The statement
        reads the other row itself, so it sees any record committed before it.
        """
        other = aliased(Publication)
        still_open = exists().where(
            col(other.entry) == col(Publication.entry),
            col(other.occurrence) == col(Publication.occurrence),
            col(other.account) == awaited,
            col(other.status).in_(UNSETTLED),
        )
        statement = (
            update(Publication)
            .where(
                col(Publication.id) == publication_id,
                col(Publication.status) == Status.PLANNED,
                col(Publication.waits_for) == awaited,
                ~still_open,
            )
            .values(next_attempt_at=now, updated_at=now)
        )
        with self._session() as session:
            session.execute(statement)
            session.commit()

    def resolve(self, publication_id: int, now: datetime, decision: Decision) -> Publication | None:
        """Record a person's decision about a publication (``crosspost resolve``)."""
        with self._session() as session:
            row = session.get(Publication, publication_id)
            if row is None:
                return None
            for name, value in {**decision.columns(), "updated_at": now}.items():
                setattr(row, name, value)
            session.add(row)
            session.commit()
            return row

    # -- reading -------------------------------------------------------------

    def find(self, entry: str, occurrence: str, account: str) -> Publication | None:
        """The publication with this key."""
        with self._session() as session:
            query = select(Publication).where(
                col(Publication.entry) == entry,
                col(Publication.occurrence) == occurrence,
                col(Publication.account) == account,
            )
            return session.exec(query).first()

    def get(self, publication_id: int) -> Publication | None:
        """One publication by id."""
        with self._session() as session:
            return session.get(Publication, publication_id)

    def publications(
        self,
        statuses: Iterable[Status] = (),
        accounts: Iterable[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Publication]:
        """Publications in due order, optionally filtered."""
        query = select(Publication)
        if statuses := list(statuses):
            query = query.where(col(Publication.status).in_(statuses))
        if accounts := list(accounts):
            query = query.where(col(Publication.account).in_(accounts))
        if since is not None:
            query = query.where(col(Publication.due_at) >= since)
        if until is not None:
            query = query.where(col(Publication.due_at) < until)
        with self._session() as session:
            return list(
                session.exec(query.order_by(col(Publication.due_at), col(Publication.id))).all()
            )

    def planned_summary(self) -> tuple[int, datetime | None]:
        """How many publications are planned, and when the first of them is due."""
        with self._session() as session:
            query = select(func.count(), func.min(Publication.due_at)).where(
                col(Publication.status) == Status.PLANNED
            )
            count, first = session.exec(query).one()
        return int(count), _utc(first)

    def counts(self) -> dict[Status, int]:
        """How many publications are in each status."""
        with self._session() as session:
            query = select(Publication.status, func.count()).group_by(Publication.status)
            return {Status(status): number for status, number in session.exec(query).all()}

    # -- health and snapshots -------------------------------------------------

    def heartbeat(self, worker: str, now: datetime, started_at: datetime) -> None:
        """Record that ``worker`` is alive."""
        with self._session() as session:
            beat = session.get(DaemonHeartbeat, worker)
            beat = beat or DaemonHeartbeat(worker=worker, alive_at=now, started_at=started_at)
            beat.alive_at = now
            session.add(beat)
            session.commit()

    def last_heartbeat(self) -> DaemonHeartbeat | None:
        """The most recent heartbeat of any daemon."""
        with self._session() as session:
            query = select(DaemonHeartbeat).order_by(col(DaemonHeartbeat.alive_at).desc())
            return session.exec(query).first()

    def last_published_at(self, account: str) -> datetime | None:
        """When we last recorded a publication of ``account`` (our clock, not the platform's)."""
        with self._session() as session:
            query = select(func.max(Publication.updated_at)).where(
                col(Publication.account) == account,
                col(Publication.status) == Status.PUBLISHED,
                not_a_comment(),
            )
            value = session.exec(query).first()
        return _utc(value)

    def published_since(self, account: str, since: datetime) -> int:
        """How many publications of ``account`` we recorded as published since ``since``."""
        with self._session() as session:
            query = select(func.count()).where(
                col(Publication.account) == account,
                col(Publication.status) == Status.PUBLISHED,
                col(Publication.updated_at) >= since,
                not_a_comment(),
            )
            return int(session.exec(query).one())

    def add_notification(
        self, key: str, message: str, rows: Sequence[PlannedRow], now: datetime
    ) -> bool:
        """Record problem ``key`` and its publications to the notify accounts, in one go.

        False, and nothing written, if ``key`` was recorded before: each problem is
        told once, and a crash cannot leave it recorded without its messages.
        """
        notification = Notification.__table__  # type: ignore[attr-defined]
        publication = Publication.__table__  # type: ignore[attr-defined]
        told = [{"key": key, "sent_at": now, "message": message}]
        with self._session() as session:
            new = insert_new(session, notification, told, ["key"])
            if new:
                insert_new(session, publication, planned_values(rows, now), PUBLICATION_KEY)
            session.commit()
        return bool(new)

    def add_snapshot(self, snapshot: MetricSnapshot | AccountSnapshot) -> None:
        """Store one metric or account snapshot."""
        with self._session() as session:
            session.add(snapshot)
            session.commit()


def _take_lease(
    row: Publication, worker: str, until: datetime, now: datetime, holder: Holder | None
) -> None:
    row.status = Status.PUBLISHING
    row.claimed_by, row.claimed_until = worker, until
    row.send_started_at = None
    row.attempts += 1
    row.updated_at = now
    if holder is not None:
        row.claimed_host, row.claimed_pid = holder.host, holder.pid
        row.claimed_process_start = holder.process_start


def _utc(value: datetime | None) -> datetime | None:
    # aggregates bypass the column type, so SQLite hands back a naive value or a string
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _chunks(values: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
