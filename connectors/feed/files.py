"""Files the feed and folder connectors write: paths, a lock, atomic writes, errors."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connectors.base import (
    AuthError,
    ConnectorError,
    Transient,
)

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
