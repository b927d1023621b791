"""The daemon: APScheduler 3.x as an in-process timer over the store.

The scheduler keeps nothing of its own (memory job store, one job that the
daemon reschedules after every round). Each round re-reads the project if its
files changed and have been stable for a moment (``settle``), and hands what is
due to the :class:`~crosspost.publishing.dispatch.AccountDispatcher`: accounts publish in
parallel, each one post at a time, so a slow account delays only itself.

Planning costs what changed: at start and after a reload only the entries whose
definition changed (a fingerprint per entry, kept in the store) are synced again,
and the horizon is extended every ``horizon / 24``. Between rounds the daemon
sleeps until the next due row, the next extension, a file change (file events on
a thread of their own, :mod:`crosspost.publishing.watch`) or ``tick``, whichever comes first;
a round walks the files only when they changed, or once a minute.

A reload is applied only when the whole project loads and every upcoming post
renders (as ``check`` does); otherwise the problems are logged with file:line
and the last good project, with its templates and content as they were read,
keeps publishing. A schedule that lost all its posts is refused the same way
(:mod:`crosspost.publishing.daemon_reload`).

Feeds (``feeds:``) are fetched on a thread of their own, every ``feeds_every``
those that are due (:class:`~crosspost.publishing.feeds.FeedPoller`); a fetch that writes
down posts wakes the round, so they go out at once, and a hanging feed never
holds up a round. ``run_once`` fetches the due feeds before it publishes.

Stopping (SIGTERM, SIGINT) claims nothing more, lets the publications in
flight finish for up to ``shutdown_grace`` and hands back the ones claimed but
not started; a call still hanging after that is left to the crash path. The
timer, its jobs and the signals are :mod:`crosspost.publishing.daemon_timer`'s.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from crosspost.collecting.metrics import MetricsCollector
from crosspost.loading.content import CONTENT_FILES
from crosspost.loading.project import Project, any_frozen, collect_frozen, load_project
from crosspost.loading.settings import SecretSource
from crosspost.logs import mask_secrets
from crosspost.planning.approval_gate import refresh_approvals
from crosspost.planning.ics import refresh_calendar
from crosspost.planning.sync import (
    DEFAULT_HORIZON,
    SyncReport,
    definitions,
    extend_plan,
    resume_plan,
    sync_plan,
)
from crosspost.publishing.daemon_reload import reloaded
from crosspost.publishing.daemon_timer import DaemonTimer
from crosspost.publishing.dispatch import DEFAULT_WORKERS, AccountDispatcher
from crosspost.publishing.feeds import FeedPoller
from crosspost.publishing.notify import Notifier
from crosspost.publishing.outcome import Outcome
from crosspost.publishing.publisher import Publisher
from crosspost.publishing.watch import ProjectFiles, Stamp, stamps_of
from crosspost.rendering.humanize import counted
from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.planning import next_due_after

__all__ = ["Daemon"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class Daemon(DaemonTimer):
    """Keeps a project's publications going out on time.

    Args:
        schedule_path: ``schedule.yaml``.
        store: the store.
        clock: current UTC time (injected in tests).
        tick: the longest wait between two rounds (the store may be changed by others).
        horizon: how far ahead publications are written down.
        project: the project, when the caller already loaded it from ``schedule_path``.
        settle: how long changed files must stay unchanged before they are reloaded.
        workers: how many accounts may publish at the same moment.
        shutdown_grace: how long a stop waits for the publications in flight.
        feeds_every: how often the feeds are looked at (each is fetched by its own ``every``).
    """

    def __init__(
        self,
        schedule_path: Path,
        store: Store,
        *,
        secrets: SecretSource | None = None,
        clock: Clock | None = None,
        tick: timedelta = timedelta(seconds=5),
        horizon: timedelta = DEFAULT_HORIZON,
        lease: timedelta = timedelta(minutes=10),
        collect_every: timedelta | None = timedelta(minutes=1),
        on_outcome: Callable[[Outcome], None] | None = None,
        settle: timedelta = timedelta(seconds=2),
        workers: int = DEFAULT_WORKERS,
        shutdown_grace: timedelta = timedelta(seconds=10),
        project: Project | None = None,
        feeds_every: timedelta = timedelta(seconds=30),
    ) -> None:
        self.schedule_path = schedule_path.resolve()
        self.store = store
        self.secrets = secrets
        self.clock = clock or (lambda: datetime.now(UTC))
        self.tick_every = tick
        self.horizon = horizon
        self.on_outcome = on_outcome or (lambda _outcome: None)
        self.project = project or self._load()
        refresh_calendar(self.project, self.clock())
        self.publisher = Publisher(store, self.project, clock=self.clock, lease=lease)
        self.notifier = Notifier(store, self.project, self.clock)
        self.collector = MetricsCollector(store, self.project, self.clock, every=collect_every)
        self.dispatcher = AccountDispatcher(self.publisher, workers, self.on_outcome)
        self.feeds = FeedPoller(store, self.clock)
        self.feeds_every = feeds_every
        self.collect_every = collect_every
        self.settle = settle
        self.shutdown_grace = shutdown_grace
        self._files = ProjectFiles(self._stamps())
        #: Fingerprints of the entries as planned; None until the first sync.
        self._definitions: dict[str, str] | None = None
        self._extended_at = self.clock()
        #: :meth:`resume` extended only what was planned less than :attr:`extend_every` ahead.
        self._extend_the_rest = False
        self._started_at = self.clock()
        #: When a round first found a load's objects frozen (see :meth:`_collect_frozen`).
        self._frozen_seen_at: datetime | None = None
        #: Called once, when the first round has handed out what is due (the CLI's start
        #: banner is worked out then, not beside the first posts' rendering and claims).
        self.after_first_dispatch: Callable[[], None] | None = None
        self._lock = threading.Lock()
        super().__init__()  # the timer's own state

    # -- loading ------------------------------------------------------------

    def _load(self) -> Project:
        project = load_project(self.schedule_path, self.secrets, keep=True)
        mask_secrets(project.secret_values())  # new tokens of a reload too
        return project

    def _watched(self) -> list[Path]:
        """The files and folders whose change means a reload."""
        base = self.project.base_dir
        content = self._content_folder()
        watched = [self.schedule_path, base / self.project.schedule.templates_dir, base / ".env"]
        return watched if content is None else [*watched, content]

    def _content_folder(self) -> Path | None:
        content_dir = self.project.schedule.content_dir
        return self.project.base_dir / content_dir if content_dir else None

    def _stamps(self) -> dict[Path, Stamp]:
        """The watched files' stamps; of the content folder, only the Markdown files the
        loader reads (a store or a build kept in it changes all the time)."""
        content = self._content_folder()
        others = [path for path in self._watched() if path != content]
        stamps = stamps_of(others)
        if content is not None:
            stamps.update(stamps_of([content], pattern=CONTENT_FILES))
        return stamps

    def reload_if_changed(self) -> bool:
        """Re-read the project once its changed files settled; a broken one changes nothing."""
        now = self.clock()
        if not self._files.look_due(now):
            return False
        stamps = self._stamps()
        if not self._files.walked(stamps, now) or not self._files.settled(stamps, now, self.settle):
            return False
        self._files.applied(stamps)
        name = self.schedule_path.name
        project = reloaded(self._load, self.project, self.clock, name)
        if project is None:
            return False
        self._adopt(project)
        refresh_calendar(project, self.clock())
        log.info("%s reloaded", name)
        return True

    def _adopt(self, project: Project) -> None:
        # held accounts whose settings changed are tried again by Publisher.refresh_holds
        self.project = project
        self.publisher.project = self.notifier.project = self.collector.project = project
        if self.streams is not None:
            self.streams.follow(project)
        if self._definitions is not None:
            self._sync_changed()
            self.feeds.retire(project, self.clock())
            self.gate()  # content (and its approvals) may have changed without the entries

    # -- one round ------------------------------------------------------------

    @property
    def extend_every(self) -> timedelta:
        """How often the plan is extended: it always reaches 23/24 of the horizon ahead."""
        return self.horizon / 24

    def sync(self) -> SyncReport:
        """Write the whole plan ahead into the store, every entry looked at."""
        return self._planned(sync_plan)

    def resume(self) -> SyncReport:
        """Write the plan ahead at start: sync what changed since the store's last sync,
        and extend what is planned less than :attr:`extend_every` ahead. The rest is
        extended by the next round, after it hands out what is due: on an agency's
        schedule, extending every entry held the first post back by half a second."""
        report = self._planned(resume_plan, extend_before=self.clock() + self.extend_every)
        self._extend_the_rest = report.deferred  # not after a sync of every entry
        return report

    def _planned(self, plan: Callable[..., SyncReport], **options: datetime) -> SyncReport:
        """``plan`` (:func:`sync_plan` or :func:`resume_plan`) now, the entries' fingerprints
        kept for the next reload to compare with."""
        now = self.clock()
        definitions_now = definitions(self.project)
        report = plan(
            self.project, self.store, now, self.horizon, fingerprints=definitions_now, **options
        )
        self._definitions, self._extended_at = definitions_now, now
        self.feeds.retire(self.project, now)
        self.gate()
        return self._logged(report)

    def _sync_changed(self) -> SyncReport:
        """Sync again only the entries added, changed, removed or disabled since the last sync."""
        before = self._definitions or {}
        after = definitions(self.project)
        changed = {e for e in before.keys() | after.keys() if before.get(e) != after.get(e)}
        self._definitions = after
        if not changed:
            return SyncReport()
        now = self.clock()
        return self._logged(
            sync_plan(self.project, self.store, now, self.horizon, changed, fingerprints=after)
        )

    def extend(self) -> SyncReport:
        """Write down what came within the horizon since the last extension."""
        now = self.clock()
        report = extend_plan(self.project, self.store, now, self.horizon)
        self._extended_at, self._extend_the_rest = now, False
        self.gate()
        return self._logged(report)

    def gate(self) -> None:
        """Hold what awaits approval, release what was approved, tell the approver."""
        report = refresh_approvals(self.project, self.store, self.clock())
        if report.held or report.released:
            log.info(
                "approval: %s now %s it, %d approved",
                counted(report.held, "publication"),
                "awaits" if report.held == 1 else "await",
                report.released,
            )
        self.notifier.approvals(report.awaiting)

    @staticmethod
    def _logged(report: SyncReport) -> SyncReport:
        if report.added or report.cancelled or report.restored:
            log.info(
                "plan updated: %d added, %d cancelled, %d restored",
                report.added,
                report.cancelled,
                report.restored,
            )
        return report

    def wait_time(self) -> timedelta:
        """How long to sleep before the next round: until the next due row, the next
        extension, a change being saved has settled or ``tick``, whichever is first
        (a file change seen by the watcher wakes the round at once)."""
        now = self.clock()
        wake = [now + self.tick_every, self._extended_at + self.extend_every]
        due = next_due_after(self.store, now)
        look = self._files.next_look(now, self.settle)
        wake += [moment for moment in (due, look) if moment is not None]
        return max(min(wake) - now, timedelta())

    def upcoming(self) -> tuple[int, datetime | None]:
        """How many publications are planned, and when the next one is due."""
        return self.store.planned_summary()

    def round(self) -> list[Outcome]:
        """Reload if needed, sync when due, hand what is due to the workers; don't wait.

        Returns the outcomes recorded since the last round.
        """
        with self._lock:
            self.reload_if_changed()
            now = self.clock()
            if self._definitions is None:
                self.resume()
            elif now - self._extended_at >= self.extend_every:
                self.extend()
            found = self.publisher.maintain(now)
            if not self.stopping:
                self.dispatcher.dispatch()
                self._first_dispatch_done()
            if self._extend_the_rest:  # after what is due: it is planned a while ahead
                self.extend()
            self._collect_frozen(now)
            outcomes = found + self.dispatcher.take()
            self.store.heartbeat(self.publisher.worker_id, self.clock(), self._started_at)
            self.notifier.outcomes(outcomes)
            self.notifier.credentials(dict(self.publisher.held))  # workers add to it
        for outcome in found:  # the workers reported theirs as they went
            self.on_outcome(outcome)
        return outcomes

    def _first_dispatch_done(self) -> None:
        hook, self.after_first_dispatch = self.after_first_dispatch, None
        if hook is not None:
            try:
                hook()
            except Exception:  # a courtesy of the caller's: publishing goes on without it
                log.exception("what was to run after the first dispatch failed; publishing goes on")

    def _collect_frozen(self, now: datetime) -> None:
        """Walk a load's frozen objects once (:func:`collect_frozen`) when no account is
        publishing: the collection holds every thread for a moment (0.6 s after a load of
        50,000 entries), so not while the first posts go out; at the latest a tick after
        the load."""
        if not any_frozen():
            self._frozen_seen_at = None
            return
        seen = self._frozen_seen_at = self._frozen_seen_at or now
        if not self.dispatcher.busy or now - seen >= self.tick_every:
            collect_frozen()
            self._frozen_seen_at = None

    def tick(self) -> list[Outcome]:
        """One round, then wait until every account is done with what is due (tests, --once)."""
        outcomes = self.round()
        self.dispatcher.wait()
        finished = self.dispatcher.take()
        with self._lock:
            self.notifier.outcomes(finished)
        return outcomes + finished

    def run_once(self, max_rounds: int = 100) -> list[Outcome]:
        """Fetch the feeds that are due, publish everything due now, then return (cron, tests)."""
        self.resume()
        self.poll_feeds()
        outcomes: list[Outcome] = []
        for _ in range(max_rounds):
            round_outcomes = self.tick()
            outcomes += round_outcomes
            if not any(o.status != Status.PLANNED for o in round_outcomes) or self.stopping:
                break
        self.record_stop()
        return outcomes

    def record_stop(self) -> None:
        """Mark this daemon's heartbeat as stopped, so that it stops reading as alive at once."""
        try:
            self.store.heartbeat_stopped(self.publisher.worker_id, self.clock())
        except SQLAlchemyError as exc:  # the database may be why we stop: the age tells soon
            log.warning("could not record the stop in the store: %s", exc)

    def poll_feeds(self) -> int:
        """Fetch the feeds that are due; return how many posts their new entries planned."""
        reports = self.feeds.poll_due(self.project)
        return sum(len(r.planned) * len(r.accounts) for r in reports)
