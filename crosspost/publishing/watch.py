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
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

__all__ = ["BACKSTOP", "FileWatcher", "ProjectFiles", "Stamp"]

log = logging.getLogger(__name__)

#: A file's modification time (ns) and size: what tells that it changed.
Stamp = tuple[int, int]
#: With a watcher running, the files are still walked this often.
BACKSTOP = timedelta(minutes=1)
#: Events closer together than this come as one change (milliseconds).
_DEBOUNCE_MS = 1_600
#: How often the watcher's thread wakes to look for events and a stop (milliseconds): its
#: default (50) alone costs 0.1 % of a core, idle.
_STEP_MS = 500
#: Should the OS have no file events here (WSL, some network mounts), the files are polled
#: this often instead (milliseconds), not watchfiles' default 300.
_POLL_MS = 5_000


def stamps_of(paths: Iterable[Path]) -> dict[Path, Stamp]:
    """The stamp of every file at or under ``paths`` (a missing path has none)."""
    stamps = {}
    for path in paths:
        candidates = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
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

    Runs on a thread of its own with the operating system's file events (watchfiles).
    ``start`` says False when that is not possible; the daemon then walks the files
    every round as before.
    """

    def __init__(self, roots: Callable[[], list[Path]], on_change: Callable[[], None]) -> None:
        self._roots = roots
        self._on_change = on_change
        self._stop = threading.Event()
        self._changed = threading.Event()
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
            import watchfiles  # noqa: F401  (a missing or broken build: walk every round)
        except ImportError:
            log.info("file events not available, looking at the files every round")
            return False
        self._thread = threading.Thread(target=self._run, name="file-watcher", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Stop watching (the thread ends within a second)."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            roots = self._roots()
            try:
                changed = self._next_change(roots)
            except Exception as exc:  # e.g. out of inotify watches: walk every round
                log.warning("file events stopped (%s); looking at the files every round", exc)
                changed = False
            self._changed.set()  # a change, or the walk every round takes over
            if not changed:
                return
            self._on_change()

    def _next_change(self, roots: list[Path]) -> bool:
        """Wait for a change under ``roots``; False when stopped (or nothing to watch)."""
        from watchfiles import watch

        directories = _directories(roots)
        if not directories:
            return False
        for _changes in watch(
            *directories,
            watch_filter=_Within(roots),
            recursive=False,
            debounce=_DEBOUNCE_MS,
            step=_STEP_MS,
            poll_delay_ms=_POLL_MS,
            stop_event=self._stop,
            raise_interrupt=False,
            ignore_permission_denied=True,
        ):
            return True  # arm again: new directories, and the roots after a reload
        return False


class _Within:
    """A watchfiles filter: only changes at or under the roots count."""

    def __init__(self, roots: list[Path]) -> None:
        self._roots = [root.resolve() for root in roots]

    def __call__(self, _change: object, path: str) -> bool:
        changed = Path(path)
        return any(changed == root or root in changed.parents for root in self._roots)


def _directories(roots: list[Path]) -> list[Path]:
    """The directories to watch, not recursively: each file's own, each directory's tree."""
    found: set[Path] = set()
    for root in (r.resolve() for r in roots):
        if root.is_dir():
            found.add(root)
            found.update(p for p in root.rglob("*") if p.is_dir())
        elif root.parent.is_dir():
            found.add(root.parent)
    return sorted(found)
