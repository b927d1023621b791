"""The daemon's timer: APScheduler 3.x jobs, signals and stopping.

:class:`DaemonTimer` is the running side of :class:`~crosspost.publishing.daemon.Daemon`
(which it is a base of): an in-process ``BlockingScheduler`` with a memory job store
runs one ``tick`` job, the round, that is moved after every round to when the next one
is due (:meth:`~crosspost.publishing.daemon.Daemon.wait_time`), and at once when a
feed planned posts or a watched file changed. Feeds and collection run as jobs of
their own, each on a thread of its own, so a slow feed or platform API never delays
publishing; a failing job is logged and comes back at its next run.

Stopping (SIGTERM, SIGINT) claims nothing more, lets the publications in flight
finish for up to ``shutdown_grace`` and hands back the ones claimed but not started;
a call still hanging after that is left to the crash path.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.blocking import BlockingScheduler

from crosspost.collecting.inbox_streams import InboxStreams, StreamLeases
from crosspost.publishing.watch import FileWatcher, ProjectFiles

if TYPE_CHECKING:
    from crosspost.collecting.metrics import MetricsCollector
    from crosspost.loading.project import Project
    from crosspost.publishing.dispatch import AccountDispatcher
    from crosspost.publishing.outcome import Outcome
    from crosspost.publishing.publisher import Publisher

__all__ = ["FIRST_COLLECTION_AFTER", "DaemonTimer"]

#: The daemon's records keep the logger name they always had (log filters, JSON logs).
log = logging.getLogger("crosspost.publishing.daemon")

#: A stream's word of a mention, when another daemon holds the account: asked again
#: this many times, this far apart.
INBOX_TRIES = 6
INBOX_RETRY = timedelta(seconds=5)
#: The first collection runs this long after the start, once the first round is out.
FIRST_COLLECTION_AFTER = timedelta(seconds=10)


class DaemonTimer:
    """Runs a daemon's rounds on a timer until a signal or :meth:`stop` ends them.

    The daemon sets the attributes declared here and provides the round itself
    (:meth:`round`, :meth:`wait_time`, :meth:`poll_feeds`, :meth:`_watched`).
    """

    schedule_path: Path
    tick_every: timedelta
    feeds_every: timedelta
    collect_every: timedelta | None
    shutdown_grace: timedelta
    publisher: Publisher
    project: Project
    dispatcher: AccountDispatcher
    collector: MetricsCollector
    _files: ProjectFiles
    _lock: threading.Lock

    def __init__(self) -> None:
        self._scheduler: BlockingScheduler | None = None
        #: The signal that stopped ``run_forever`` (None: not a signal); told to ``on_signal``.
        self.received: int | None = None
        self.on_signal: Callable[[int], None] = lambda _signum: None
        #: The accounts' notification streams while ``run_forever`` runs with collection.
        self.streams: InboxStreams | None = None

    # -- what the daemon provides ----------------------------------------------

    def round(self) -> list[Outcome]:
        """One round of publishing (the daemon's)."""
        raise NotImplementedError

    def wait_time(self) -> timedelta:
        """How long until the next round is due (the daemon's)."""
        raise NotImplementedError

    def poll_feeds(self) -> int:
        """Fetch the due feeds; how many posts they planned (the daemon's)."""
        raise NotImplementedError

    def _watched(self) -> list[Path]:
        """The files and folders whose change means a reload (the daemon's)."""
        raise NotImplementedError

    def record_stop(self) -> None:
        """Tell ``status`` and ``health`` that this daemon stopped (the daemon's)."""
        raise NotImplementedError

    # -- running --------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """Whether a stop was asked for."""
        return self.publisher.stopping.is_set()

    def stop(self, *_args: object) -> None:
        """Claim nothing more, stop the timer; ``run_forever`` then waits for what is in flight."""
        if not self.stopping:
            log.info("stopping: finishing the publications in flight")
        self.publisher.stopping.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def run_forever(self) -> None:
        """Tick until SIGTERM or SIGINT."""
        scheduler = self._set_timer()
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        watcher = FileWatcher(self._watched, self._wake)
        if watcher.start():
            self._files.watcher = watcher
        if self.collect_every is not None:
            collector = self.collector
            leases = StreamLeases(collector.store, collector.worker, collector.clock)
            self.streams = InboxStreams(
                self._read_inbox_soon, collector.stream_changed, leases=leases
            )
            self.streams.follow(self.project)
        log.info("daemon started on %s", self.schedule_path)
        try:
            scheduler.start()
        finally:
            if self.streams is not None:
                self.streams.close()
            watcher.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._shut_down()

    def _set_timer(self) -> BlockingScheduler:
        """Make the timer with its jobs (not started yet) the daemon's."""
        # Collection and feeds have threads of their own, so a slow platform API or a
        # slow feed never delays publishing.
        scheduler = BlockingScheduler(
            timezone=UTC,
            executors={
                "default": ThreadPoolExecutor(1),
                "collect": ThreadPoolExecutor(1),
                "feeds": ThreadPoolExecutor(1),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._scheduler = scheduler
        scheduler.add_job(
            self._safe_round,
            "interval",
            seconds=self.tick_every.total_seconds(),
            next_run_time=datetime.now(UTC),
            id="tick",
        )
        scheduler.add_job(
            self._safe_feeds,
            "interval",
            executor="feeds",
            seconds=self.feeds_every.total_seconds(),
            id="feeds",
            next_run_time=datetime.now(UTC) + timedelta(seconds=2),
        )
        if self.collect_every is not None:
            scheduler.add_job(
                self._safe_collect,
                "interval",
                executor="collect",
                seconds=self.collect_every.total_seconds(),
                id="collect",
                next_run_time=datetime.now(UTC) + FIRST_COLLECTION_AFTER,
            )
        return scheduler

    def _shut_down(self) -> None:
        self.publisher.stopping.set()
        # a round in flight may still be claiming: let it finish, but not for ever
        deadline = time.monotonic() + self.shutdown_grace.total_seconds()
        locked = self._lock.acquire(timeout=self.shutdown_grace.total_seconds())
        try:
            left = timedelta(seconds=max(deadline - time.monotonic(), 0))
            hung = self.dispatcher.shutdown(left)
        finally:
            if locked:
                self._lock.release()
        if hung:
            log.warning(
                "stopped with publications still in flight for %s after %ss; "
                "their leases expire and they are reconciled",
                ", ".join(sorted(hung)),
                int(self.shutdown_grace.total_seconds()),
            )
        self.record_stop()
        log.info("daemon stopped")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is not None:
            return  # already stopping (``timeout`` and shells may send the signal twice)
        self.received = signum
        # Writing to a stream from the handler can re-enter a write the interrupted
        # thread was in the middle of (RuntimeError: reentrant call): tell from a thread.
        threading.Thread(target=self._stop_on, args=(signum,), name="signal").start()

    def _stop_on(self, signum: int) -> None:
        log.info("received %s", signal.Signals(signum).name)
        self.on_signal(signum)
        self.stop()

    # -- the jobs ---------------------------------------------------------------

    def _safe_collect(self) -> None:
        if self.stopping:
            return
        try:
            self.collector.run_due()
        except Exception:  # collection must never take the daemon down
            log.exception("metrics collection failed; trying again at the next round")

    def _safe_feeds(self) -> None:
        if self.stopping:
            return
        try:
            planned = self.poll_feeds()
        except Exception:  # feeds must never take the daemon down
            log.exception("fetching the feeds failed; trying again at the next look")
            return
        if planned:
            self._wake()  # post them now

    def _read_inbox_soon(self, account: str, tries: int = INBOX_TRIES) -> None:
        """Read ``account``'s inbox on the collect thread, now (its stream said so)."""
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running or self.stopping:
            return
        scheduler.add_job(
            self._safe_inbox,
            executor="collect",
            args=(account, tries),
            id=f"inbox:{account}",
            replace_existing=True,  # a burst of mentions is one read
            # one read running and one waiting: a mention that comes during a read is
            # read after it (with one, the timer skipped it until the next poll, an hour
            # away while the stream is up)
            max_instances=2,
        )

    def _safe_inbox(self, account: str, tries: int) -> None:
        if self.stopping:
            return
        try:
            read = self.collector.read_inbox_now(account)
        except Exception:  # collection must never take the daemon down
            log.exception("%s: reading the inbox failed; the next poll reads it", account)
            return
        scheduler = self._scheduler
        if read is None and tries > 1 and scheduler is not None and scheduler.running:
            # another daemon is collecting this account right now: ask again after it
            scheduler.add_job(
                self._safe_inbox,
                "date",
                executor="collect",
                run_date=datetime.now(UTC) + INBOX_RETRY,
                args=(account, tries - 1),
                id=f"inbox:{account}",
                replace_existing=True,
            )

    def _wake(self) -> None:
        """Run the next round now (new posts from a feed, a file changed)."""
        self._move_tick(timedelta())

    def _safe_round(self) -> None:
        try:
            self.round()
        except Exception:  # a bug or a database outage must not kill the timer
            log.exception("round failed; trying again at the next one")
        self._schedule_next_round()

    def _schedule_next_round(self) -> None:
        if self.stopping:
            return
        try:
            wait = self.wait_time()
        except Exception:  # the interval job still comes back after ``tick``
            log.exception("could not tell when the next publication is due")
            return
        self._move_tick(wait)

    def _move_tick(self, wait: timedelta) -> None:
        """Run the next round ``wait`` from now, unless the timer is stopping."""
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running or self.stopping:
            return
        try:
            scheduler.modify_job("tick", next_run_time=datetime.now(UTC) + wait)
        except JobLookupError:
            pass  # a signal shut the timer down since the check above: nothing to move
