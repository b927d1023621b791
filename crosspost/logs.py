"""Logging: readable lines on a terminal, JSON lines for machines, secrets masked everywhere.

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
import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

__all__ = [
    "URL_LOGGERS",
    "JsonFormatter",
    "SecretFilter",
    "TerminalHandler",
    "configure",
    "iso_time",
    "mask_secrets",
    "masked",
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


class TerminalHandler(logging.Handler):
    """Readable lines on the terminal (rich's handler), made at the first record.

    Most commands log nothing, and importing rich costs more than the rest of
    ``crosspost --help``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._rich: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._rich is None:  # under the handler's lock: made once
            from rich.logging import RichHandler

            self._rich = RichHandler(
                show_path=False, rich_tracebacks=False, markup=False, log_time_format=iso_time
            )
            self._rich.setFormatter(logging.Formatter("%(message)s"))
        self._rich.emit(record)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Set up the root logger once for the process."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:  # only ours: a host (or pytest) may have its own handlers
        root.removeHandler(_handler)
    handler: logging.Handler
    if fmt == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
    else:
        handler = TerminalHandler()
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


def iso_time(moment: datetime) -> Text:
    """A log line's time: ISO 8601, local, with its UTC offset (2026-12-06T14:00:00+02:00)."""
    from rich.text import Text

    return Text(moment.astimezone().isoformat(timespec="seconds"))
