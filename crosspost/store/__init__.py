"""The store: the only code that touches the database.

The ``publication`` table is the queue of record. Every state change is one
short transaction; no network call ever happens inside one.

:class:`Store` is the face of the package: it holds the engine, and each of its
methods runs one of the statements of a submodule, by concern —
:mod:`~crosspost.store.planned` (writing the plan down),
:mod:`~crosspost.store.dispatching` (leasing due rows, expiring),
:mod:`~crosspost.store.outcomes` (recording what became of a row) and
:mod:`~crosspost.store.reading`; the conditions they share are in
:mod:`~crosspost.store.conditions`. Work of other parts (collecting, reports,
feeds, …) lives in modules whose functions take a :class:`Store`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from crosspost.status import Status
from crosspost.store import dispatching, outcomes, planned, reading
from crosspost.store.conditions import held_by
from crosspost.store.db import make_engine, migrate
from crosspost.store.lease import Holder
from crosspost.store.models import (
    AccountSnapshot,
    DaemonHeartbeat,
    MetricSnapshot,
    Publication,
)
from crosspost.store.planned import PlannedRow
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
    "Store",
    "held_by",
]


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

    def entry_states(self) -> dict[str, reading.EntryPlan]:
        """How far each entry has been planned."""
        return reading.entry_states(self.engine)

    def add_planned(self, rows: Sequence[PlannedRow], now: datetime | None = None) -> int:
        """Write down publications that are not there yet; return how many were new."""
        return planned.add_planned(self.engine, rows, now)

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
        return dispatching.expire_missed(self.engine, now)

    def expire_leases(self, now: datetime, gone: Iterable[str] = ()) -> list[Publication]:
        """Rows left ``publishing`` by a worker that died: lease over, or holder ``gone``.

        A row whose sending had started becomes ``unknown`` (never ``planned``);
        one that was claimed but never sent goes back to ``planned``, untouched.
        """
        return dispatching.expire_leases(self.engine, now, gone)

    def lease_holders(
        self, host: str
    ) -> list[tuple[str, int | None, float | None, datetime | None]]:
        """Workers of ``host`` holding leases: (worker, pid, process start, last heartbeat)."""
        return reading.lease_holders(self.engine, host)

    def start_sending(
        self, publication_id: int, worker: str, now: datetime, lease: timedelta
    ) -> bool:
        """Mark that the request is about to leave (and renew the lease); False if not ours."""
        return dispatching.start_sending(self.engine, publication_id, worker, now, lease)

    def remote_id_taken(self, account: str, remote_id: str, other_than: int) -> bool:
        """Whether another publication of ``account`` already recorded ``remote_id``."""
        return reading.remote_id_taken(self.engine, account, remote_id, other_than)

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
        return dispatching.claim_due(self.engine, now, worker, lease, limit, skip_accounts, holder)

    def claim_next(
        self,
        now: datetime,
        worker: str,
        lease: timedelta,
        skip_accounts: Iterable[str] = (),
        account: str | None = None,
        holder: Holder | None = None,
        sending: int = 0,
        limit: int | None = None,
    ) -> list[Publication]:
        """Lease the oldest due publication of every account (or of ``account`` only).

        One row per account and call, and none of an account with a post in flight
        (under any worker, of any daemon): each account's posts go out one after the
        other in due order, while accounts go in parallel, with no cap on how many.
        ``holder`` is recorded as in :meth:`claim_due`. The first ``sending`` rows
        (oldest first) are marked as sending in the same transaction, as
        :meth:`start_sending` would: only for rows whose request leaves right away.
        With ``limit``, only the ``limit`` accounts whose due publication is oldest: what
        the caller can start now, the rest left to other daemons.
        """
        return dispatching.claim_next(
            self.engine, now, worker, lease, skip_accounts, account, holder, sending, limit
        )

    def claim(
        self,
        publication_id: int,
        worker: str,
        lease: timedelta,
        now: datetime,
        holder: Holder | None = None,
    ) -> Publication | None:
        """Lease one planned publication to ``worker`` (``crosspost publish``)."""
        return dispatching.claim(self.engine, publication_id, worker, lease, now, holder)

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
        return outcomes.finish(self.engine, publication_id, worker, now, outcome, follow)

    def settle(
        self, publication_id: int, now: datetime, outcome: Finish, follow: Sequence[PlannedRow] = ()
    ) -> bool:
        """Record what reconciliation found out about an ``unknown`` publication.

        False if it is no longer ``unknown`` (a person or another daemon decided first).
        """
        return outcomes.settle(self.engine, publication_id, now, outcome, follow)

    def wake_waiting(self, entry: str, occurrence: str, account: str, now: datetime) -> int:
        """Make due now the announcements waiting for ``account``'s publication of this
        occurrence (it was just recorded); return how many."""
        return outcomes.wake_waiting(self.engine, entry, occurrence, account, now)

    def resolve(self, publication_id: int, now: datetime, decision: Decision) -> Publication | None:
        """Record a person's decision about a publication (``crosspost resolve``)."""
        return outcomes.resolve(self.engine, publication_id, now, decision)

    # -- reading -------------------------------------------------------------

    def find(self, entry: str, occurrence: str, account: str) -> Publication | None:
        """The publication with this key."""
        return reading.find(self.engine, entry, occurrence, account)

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
        return reading.publications(self.engine, statuses, accounts, since, until)

    def planned_summary(self) -> tuple[int, datetime | None]:
        """How many publications are planned, and when the first of them is due."""
        return reading.planned_summary(self.engine)

    def counts(self) -> dict[Status, int]:
        """How many publications are in each status."""
        return reading.counts(self.engine)

    # -- health and snapshots -------------------------------------------------

    def heartbeat(self, worker: str, now: datetime, started_at: datetime) -> None:
        """Record that ``worker`` is alive."""
        with self._session() as session:
            beat = session.get(DaemonHeartbeat, worker)
            beat = beat or DaemonHeartbeat(worker=worker, alive_at=now, started_at=started_at)
            beat.alive_at = now
            beat.stopped_at = None
            session.add(beat)
            session.commit()

    def heartbeat_stopped(self, worker: str, now: datetime) -> None:
        """Record that ``worker`` stopped cleanly: it is not alive any more, whatever its age."""
        with self._session() as session:
            beat = session.get(DaemonHeartbeat, worker)
            if beat is not None:
                beat.alive_at = beat.stopped_at = now
                session.add(beat)
                session.commit()

    def last_heartbeat(self, *, running: bool = False) -> DaemonHeartbeat | None:
        """The most recent heartbeat of any daemon; ``running``: of a daemon not stopped."""
        return reading.last_heartbeat(self.engine, running=running)

    def last_published_at(self, account: str) -> datetime | None:
        """When we last recorded a publication of ``account`` (our clock, not the platform's)."""
        return reading.last_published_at(self.engine, account)

    def published_since(self, account: str, since: datetime) -> int:
        """How many publications of ``account`` we recorded as published since ``since``."""
        return reading.published_since(self.engine, account, since)

    def add_notification(
        self, key: str, message: str, rows: Sequence[PlannedRow], now: datetime
    ) -> bool:
        """Record problem ``key`` and its publications to the notify accounts, in one go.

        False, and nothing written, if ``key`` was recorded before: each problem is
        told once, and a crash cannot leave it recorded without its messages.
        """
        return planned.add_notification(self.engine, key, message, rows, now)

    def add_snapshot(self, snapshot: MetricSnapshot | AccountSnapshot) -> None:
        """Store one metric or account snapshot."""
        with self._session() as session:
            session.add(snapshot)
            session.commit()
