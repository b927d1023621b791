"""A feed server on 127.0.0.1 for the feed tests: documents by path, with caching validators.

Each path serves a :class:`Doc`: a body and content type, an ``ETag`` and a
``Last-Modified`` it answers ``304`` to when the request carries them, or a
status / redirect. Every request is recorded (path and headers), so tests can
check what was asked. Builders for RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents
are below.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

__all__ = ["Doc", "FeedServer", "Item", "atom", "json_feed", "rss", "serving"]


@dataclass
class Doc:
    """What one path answers."""

    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    location: str | None = None
    #: Seconds to wait before answering (a slow feed).
    delay: float = 0.0
    #: Send Content-Length (else the body ends when the connection closes).
    declare_length: bool = True
    #: When given, the answer waits until it is set (a feed that hangs); ``waiting`` is
    #: set while a request waits.
    hold: threading.Event | None = None
    waiting: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Item:
    """One entry, for the builders."""

    guid: str | None
    title: str
    link: str | None = None
    summary: str = ""
    published: datetime | None = None
    tags: tuple[str, ...] = ()
    image: str | None = None


@dataclass
class FeedServer:
    """The server's documents and the requests it answered."""

    port: int = 0
    docs: dict[str, Doc] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def asked(self, path: str) -> list[dict[str, str]]:
        """The headers of every request for ``path``."""
        return [headers for asked, headers in self.requests if asked == path]


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            doc = server.docs.get(self.path)
            if doc is None:
                self.send_error(404, "Not Found")
                return
            if doc.delay:
                threading.Event().wait(doc.delay)
            if doc.hold is not None:
                doc.waiting.set()
                doc.hold.wait(60)  # bounded, whatever the test does
                doc.waiting.clear()
            if doc.location is not None:
                self.send_response(doc.status if doc.status != 200 else 302)
                self.send_header("Location", doc.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self._not_modified(doc):
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(doc.status)
            self.send_header("Content-Type", doc.content_type)
            if doc.declare_length:
                self.send_header("Content-Length", str(len(doc.body)))
            if doc.etag:
                self.send_header("ETag", doc.etag)
            if doc.last_modified:
                self.send_header("Last-Modified", doc.last_modified)
            self.end_headers()
            self.wfile.write(doc.body)

        def _not_modified(self, doc: Doc) -> bool:
            if doc.etag and self.headers.get("If-None-Match") == doc.etag:
                return True
            since = self.headers.get("If-Modified-Since")
            return bool(doc.last_modified and since == doc.last_modified and not doc.etag)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet

    return Handler


def serving() -> Iterator[FeedServer]:
    """A running server (use as a pytest fixture body); stopped at the end."""
    state = FeedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.05,), name="feed-server", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- documents


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def rss(items: Sequence[Item], title: str = "A blog") -> bytes:
    """An RSS 2.0 document."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>',
        f"<title>{escape(title)}</title><link>https://blog.example/</link>",
        "<description>posts</description>",
    ]
    for item in items:
        parts.append("<item>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.summary:
            parts.append(f"<description>{escape(item.summary)}</description>")
        if item.published:
            parts.append(f"<pubDate>{_rfc822(item.published)}</pubDate>")
        parts += [f"<category>{escape(tag)}</category>" for tag in item.tags]
        if item.image:
            parts.append(f'<media:thumbnail url="{escape(item.image)}"/>')
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def atom(items: Sequence[Item], title: str = "An Atom feed") -> bytes:
    """An Atom 1.0 document."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title><id>urn:example:feed</id>",
        "<updated>2026-12-01T10:00:00Z</updated>",
    ]
    for item in items:
        parts.append("<entry>")
        if item.guid is not None:
            parts.append(f"<id>{escape(item.guid)}</id>")
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.link:
            parts.append(f'<link rel="alternate" href="{escape(item.link)}"/>')
        if item.image:
            parts.append(f'<link rel="enclosure" type="image/png" href="{escape(item.image)}"/>')
        if item.summary:
            parts.append(f'<summary type="html">{escape(item.summary)}</summary>')
        if item.published:
            stamp = item.published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            parts.append(f"<published>{stamp}</published><updated>{stamp}</updated>")
        parts += [f'<category term="{escape(tag)}"/>' for tag in item.tags]
        parts.append("</entry>")
    parts.append("</feed>")
    return "\n".join(parts).encode("utf-8")


def json_feed(items: Sequence[Item], title: str = "A JSON feed") -> bytes:
    """A JSON Feed 1.1 document."""
    entries = []
    for item in items:
        entry: dict[str, object] = {"title": item.title}
        if item.guid is not None:
            entry["id"] = item.guid
        if item.link:
            entry["url"] = item.link
        if item.summary:
            entry["content_html"] = item.summary
        if item.published:
            entry["date_published"] = item.published.isoformat()
        if item.tags:
            entry["tags"] = list(item.tags)
        if item.image:
            entry["image"] = item.image
        entries.append(entry)
    document = {"version": "https://jsonfeed.org/version/1.1", "title": title, "items": entries}
    return json.dumps(document).encode("utf-8")
