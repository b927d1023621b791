"""Reading a project file (schedule, content, template, ``.env``) safely.

Every file a project consists of goes through :func:`read_text`, so that each
of them gets the same guarantees (docs/limits.md):

* only a regular file is read (after following symlinks): a FIFO, a device
  such as ``/dev/zero`` or a folder is refused before it is opened;
* at most :data:`MAX_FILE_BYTES` are read (:data:`MAX_SCHEDULE_BYTES` of a schedule,
  the one file that grows with the size of an agency), so a huge file costs no memory;
* the text must be UTF-8: the first byte that is not is named by line and column;
* a file that cannot be opened is a :class:`ConfigError`, never a traceback.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from crosspost.errors import ConfigError, Problem

__all__ = ["MAX_FILE_BYTES", "MAX_SCHEDULE_BYTES", "ensure_regular", "read_text"]

#: The largest project file read (1 MiB); larger ones are refused unread.
MAX_FILE_BYTES = 1024 * 1024
#: The largest schedule file read (16 MiB: about 150,000 entries written one a line).
#: What parsing it may cost is bounded by the values and lines a YAML file may have
#: (:mod:`crosspost.loading.yamlfile`), not by its bytes alone (docs/limits.md).
MAX_SCHEDULE_BYTES = 16 * 1024 * 1024

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_text(path: Path, shown: Path | str | None = None, limit: int = MAX_FILE_BYTES) -> str:
    """The text of ``path``, read as UTF-8 (a leading byte-order mark is dropped).

    Args:
        path: the file to read.
        shown: the name to put in error messages (default: ``path``).
        limit: the largest size accepted, in bytes.

    Raises:
        ConfigError: missing, unreadable, not a regular file, too large or not UTF-8.
    """
    name = shown if shown is not None else path
    data = _read_bytes(path, name, limit)
    if data.startswith(_UTF16_BOMS):
        raise ConfigError(
            [Problem.at(name, 1, 1, "the file is UTF-16; expected UTF-8 (save it as UTF-8)")]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([_decode_problem(data, exc.start, name)]) from None
    if "\x00" in text:
        line, column = _position(text, text.index("\x00"))
        raise ConfigError(
            [Problem.at(name, line, column, "a NUL character: this is not a text file")]
        )
    return text.removeprefix("\ufeff")


def ensure_regular(
    path: Path, shown: Path | str | None = None, limit: int = MAX_FILE_BYTES
) -> None:
    """Refuse ``path`` unless it is (or links to) a readable regular file of an accepted size.

    Raises:
        ConfigError: as :func:`read_text` would, without opening the file.
    """
    name = shown if shown is not None else path
    try:
        _check_kind(os.stat(path), name, limit)
    except OSError as exc:
        raise ConfigError([Problem.at(name, 1, 1, _os_reason(exc))]) from None


def _read_bytes(path: Path, name: Path | str, limit: int) -> bytes:
    try:
        _check_kind(os.stat(path), name, limit)
        # O_NONBLOCK: should the file turn into a FIFO after the check, opening it
        # must not wait for a writer; the fstat below then refuses it.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ConfigError([Problem.at(name, 1, 1, _os_reason(exc))]) from None
    with os.fdopen(descriptor, "rb") as handle:
        _check_kind(os.fstat(descriptor), name, limit)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ConfigError([_too_large(name, limit)])
    return data


def _check_kind(info: os.stat_result, name: Path | str, limit: int) -> None:
    for test, kind in _KINDS:
        if test(info.st_mode):
            raise ConfigError([Problem.at(name, 1, 1, f"is {kind}, not a regular file")])
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError([Problem.at(name, 1, 1, "is not a regular file")])
    if info.st_size > limit:
        raise ConfigError([_too_large(name, limit)])


def _too_large(name: Path | str, limit: int) -> Problem:
    what = "a schedule file" if limit == MAX_SCHEDULE_BYTES else "a project file"
    return Problem.at(
        name, 1, 1, f"the file is larger than {limit // 1024} KiB, the limit for {what}"
    )


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, PermissionError):
        return "cannot read: permission denied"
    return f"cannot read: {exc.strerror or exc}"


def _decode_problem(data: bytes, start: int, name: Path | str) -> Problem:
    before = data[:start].decode("utf-8", errors="replace")
    line, column = _position(before, len(before))
    return Problem.at(
        name,
        line,
        column,
        f"byte 0x{data[start]:02x} is not valid UTF-8; expected UTF-8 text (save it as UTF-8)",
    )


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character ``index`` of ``text``."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1
