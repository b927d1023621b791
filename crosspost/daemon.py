"""The daemon: APScheduler 3.x as an in-process timer over the store.

The scheduler keeps nothing of its own (memory job store, one interval job).
Each tick re-reads ``schedule.yaml`` if it changed (a broken edit is reported
and the last good project keeps running), writes the plan ahead into the
store, and publishes what is due. Stopping (SIGTERM, SIGINT) lets the
publication in flight finish and hands back the ones claimed but not started.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from crosspost.errors import ConfigError
from crosspost.logs import mask_secrets
from crosspost.metrics import MetricsCollector
from crosspost.notify import Notifier
from crosspost.project import Project, load_project
from crosspost.publisher import Outcome, Publisher
from crosspost.settings import SecretSource
from crosspost.store import Store
from crosspost.sync import DEFAULT_HORIZON, SyncReport, sync_plan

__all__ = ["Daemon"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass
class _Watch:
    """The schedule's files as they were when last loaded."""

    stamps: dict[Path, float] = field(default_factory=dict)

    @staticmethod
    def of(project_path: Path, extra: list[Path]) -> dict[Path, float]:
        stamps = {}
        for path in [project_path, *extra]:
            candidates = (
                [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
            )
            for file in candidates:
                try:
                    stamps[file] = file.stat().st_mtime
                except OSError:
                    continue
        return stamps


class Daemon:
    """Keeps a project's publications going out on time.

    Args:
        schedule_path: ``schedule.yaml``.
        store: the store.
        clock: current UTC time (injected in tests).
        tick: how often due publications are looked for.
        horizon: how far ahead publications are written down.
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
    ) -> None:
        self.schedule_path = schedule_path.resolve()
        self.store = store
        self.secrets = secrets
        self.clock = clock or (lambda: datetime.now(UTC))
        self.tick_every = tick
        self.horizon = horizon
        self.on_outcome = on_outcome or (lambda _outcome: None)
        self.project = self._load()
        self.publisher = Publisher(store, self.project, clock=self.clock, lease=lease)
        self.notifier = Notifier(store, self.project, self.clock)
        self.collector = MetricsCollector(store, self.project, self.clock)
        self.collect_every = collect_every
        self._watch = _Watch(self._stamps())
        self._synced_at: datetime | None = None
        self._started_at = self.clock()
        self._lock = threading.Lock()
        self._scheduler: BlockingScheduler | None = None
        #: The signal that stopped ``run_forever`` (None: not a signal); told to ``on_signal``.
        self.received: int | None = None
        self.on_signal: Callable[[int], None] = lambda _signum: None

    # -- loading ------------------------------------------------------------

    def _load(self) -> Project:
        project = load_project(self.schedule_path, self.secrets)
        mask_secrets(project.secret_values())  # new tokens of a reload too
        return project

    def _stamps(self) -> dict[Path, float]:
        base = self.project.base_dir
        extra = [base / self.project.schedule.templates_dir, base / ".env"]
        if self.project.schedule.content_dir:
            extra.append(base / self.project.schedule.content_dir)
        return _Watch.of(self.schedule_path, extra)

    def reload_if_changed(self) -> bool:
        """Re-read the project if a file changed; a broken one leaves the last good one running."""
        stamps = self._stamps()
        if stamps == self._watch.stamps:
            return False
        self._watch = _Watch(stamps)
        try:
            project = self._load()
        except ConfigError as exc:
            log.error("schedule not reloaded, the last good plan keeps running:\n%s", exc)
            return False
        project.adopt_connectors(self.project)
        changed = {
            n for n in project.accounts if project.accounts[n] != self.project.accounts.get(n)
        }
        for name in changed:  # new credentials: try the account again
            self.publisher.held.pop(name, None)
        self.project = project
        self.publisher.project = self.notifier.project = self.collector.project = project
        self._synced_at = None
        log.info("schedule reloaded from %s", self.schedule_path.name)
        return True

    # -- one round ------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Write the plan ahead into the store."""
        now = self.clock()
        report = sync_plan(self.project, self.store, now, self.horizon)
        self._synced_at = now
        if report.added or report.cancelled:
            log.info("plan updated: %d added, %d cancelled", report.added, report.cancelled)
        return report

    def tick(self) -> list[Outcome]:
        """One round: reload if needed, sync when due, publish what is due, beat."""
        with self._lock:
            self.reload_if_changed()
            now = self.clock()
            if self._synced_at is None or now - self._synced_at >= timedelta(minutes=1):
                self.sync()
            outcomes = self.publisher.run_due()
            self.store.heartbeat(self.publisher.worker_id, self.clock(), self._started_at)
            self.notifier.outcomes(outcomes)
            self.notifier.credentials(self.publisher.held)
        for outcome in outcomes:
            self.on_outcome(outcome)
        return outcomes

    def run_once(self, max_rounds: int = 100) -> list[Outcome]:
        """Publish everything due now, then return (for cron and tests)."""
        self.sync()
        outcomes: list[Outcome] = []
        for _ in range(max_rounds):
            round_outcomes = self.tick()
            outcomes += round_outcomes
            if not any(o.status != "planned" for o in round_outcomes) or self.stopping:
                break
        return outcomes

    # -- running --------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """Whether a stop was asked for."""
        return self.publisher.stopping.is_set()

    def stop(self, *_args: object) -> None:
        """Finish the publication in flight, hand back the rest, stop the timer."""
        if not self.stopping:
            log.info("stopping: finishing the publication in flight")
        self.publisher.stopping.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def run_forever(self) -> None:
        """Tick until SIGTERM or SIGINT."""
        # Collection has its own thread, so a slow platform API never delays publishing.
        scheduler = BlockingScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(1), "collect": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._scheduler = scheduler
        scheduler.add_job(
            self._safe_tick,
            "interval",
            seconds=self.tick_every.total_seconds(),
            next_run_time=datetime.now(UTC),
            id="tick",
        )
        if self.collect_every is not None:
            scheduler.add_job(
                self._safe_collect,
                "interval",
                executor="collect",
                seconds=self.collect_every.total_seconds(),
                id="collect",
                next_run_time=datetime.now(UTC) + timedelta(seconds=10),
            )
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        log.info("daemon started on %s", self.schedule_path)
        try:
            scheduler.start()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            with self._lock:  # wait for a tick in flight to record its outcome
                log.info("daemon stopped")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        self.received = signum
        self.on_signal(signum)
        self.stop()

    def _safe_collect(self) -> None:
        if self.stopping:
            return
        try:
            self.collector.run_due()
        except Exception:  # collection must never take the daemon down
            log.exception("metrics collection failed; trying again at the next round")

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception:  # a bug or a database outage must not kill the timer
            log.exception("tick failed; trying again at the next one")
