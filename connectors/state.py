"""Per-account state of a connector: tokens that rotate, kept out of the database."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

__all__ = ["ConnectorState", "FileState", "MemoryState", "StateData"]

#: What a state holds: JSON whose shape only the connector that wrote it knows.
StateData = dict[str, Any]


class ConnectorState(Protocol):
    """Small per-account key/value store for tokens that rotate (sessions, refresh tokens).

    Kept out of the database on purpose: the core stores no secrets.
    """

    def load(self) -> StateData:
        """Return what was saved last, or an empty dict."""
        ...

    def save(self, data: Mapping[str, object]) -> None:
        """Replace what is saved, atomically."""
        ...

    def update(self, change: Callable[[StateData], None]) -> StateData:
        """Load, ``change`` in place and save, with no other update in between; the result."""
        ...


#: One lock per state (file path or memory object): the publisher and the collector
#: threads of one connector may both write it.
_STATE_LOCKS: dict[object, threading.Lock] = {}
_STATE_LOCKS_GUARD = threading.Lock()


def _lock_for(key: object) -> threading.Lock:
    with _STATE_LOCKS_GUARD:
        return _STATE_LOCKS.setdefault(key, threading.Lock())


class _Updating:
    """``update`` for states that have ``load``, ``save`` and a lock key."""

    def _lock_key(self) -> object:
        return id(self)

    def load(self) -> StateData:
        raise NotImplementedError

    def save(self, data: Mapping[str, object]) -> None:
        raise NotImplementedError

    def update(self, change: Callable[[StateData], None]) -> StateData:
        with _lock_for(self._lock_key()):
            data = self.load()
            change(data)
            self.save(data)
            return data


class MemoryState(_Updating):
    """A :class:`ConnectorState` that lives as long as the process (tests, dry runs)."""

    def __init__(self, data: Mapping[str, object] | None = None) -> None:
        self._data: StateData = dict(data or {})

    def load(self) -> StateData:
        return dict(self._data)

    def save(self, data: Mapping[str, object]) -> None:
        self._data = dict(data)

    def __repr__(self) -> str:
        return f"MemoryState(keys={sorted(self._data)})"


class FileState(_Updating):
    """A :class:`ConnectorState` kept in one JSON file readable only by its owner."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _lock_key(self) -> object:
        return str(self.path.resolve())

    def load(self) -> StateData:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def save(self, data: Mapping[str, object]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(dict(data), handle)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def __repr__(self) -> str:
        return f"FileState({self.path.name!r})"
