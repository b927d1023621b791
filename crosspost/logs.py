"""Logging on stderr: readable lines, or JSON lines for machines; secrets masked everywhere.

There is one masking, :class:`SecretFilter`: every value given to
:func:`mask_secrets` (the project's secrets, a connector's token), and the
secrets URLs carry in their own syntax (``user:password@``, ``?access_token=``),
become ``***``. It sits on our handler, and on the loggers of the HTTP stack that
write request URLs (:data:`URL_LOGGERS`), so that a token in a URL path (a
Telegram bot's ``/bot<token>/``) is masked for every handler, ours or not.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime

__all__ = [
    "URL_LOGGERS",
    "JsonFormatter",
    "SecretFilter",
    "TextFormatter",
    "configure",
    "in_colour",
    "iso_time",
    "mask_secrets",
    "masked",
    "printable",
]

#: Loggers that write request URLs: urllib3's request lines, retries and redirects.
URL_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "urllib3.poolmanager",
    "urllib3.connection",
    "urllib3.response",
)
#: Secrets a URL shows by its syntax: the password of ``scheme://user:password@host``,
#: and the value of query parameters that by name hold credentials.
_URL_SECRETS = re.compile(
    r"(?P<userinfo>://[^/\s:@]+:)[^/\s@]+(?=@)"
    r"|(?P<param>[?&](?:access_token|refresh_token|token|api_key|apikey|client_secret"
    r"|password|secret)=)[^&#\s'\"]+",
    re.IGNORECASE,
)

_secrets: set[str] = set()
#: ``_secrets``, longest first (a secret that contains another is masked whole);
#: replaced, never changed, so readers need no lock.
_ordered: tuple[str, ...] = ()
_handler: logging.Handler | None = None
_lock = threading.Lock()


def mask_secrets(values: Iterable[str]) -> None:
    """Mask these values in every log record from now on, whichever handler writes it."""
    global _ordered
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= 4)
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))
    _guard_url_loggers()


def _guard_url_loggers() -> None:
    # A logger's own filter runs before any handler sees the record (a handler's
    # filter only guards that handler), but only for records logged on that logger.
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretFilter) for f in logger.filters):
            logger.addFilter(SecretFilter())


def masked(text: str) -> str:
    """``text`` with every known secret, and every secret a URL shows, replaced by ``***``."""
    for secret in _ordered:
        text = text.replace(secret, "***")
    return _URL_SECRETS.sub(lambda m: f"{m.group('userinfo') or m.group('param')}***", text)


class SecretFilter(logging.Filter):
    """Replaces every secret in a record's message and arguments with ``***`` (:func:`masked`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = masked(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One line a record, ``2026-12-08T05:04:35+02:00 WARNING  message``: the local time
    with its offset, the level (in colour on a terminal), the message with the control
    characters a terminal would act on dropped (a platform's answer can carry them).

    Plain lines, not rich's columns: a service manager keeps each printed line as an
    entry, and rich wrapped a long message over several (a URL away from its message);
    it also cost 0.67 ms of CPU a line, these 0.03 ms.
    """

    def __init__(self, colour: bool = False) -> None:
        super().__init__("%(message)s")
        self._colour = colour

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        level = f"{record.levelname:<8}"
        if self._colour and record.levelno in _LEVEL_COLOURS:
            level = f"{_LEVEL_COLOURS[record.levelno]}{level}\x1b[0m"
        return f"{iso_time(moment)} {level} {printable(super().format(record))}"


#: ANSI colours of the levels on a terminal (INFO stays plain).
_LEVEL_COLOURS = {
    logging.DEBUG: "\x1b[2m",
    logging.WARNING: "\x1b[33m",
    logging.ERROR: "\x1b[31m",
    logging.CRITICAL: "\x1b[1;31m",
}
#: Control characters a terminal would act on (ESC starts a sequence that can rewrite the
#: screen); tab and newline (a traceback's) stay.
_CONTROL = dict.fromkeys([*range(0x09), *range(0x0B, 0x20), 0x7F])


def printable(text: str) -> str:
    """``text`` without the control characters a terminal would act on: log lines and the
    CLI's plain lines can carry text from the user's files or a platform's answer."""
    return text.translate(_CONTROL)


def in_colour(stream: object) -> bool:
    """Whether lines on ``stream`` may carry colours: a terminal, no ``NO_COLOR``, and a
    ``TERM`` other than ``dumb`` (log lines and the CLI's plain lines alike)."""
    isatty = getattr(stream, "isatty", None)
    plain = os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb"
    return not plain and callable(isatty) and bool(isatty())


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Set up the root logger once for the process."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:  # only ours: a host (or pytest) may have its own handlers
        root.removeHandler(_handler)
    handler = logging.StreamHandler()  # stderr: stdout is the command's output (--json)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter(colour=in_colour(handler.stream)))
    handler.addFilter(SecretFilter())
    _guard_url_loggers()
    root.addHandler(handler)
    _handler = handler
    root.setLevel(level.upper())
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # urllib3 logs every retry as a warning; the connector reports the outcome in one
    # line of its own, so the retries are only worth seeing when debugging.
    debugging = root.level <= logging.DEBUG
    logging.getLogger("urllib3").setLevel(logging.DEBUG if debugging else logging.CRITICAL)


def iso_time(moment: datetime) -> str:
    """A log line's time: ISO 8601, local, with its UTC offset (2026-12-06T14:00:00+02:00)."""
    return moment.astimezone().isoformat(timespec="seconds")
