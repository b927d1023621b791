"""Mastodon's streaming API as the inbox's wake-up call (``inbox_stream: true``).

``GET /api/v1/streaming/user/notification``
(https://docs.joinmastodon.org/methods/streaming/) is a stream of server-sent events:
the account's notifications as they happen. It is served by the host the instance
names in ``configuration.urls.streaming`` of ``GET /api/v2/instance`` (a ``wss://``
address, asked over ``https://``), else by the instance itself. The server writes a
comment line (``:)``) when the stream opens and ``:thump`` every 15 seconds; an event
is ``event: notification`` and ``data: <Notification>``, ended by a blank line.

A mention only wakes the inbox: the read that follows (``fetch_inbox`` from the stored
cursor) fetches it with anything else since the cursor, so an event missed while the
stream was down is read all the same.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing
from urllib.parse import urlsplit

import requests

from connectors.errors import Transient
from connectors.http import Kind
from connectors.mastodon.reading import MastodonReading
from connectors.mastodon.settings import LOOPBACK_HOSTS

__all__ = ["MastodonStreaming", "server_sent_events"]

STREAM_PATH = "/api/v1/streaming/user/notification"
#: The server's heartbeat comes every 15 s: a stream silent three times as long is gone.
READ_TIMEOUT = 45.0
#: The longest line of the stream kept while it arrives (a notification is a few KB).
MAX_LINE = 1024 * 1024
_CONNECT_TIMEOUT = 10.0
_SCHEMES = {"wss": "https", "ws": "http", "https": "https", "http": "http"}


def server_sent_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(event, data)`` of each event in the lines of a ``text/event-stream``.

    Comments (``:thump``) and fields other than ``event`` and ``data`` are skipped; an
    event's ``data`` lines are joined with newlines, as the format says
    (https://html.spec.whatwg.org/multipage/server-sent-events.html). Written here, not
    taken from an SSE client library, because the caller must see every line, the
    heartbeats included, to notice in time that it was asked to stop.
    """
    event, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", list[str]()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)


def _is_mention(data: str) -> bool:
    try:
        notification = json.loads(data)
    except ValueError:
        return False
    return isinstance(notification, dict) and notification.get("type") == "mention"


class MastodonStreaming(MastodonReading):
    """The streaming part of :class:`connectors.mastodon.MastodonConnector`."""

    def stream_inbox(self, stop: threading.Event) -> Iterator[None]:
        """Yield once connected, then at each mention the server streams.

        Raises:
            AuthError: the token was refused (it needs ``read:notifications``).
            RateLimited, Rejected, Transient: the stream could not be opened, or broke.
        """
        response = self.http.request(
            "GET",
            self._stream_url(),
            kind=Kind.READ,
            stream=True,
            timeout=(_CONNECT_TIMEOUT, READ_TIMEOUT),
            headers={"Accept": "text/event-stream"},
        )
        with closing(response):
            yield  # connected: what came while no one listened is read now
            for event, data in server_sent_events(self._lines(response, stop)):
                if event == "notification" and _is_mention(data):
                    yield

    def _lines(self, response: requests.Response, stop: threading.Event) -> Iterator[str]:
        """The stream's lines until ``stop`` is set or the server ends it.

        Read chunk by chunk as they arrive; a line longer than ``MAX_LINE`` bytes (a
        notification is a few kilobytes) breaks the stream instead of filling memory.
        """
        pending = b""
        try:
            for chunk in response.iter_content(chunk_size=None):
                if stop.is_set():
                    return
                *lines, pending = (pending + chunk).split(b"\n")
                if len(pending) > MAX_LINE:
                    raise self.error(Transient, "the notification stream sent an endless line")
                for line in lines:
                    yield line.removesuffix(b"\r").decode("utf-8", errors="replace")
        except requests.RequestException as exc:
            raise self.error(Transient, f"the notification stream broke: {exc}") from None

    def _stream_url(self) -> str:
        """The stream's address on the host the instance names for streaming, else its own."""
        response = self.http.request("GET", "/api/v2/instance", kind=Kind.READ)
        body = self.http.json(response, Kind.READ)
        configuration = body.get("configuration") if isinstance(body, dict) else None
        urls = configuration.get("urls") if isinstance(configuration, dict) else None
        named = urls.get("streaming") if isinstance(urls, dict) else None
        base = _http_origin(named) if isinstance(named, str) else None
        return f"{base or self.settings.instance}{STREAM_PATH}"


def _http_origin(address: str) -> str | None:
    """``wss://host`` as ``https://host`` (plain ``ws`` only on this machine); None if
    it is no such address."""
    parts = urlsplit(address.strip())
    scheme = _SCHEMES.get(parts.scheme)
    if scheme is None or not parts.hostname:
        return None
    if scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return None  # the token never goes out in the clear
    return f"{scheme}://{parts.netloc}"
