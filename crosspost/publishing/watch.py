"""Knowing when the project's files changed, without looking at every file every round.

:class:`ProjectFiles` keeps the files' modification times and sizes as they were when
last applied, and says when a changed set has stayed unchanged for ``settle`` (an
editor may still be saving). Walking the content library costs a ``stat`` per file, so
while a :class:`FileWatcher` is running the daemon walks only when the watcher saw
something, while a change settles, and every :data:`BACKSTOP` in case an event was
lost; without one (``run_once``, tests, no file events) it walks every round.

The watcher watches directories, not files: an editor that saves by renaming over a
file leaves a watch on the file itself looking at the old one. After each change it
arms again, so a directory created meanwhile is watched too.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from watchdog import events

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

__all__ = ["BACKSTOP", "FileWatcher", "ProjectFiles", "Stamp"]

log = logging.getLogger(__name__)

#: A file's modification time (ns) and size: what tells that it changed.
Stamp = tuple[int, int]
#: With a watcher running, the files are still walked this often.
BACKSTOP = timedelta(minutes=1)
#: A change is reported once its events pause this long (seconds): a save is several.
_QUIET = 0.25
#: ... or once they have gone on this long (seconds).
_DEBOUNCE = 1.6
#: Should the OS have no file events here, the files are polled this often instead
#: (seconds), not watchdog's default 1.
_POLL = 5.0
#: Longest a stop waits for the observer's threads (seconds).
STOP_TIMEOUT = 2.0


def stamps_of(paths: Iterable[Path], pattern: str = "*") -> dict[Path, Stamp]:
    """The stamp of every file at or under ``paths`` whose name matches ``pattern`` (a
    missing path has none)."""
    stamps = {}
    for path in paths:
        if path.is_file():
            candidates = [path]
        else:
            candidates = sorted(path.rglob(pattern)) if path.is_dir() else []
        for file in candidates:
            try:
                stat = file.stat()
            except OSError:
                continue
            stamps[file] = (stat.st_mtime_ns, stat.st_size)
    return stamps


@dataclass
class ProjectFiles:
    """The project's files as they were when last applied, and a change still settling."""

    stamps: dict[Path, Stamp] = field(default_factory=dict)
    pending: dict[Path, Stamp] | None = None
    pending_since: datetime | None = None
    watcher: FileWatcher | None = None
    walked_at: datetime | None = None

    def look_due(self, now: datetime) -> bool:
        """Whether a round should walk the files now."""
        watcher = self.watcher
        if watcher is None or not watcher.running or self.pending is not None:
            return True
        if watcher.take_change():
            return True
        return self.walked_at is None or now - self.walked_at >= BACKSTOP

    def walked(self, stamps: dict[Path, Stamp], now: datetime) -> bool:
        """Note a walk; whether ``stamps`` differ from the applied ones."""
        self.walked_at = now
        if stamps == self.stamps:
            self.pending = self.pending_since = None
            return False
        return True

    def settled(self, stamps: dict[Path, Stamp], now: datetime, settle: timedelta) -> bool:
        """Whether ``stamps`` have been seen unchanged for ``settle`` (an editor may be saving)."""
        if stamps != self.pending or self.pending_since is None:
            self.pending, self.pending_since = stamps, now
        return now - self.pending_since >= settle

    def applied(self, stamps: dict[Path, Stamp]) -> None:
        """``stamps`` are what the project now reflects (loaded, or refused)."""
        self.stamps = stamps
        self.pending = self.pending_since = None

    def next_look(self, now: datetime, settle: timedelta) -> datetime | None:
        """When the files want looking at: now for a change seen during a round, when a
        change being saved will have settled, or None."""
        if self.watcher is not None and self.watcher.has_change():
            return now
        return None if self.pending_since is None else self.pending_since + settle


class FileWatcher:
    """Calls ``on_change`` when a file under the paths ``roots()`` names changes.

    Runs on a thread of its own with the operating system's file events (watchdog).
    ``start`` says False when that is not possible; the daemon then walks the files
    every round as before.

    On Linux (inotify) a file counts as written when it is closed, not at each write:
    the store's SQLite file and its journal, beside ``schedule.yaml`` by default, are
    written while held open, and each of their writes woke a thread here (about 17 a
    publication, a tenth of the daemon's throughput). An editor's save closes or renames
    the file. Other systems have no close event; there each write counts.
    """

    def __init__(self, roots: Callable[[], list[Path]], on_change: Callable[[], None]) -> None:
        self._roots = roots
        self._on_change = on_change
        self._stop = threading.Event()
        self._changed = threading.Event()
        #: Set by the observer's thread at an event under the roots (and by :meth:`stop`).
        self._hit = threading.Event()
        #: Events the system gave, under the roots or not (what the tests look at).
        self.events = 0
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether file events are being watched."""
        return self._thread is not None and self._thread.is_alive()

    def has_change(self) -> bool:
        """Whether something changed that no round took yet."""
        return self._changed.is_set()

    def take_change(self) -> bool:
        """Whether something changed since the last call."""
        changed = self._changed.is_set()
        self._changed.clear()
        return changed

    def start(self) -> bool:
        """Watch from now on; False when file events are not available here."""
        try:
            import watchdog.observers  # noqa: F401  (no observer here: walk every round)
        except Exception:
            log.info("file events not available, looking at the files every round")
            return False
        self._thread = threading.Thread(target=self._run, name="file-watcher", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Stop watching (the thread ends at once)."""
        self._stop.set()
        self._hit.set()

    def _run(self) -> None:
        try:
            observer = _observer()
            observer.start()
        except Exception as exc:  # e.g. no inotify instance left: walk every round
            log.warning("file events not available (%s); looking at the files every round", exc)
            self._changed.set()
            return
        try:
            while not self._stop.is_set():
                try:
                    changed = self._next_change(observer)
                except Exception as exc:  # e.g. out of inotify watches: walk every round
                    log.warning("file events stopped (%s); looking at the files every round", exc)
                    changed = False
                self._changed.set()  # a change, or the walk every round takes over
                if not changed:
                    return
                self._on_change()
        finally:
            observer.stop()
            observer.join(timeout=STOP_TIMEOUT)

    def _next_change(self, observer: BaseObserver) -> bool:
        """Wait for a change under the roots; False when stopped (or nothing to watch).

        The watches are made anew each time: the roots may have changed with a reload, and
        a directory may have been made or removed meanwhile."""
        roots = self._roots()
        watches = _watches(roots)
        if not watches:
            return False
        observer.unschedule_all()
        handler, kinds = _Changes(roots, self._seen), _event_kinds(observer)
        self._hit.clear()
        if self._stop.is_set():  # after the clear: a stop from now on sets it again
            return False
        for directory, recursive in watches.items():
            observer.schedule(handler, str(directory), recursive=recursive, event_filter=kinds)
        self._hit.wait()
        self._quiet()
        return not self._stop.is_set()

    def _seen(self, within: bool) -> None:
        self.events += 1
        if within:
            self._hit.set()

    def _quiet(self) -> None:
        """Wait until the events pause (a save is several), for ``_DEBOUNCE`` at most."""
        began = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - began < _DEBOUNCE:
            self._hit.clear()
            if not self._hit.wait(_QUIET):
                return


def _observer() -> BaseObserver:
    """The system's observer; the polling one (no file events here) looks every ``_POLL``."""
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserver

    return PollingObserver(timeout=_POLL) if Observer is PollingObserver else Observer()


def _event_kinds(observer: BaseObserver) -> list[type[events.FileSystemEvent]]:
    """The events that mean a change; on inotify they become the kernel's mask."""
    kinds: list[type[events.FileSystemEvent]] = [
        events.FileCreatedEvent,
        events.FileDeletedEvent,
        events.FileMovedEvent,
        events.DirCreatedEvent,
        events.DirDeletedEvent,
        events.DirMovedEvent,
    ]
    closes = type(observer).__module__ == "watchdog.observers.inotify"
    kinds.append(events.FileClosedEvent if closes else events.FileModifiedEvent)
    return kinds


class _Changes(events.FileSystemEventHandler):
    """Hands each event the system gives to ``seen`` with whether it is under the roots."""

    def __init__(self, roots: list[Path], seen: Callable[[bool], None]) -> None:
        self._within = _Within(roots)
        self._seen = seen

    def on_any_event(self, event: events.FileSystemEvent) -> None:
        paths = (event.src_path, event.dest_path)
        self._seen(any(path and self._within(os.fsdecode(path)) for path in paths))


class _Within:
    """Only changes at or under the roots count."""

    def __init__(self, roots: list[Path]) -> None:
        self._roots = [root.resolve() for root in roots]

    def __call__(self, path: str) -> bool:
        changed = Path(path)
        return any(changed == root or root in changed.parents for root in self._roots)


def _watches(roots: list[Path]) -> dict[Path, bool]:
    """The directories to watch and whether with their trees: each directory root's tree,
    each file's own directory (a missing root's too, to see it made)."""
    found: dict[Path, bool] = {}
    for root in (r.resolve() for r in roots):
        if root.is_dir():
            found[root] = True
        elif root.parent.is_dir():
            found.setdefault(root.parent, False)
    return dict(sorted(found.items()))
