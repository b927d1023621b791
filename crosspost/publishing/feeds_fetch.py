"""Fetching a feed over HTTP: bounded in time and size, polite with caching validators.

One GET per fetch, with ``If-None-Match`` / ``If-Modified-Since`` from the last
good fetch (a ``304 Not Modified`` means nothing new). The body is read streamed
and refused past :data:`MAX_FEED_BYTES`; connecting, each read and the whole
download have time limits. Every failure is a :class:`FeedError` whose message
names the address and the reason, for the log, ``crosspost feeds`` and ``status``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from connectors.http import user_agent
from crosspost.errors import FeedError

__all__ = [
    "ACCEPT",
    "FETCH_DEADLINE",
    "FETCH_TIMEOUT",
    "MAX_FEED_BYTES",
    "MAX_REDIRECTS",
    "Fetched",
    "fetch_feed",
]

#: A feed larger than this is an error (a real feed is a few hundred KiB at most).
MAX_FEED_BYTES = 5 * 1024 * 1024
#: Seconds to connect, and to wait for each piece of the answer.
FETCH_TIMEOUT = (5.0, 20.0)
#: Seconds the whole download may take (a server dripping bytes stays bounded too).
FETCH_DEADLINE = 60.0
MAX_REDIRECTS = 5
ACCEPT = (
    "application/feed+json, application/atom+xml, application/rss+xml, "
    "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Fetched:
    """What one fetch brought: a body, or ``not_modified`` (HTTP 304)."""

    url: str
    not_modified: bool = False
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None


def _session() -> requests.Session:
    session = requests.Session()
    session.max_redirects = MAX_REDIRECTS
    session.headers["User-Agent"] = user_agent()
    session.headers["Accept"] = ACCEPT
    return session


def fetch_feed(
    url: str,
    etag: str | None = None,
    last_modified: str | None = None,
    *,
    max_bytes: int = MAX_FEED_BYTES,
    deadline: float = FETCH_DEADLINE,
) -> Fetched:
    """GET ``url`` once, conditionally when validators are given.

    Raises:
        FeedError: unreachable, timed out, a redirect loop, an HTTP error, or too large.
    """
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    with _session() as session:
        try:
            response = session.get(url, headers=headers, timeout=FETCH_TIMEOUT, stream=True)
        except requests.TooManyRedirects:
            raise FeedError(f"{url}: more than {MAX_REDIRECTS} redirects (a loop?)") from None
        except requests.Timeout:
            raise FeedError(f"{url}: no answer within {FETCH_TIMEOUT[1]:g}s") from None
        except requests.RequestException as exc:
            raise FeedError(f"{url}: cannot be reached ({_first_line(exc)})") from None
        with response:
            return _read(url, response, max_bytes, deadline)


def _read(url: str, response: requests.Response, max_bytes: int, deadline: float) -> Fetched:
    final = response.url or url
    if response.status_code == 304:
        return Fetched(final, not_modified=True)
    if response.status_code >= 400 or response.status_code < 200:
        reason = f"HTTP {response.status_code} {response.reason or ''}".strip()
        raise FeedError(f"{url}: {reason}")
    if response.status_code >= 300:  # a redirect without a Location
        raise FeedError(f"{url}: HTTP {response.status_code} without somewhere to go")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FeedError(f"{url}: {_size(int(declared))}, more than the {_size(max_bytes)} allowed")
    body = _body(url, response, max_bytes, deadline)
    return Fetched(
        final,
        body=body,
        content_type=response.headers.get("Content-Type", ""),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )


def _body(url: str, response: requests.Response, max_bytes: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    ends_at = time.monotonic() + deadline
    try:
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise FeedError(f"{url}: larger than the {_size(max_bytes)} allowed")
            if time.monotonic() > ends_at:
                raise FeedError(f"{url}: still downloading after {deadline:g}s")
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise FeedError(f"{url}: the download broke off ({_first_line(exc)})") from None
    return b"".join(chunks)


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MiB" if count >= 1024 * 1024 else f"{count} bytes"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
