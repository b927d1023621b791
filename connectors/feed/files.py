"""What the feed and folder connectors share: their base class, paths, a lock, atomic writes."""

# Annotations are not postponed (no ``from __future__ import annotations``): pydantic
# builds these models at import and would compile and evaluate each one from a string.
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

from pydantic import Field

from connectors.base import (
    STANDARD_CAPABILITIES,
    BaseConnector,
    Capability,
    ConnectorSettings,
    ConnectorState,
    Limits,
)
from connectors.errors import AuthError, ConnectorError, Transient
from connectors.feed.atom import Clock, utc_now

if TYPE_CHECKING:
    from connectors.results import Metrics

# --------------------------------------------------------------------------- files


def resolve_path(path: Path, base_dir: Path | None) -> Path:
    """``path`` made absolute: ``~`` expanded, relative to ``base_dir`` (else the cwd)."""
    path = path.expanduser()
    if not path.is_absolute():
        path = (base_dir.expanduser() if base_dir else Path.cwd()) / path
    return Path(os.path.abspath(path))


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def file_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created if needed), across processes."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _lock(fd)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".crosspost-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def os_error(exc: OSError, path: Path, *, platform: str, account: str) -> ConnectorError:
    """The connector error for a failed file operation (nothing was published).

    Permission problems need a person, so they pause the account like bad
    credentials; anything else (full disk, I/O error) may pass and is retried.
    """
    where = exc.filename or path
    if isinstance(exc, PermissionError | IsADirectoryError | NotADirectoryError):
        return AuthError(
            f"cannot write {where}: {exc.strerror}; fix the path or its permissions",
            platform=platform,
            account=account,
        )
    return Transient(f"cannot write {where}: {exc.strerror}", platform=platform, account=account)


# --------------------------------------------------------------------------- base class


class FileSettings(ConnectorSettings):
    """The ``accounts:`` entry of a connector that writes files.

    Attributes:
        path: where the files go; a relative path starts at the schedule's folder.
        base_dir: set by the core to the schedule's folder, not by users.
    """

    path: Path
    base_dir: Path | None = Field(default=None, repr=False)


FileSettingsT = TypeVar("FileSettingsT", bound=FileSettings)


class FileConnector(BaseConnector[FileSettingsT]):
    """A connector that writes files on this machine: no account, no network.

    A publication's key names what it wrote (an entry id, a file name) for as long
    as the output keeps it, so a second publish with the key finds the first.
    """

    idempotency_window: ClassVar[timedelta | None] = timedelta(days=365)
    limits: ClassVar[Limits] = Limits(max_length=100_000, unit="graphemes", max_media=10)
    capabilities: frozenset[Capability] = STANDARD_CAPABILITIES | {
        Capability.IDEMPOTENCY_KEY,
        Capability.LONG_FORM,
    }
    #: The lock file, beside or inside ``path``.
    lock_name: ClassVar[str] = ".crosspost.lock"

    def __init__(
        self,
        account: str,
        settings: ConnectorSettings,
        state: ConnectorState | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(account, settings, state)
        self.clock = clock
        #: The file or folder written, made absolute.
        self.path = resolve_path(self.settings.path, self.settings.base_dir)

    def _lock_path(self) -> Path:
        return self.path / self.lock_name

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the lock; a failing file operation inside becomes a connector error."""
        try:
            with file_lock(self._lock_path()):
                yield
        except OSError as exc:
            raise os_error(exc, self.path, platform=self.name, account=self.account) from exc

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, "Metrics"]:
        """Always empty: files have no likes, reposts or views."""
        return {}
