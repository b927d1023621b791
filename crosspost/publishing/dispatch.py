"""Accounts in parallel, each account's posts one after the other.

A bounded set of worker threads takes accounts from a queue. A worker keeps
publishing its account's due publications, oldest first, until none is due,
the account must wait (rate limit, pacing, held credentials) or a stop is
asked; then the account is idle again and the next round may claim for it. So
one publication is in flight per account at a time (per-account order and
pacing hold), there is no cap on how many accounts publish at once beyond the
pool, nor on how many posts an account sends in a round, and a slow or hung
account ties up one worker, never the others' posts.

After a post, the worker goes on with the publication the record handed over
(claimed and marked as sending in the same transaction, see
:mod:`crosspost.store.handover`), else claims the account's next due one, unless
the record found none due. A claim whose row goes to a free worker at once marks
it as sending too (``send_started_at``): so an account's turn of N posts is N
transactions of its worker, each durable before its request leaves.

A daemon holds at most :data:`HELD_PER_WORKER` accounts per worker claimed: one
publishing, the others waiting in the queue (claimed only: marked as sending when a
worker takes them). A round claims up to that many, the accounts whose due post is
oldest first; a worker whose turn ends takes from the queue, and when it is empty and
the last claim found more due than it took, claims the next ones itself. So other
daemons on the same store take what this one cannot start soon: a round that claimed
every due account at once left hundreds queued behind its eight workers while another
daemon had nothing to do.

Workers are daemon threads: a connector call that hangs past the shutdown bound
does not keep the process alive. Its row keeps its lease, which expires and
sends it to reconciliation (the crash path, see docs/states.md).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from crosspost.publishing.outcome import Outcome, Ready
from crosspost.publishing.publisher import Publisher
from crosspost.store import Publication

__all__ = ["AccountDispatcher"]

log = logging.getLogger(__name__)

#: Worker threads by default: accounts publishing at the same moment.
DEFAULT_WORKERS = 8
#: Accounts a daemon holds claimed per worker: the one it publishes for, the rest queued.
#: A claim ranks every due row, so it is not made for each account: with two per worker
#: the claims held posts back (median lateness 8.8-11.7 s with 1,000 accounts posting
#: 333 a second on 1, 2 and 4 daemons, against 2.6-8.4 s with eight).
HELD_PER_WORKER = 8


class AccountDispatcher:
    """Publishes due publications with one in flight per account, accounts in parallel.

    Args:
        publisher: claims, publishes and records (its ``project`` may be swapped on reload).
        workers: how many accounts may publish at the same moment.
        on_outcome: called from the worker thread as soon as a publication is recorded.
    """

    def __init__(
        self,
        publisher: Publisher,
        workers: int = DEFAULT_WORKERS,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.publisher = publisher
        self.workers = max(workers, 1)
        self.on_outcome = on_outcome or (lambda _outcome: None)
        self._queue: queue.SimpleQueue[Publication | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy: set[str] = set()
        self._finished: list[Outcome] = []
        self._threads: list[threading.Thread] = []
        #: A round's claim and a worker's take one after the other: each counts free workers.
        self._claiming = threading.Lock()
        #: The accounts that must not publish, as the last round read them (a worker
        #: taking an account between rounds does not read the store for them again).
        self._blocked: set[str] = set()
        #: Whether the last claim took all it asked for: more accounts may have posts due.
        #: When it took fewer, none had, and a worker whose turn ends does not ask again
        #: (a claim is a write transaction): what comes due later goes to a round.
        self._more = False

    @property
    def busy(self) -> set[str]:
        """Accounts with a publication claimed or in flight."""
        with self._lock:
            return set(self._busy)

    def dispatch(self) -> int:
        """Claim the oldest due publication of idle accounts, the accounts whose is oldest
        first, as many as this daemon may hold (:attr:`holds_at_most`); return how many."""
        now = self.publisher.clock()
        self._blocked = set(self.publisher.blocked(now))
        rows = self._claimed(now)
        if rows:
            self._start_workers()
        for row in rows:
            self._queue.put(row)
        return len(rows)

    @property
    def holds_at_most(self) -> int:
        """How many accounts this daemon holds claimed at most (:data:`HELD_PER_WORKER`)."""
        return HELD_PER_WORKER * self.workers

    def _claimed(self, now: datetime, ended: str | None = None) -> list[Publication]:
        """Idle accounts' oldest due publications, as many as there is room for, claimed and
        counted as busy; those free workers take at once are marked as sending too.
        ``ended``: the account of the worker that asks, still counted as busy (and not
        claimed again), the worker free; it takes the first row."""
        publisher = self.publisher
        with self._claiming:
            busy = self.busy
            leaving = int(ended is not None)
            room = self.holds_at_most - len(busy) + leaving
            if room <= 0 or publisher.stopping.is_set():
                return []
            rows = publisher.store.claim_next(
                now,
                publisher.worker_id,
                publisher.lease,
                # and those a worker of ours paused or held since the round read the store
                self._blocked | busy | set(publisher.paused) | set(publisher.held),
                holder=publisher.holder,
                sending=max(self.workers - len(busy) + leaving, 0),  # free workers take them
                limit=room,
            )
            self._more = len(rows) == room
            rows = publisher.keep_paced(rows)  # another daemon may have published meanwhile
            with self._lock:
                self._busy.update(row.account for row in rows)
        return rows

    def take(self) -> list[Outcome]:
        """The outcomes recorded since the last call."""
        with self._lock:
            finished, self._finished = self._finished, []
        return finished

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no account is busy; False if ``timeout`` seconds passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy, timeout)

    def shutdown(self, bound: timedelta) -> set[str]:
        """Hand back what was claimed but not started, let what is in flight finish.

        Call after ``publisher.stopping`` is set. Returns the accounts still
        publishing after ``bound``: their rows are left to the crash path.
        """
        while True:
            try:
                row = self._queue.get_nowait()
            except queue.Empty:
                break
            if row is not None:
                self._report(self.publisher.release(row))
                self._done(row.account)
        for _ in self._threads:
            self._queue.put(None)
        self.wait(bound.total_seconds())
        return self.busy

    # -- workers --------------------------------------------------------------

    def _start_workers(self) -> None:
        while len(self._threads) < self.workers:
            thread = threading.Thread(
                target=self._work, name=f"publish-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while (row := self._queue.get()) is not None:
            while row is not None:
                account = row.account
                try:
                    self._drain(row)
                except BaseException:  # the thread ends: its account must not stay busy
                    self._done(account)
                    raise
                row = self._taken(account)

    def _taken(self, ended: str) -> Publication | None:
        """When no claimed row is waiting and more may be due: the idle accounts' oldest due
        publications, claimed now, the first for this worker (whose turn of ``ended`` just
        ended), the rest queued; None when nothing is to be taken, or a stop was asked.

        ``ended`` stops counting as busy only after the claim: a wait for the workers to
        be idle never returns while one is about to take another account."""
        try:
            if not self._more or not self._queue.empty():
                return None
            rows = self._claimed(self.publisher.clock(), ended=ended)
            for row in rows[1:]:
                self._queue.put(row)
            return rows[0] if rows else None
        except Exception:  # e.g. a database outage: the next round claims as usual
            log.exception("taking the next accounts failed; trying again at the next round")
            return None
        finally:
            self._done(ended)

    def _drain(self, row: Publication) -> None:
        account = row.account
        try:
            next_row: Publication | Ready | None = row
            while next_row is not None:
                self._report(self._publish(next_row))
                next_row = self._next(account)
        except Exception:  # a bug or a database outage must not kill the worker
            log.exception("publishing for %s stopped; trying again at the next round", account)
        finally:
            self._end_turn(account)

    def _end_turn(self, account: str) -> None:
        """Hand back what the turn claimed and did not send (the worker then frees
        ``account``, see :meth:`_taken`)."""
        try:
            left = self.publisher.end_turn(account)
            if left is not None:  # claimed and marked as sending, but provably not sent
                self._report(self.publisher.release(left.row))
        except Exception:
            log.exception("handing back the next post of %s failed", account)

    def _publish(self, row: Publication | Ready) -> Outcome:
        publisher = self.publisher
        if publisher.stopping.is_set():
            return publisher.release(row.row if isinstance(row, Ready) else row)
        if isinstance(row, Ready):
            return publisher.send_ready(row)
        return publisher.publish_row(row, chain=True)

    def _next(self, account: str) -> Publication | Ready | None:
        """The account's next publication: the one handed over by the last record (it
        was claimed and marked as sending then), else the oldest due one, claimed and
        marked as sending now; none when the last record found none due."""
        publisher = self.publisher
        ready = publisher.take_ready(account)
        if ready is not None:
            return ready
        if publisher.chaining.drained(account):
            return None
        now = publisher.clock()
        if not publisher.may_publish(account, now):
            return None
        rows = publisher.store.claim_next(
            now,
            publisher.worker_id,
            publisher.lease,
            account=account,
            holder=publisher.holder,
            sending=1,  # this worker sends it now
        )
        return rows[0] if rows else None

    def _report(self, outcome: Outcome) -> None:
        for each in outcome.flat():  # a post, then its first comment
            with self._lock:
                self._finished.append(each)
            try:
                self.on_outcome(each)
            except Exception:  # printing must never stop publishing
                log.exception("reporting an outcome failed")

    def _done(self, account: str) -> None:
        with self._idle:
            self._busy.discard(account)
            self._idle.notify_all()
