"""Logging: readable lines on a terminal, JSON lines for machines, secrets masked everywhere."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from datetime import UTC, datetime

from rich.logging import RichHandler
from rich.text import Text

__all__ = ["JsonFormatter", "SecretFilter", "configure", "iso_time", "mask_secrets"]

_secrets: set[str] = set()
_handler: logging.Handler | None = None
_lock = threading.Lock()


def mask_secrets(values: Iterable[str]) -> None:
    """Mask these values in every log record from now on."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= 4)


class SecretFilter(logging.Filter):
    """Replaces every known secret in a record's message and arguments with ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        masked = message
        for secret in _secrets:
            masked = masked.replace(secret, "***")
        if masked != message:
            record.msg, record.args = masked, None
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
        handler = RichHandler(
            show_path=False, rich_tracebacks=False, markup=False, log_time_format=iso_time
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(SecretFilter())
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
    return Text(moment.astimezone().isoformat(timespec="seconds"))
