"""What the long-form connectors (devto, ghost, wordpress) share: small rules about sites.

A site's address in settings, a title for a post that has none, a timestamp in the
answers, a file read for an upload, and the memory of what each key sent, so that
``find_recent`` in the same process knows the title it is looking for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from connectors.base import ConnectorSettings, RenderedPost
from connectors.http import HttpConnector

__all__ = ["Remembering", "first_line", "parse_timestamp", "read_upload", "site_address"]

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_W = TypeVar("_W")
_S = TypeVar("_S", bound=ConnectorSettings)


def site_address(value: str, example: str, *, path: bool = True) -> str:
    """A site's address from settings: ``https://`` (``http://`` only on this machine).

    Raises:
        ValueError: another scheme, no host, a query, fragment or user; a path when
            ``path`` is False. Credentials travel with every request to it.
    """
    parts = urlsplit(value.strip())
    local = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    if not (parts.scheme == "https" or local) or not parts.hostname:
        raise ValueError(f"must be an https:// URL such as {example}")
    if parts.query or parts.fragment or parts.username:
        raise ValueError("must be the site's address, without query or fragment")
    if not path and parts.path not in ("", "/"):
        raise ValueError("must be the site's address only, without a path")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/') if path else ''}"


def first_line(post: RenderedPost, shown: Callable[[str], str] = str) -> str:
    """The post's title, else the first line a reader sees of its text (``shown``)."""
    if post.title.strip():
        return post.title.strip()
    lines = (line.strip().lstrip("#").strip() for line in shown(post.text).splitlines())
    return next((line for line in lines if line), post.content_id or "Untitled")


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time from an answer (``Z`` or an offset; none means UTC), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_upload(connector: HttpConnector[Any], path: Path) -> bytes:
    """The bytes of a file to upload.

    Raises:
        Rejected: it cannot be read (gone since ``check``, no permission).
    """
    from connectors.base import Rejected

    try:
        return path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise connector.error(Rejected, f"{path.name}: cannot be read ({reason})") from None


class Remembering(HttpConnector[_S], Generic[_S, _W]):
    """A connector that remembers what each key sent in this process (``_sent``)."""

    #: What each key sent in this process, to know it again in ``find_recent``.
    _sent: dict[str, _W]

    def _open(self) -> None:
        super()._open()
        self._sent = {}
