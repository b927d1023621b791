"""Reading a fetched feed: RSS and Atom with ``feedparser``, JSON Feed 1.0/1.1 by hand.

feedparser 6 reads RSS 0.9x/1.0/2.0 and Atom but not JSON Feed, so
:mod:`crosspost.publishing.feeds_json` reads that (a dozen fields). Both give the same
:class:`ParsedEntry`: a stable id (the entry's guid/id, else its link, else a
hash of title and link), title, a plain-text summary, link, image, author, tags
and the time it was published (or last updated).

A document that is not a well-formed feed is a :class:`FeedError` with the
parser's reason, and nothing of it is used: entries read from a broken document
by a forgiving parser could be half an entry, or an error page's links.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import xml.sax
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from crosspost.errors import FeedError

__all__ = [
    "SUMMARY_LENGTH",
    "ParsedEntry",
    "ParsedFeed",
    "entry_key",
    "html_text",
    "paragraphs",
    "parse_feed",
    "stable_id",
    "web_address",
]

#: Summaries are cut (at a word) to this many characters: a post, not the article.
SUMMARY_LENGTH = 500
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)
_ALTERNATE = re.compile(
    r"<link\b[^>]*\btype=[\"']application/(?:rss|atom|feed)\+(?:xml|json)[\"'][^>]*>", re.I
)
_HREF = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.I)


@dataclass(frozen=True)
class ParsedEntry:
    """One entry of a feed, as posted."""

    guid: str
    title: str = ""
    summary: str = ""
    link: str | None = None
    image: str | None = None
    author: str = ""
    tags: tuple[str, ...] = ()
    published: datetime | None = None

    @property
    def key(self) -> str:
        """:func:`entry_key` of the stable id."""
        return entry_key(self.guid)


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's title and entries, in the feed's order."""

    kind: str  # rss20, atom10, json1.1, …
    title: str = ""
    link: str | None = None
    entries: list[ParsedEntry] = field(default_factory=list)


def web_address(value: Any) -> str | None:
    """``value`` if it is an http(s) address (a feed's ``javascript:`` link is dropped)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text if text.lower().startswith(("https://", "http://")) else None


def stable_id(guid: Any, link: str | None, title: str) -> str:
    """The entry's id: its own (guid, id), else its link, else a hash of title and link."""
    own = str(guid).strip() if guid is not None and not isinstance(guid, dict | list) else ""
    if own:
        return own
    if link:
        return link
    return "sha256:" + hashlib.sha256(f"{title}\x1f{link or ''}".encode()).hexdigest()


def entry_key(guid: str) -> str:
    """The key an entry is remembered by (and its publications' occurrence)."""
    return hashlib.sha256(guid.encode("utf-8")).hexdigest()[:32]


def parse_feed(body: bytes, content_type: str, url: str) -> ParsedFeed:
    """The feed in ``body`` (fetched from ``url``).

    Raises:
        FeedError: an HTML page, malformed XML or JSON, or not a feed at all.
    """
    kind = content_type.split(";")[0].strip().lower()
    if not body.strip():
        raise FeedError(f"{url}: the answer is empty, not a feed")
    if kind == "text/html" or _HTML_START.match(body[:4096]):
        raise FeedError(f"{url}: an HTML page, not a feed{_discovered(body, url)}")
    if "json" in kind or body.lstrip()[:1] in (b"{", b"["):
        from crosspost.publishing.feeds_json import parse_json_feed

        return parse_json_feed(body, url)
    return _parse_xml(body, content_type, url)


def _discovered(body: bytes, url: str) -> str:
    """A hint naming the feed an HTML page links to, when it links to one."""
    text = body[:65536].decode("utf-8", "replace")
    for tag in _ALTERNATE.findall(text):
        href = _HREF.search(tag)
        if href:
            return f" (the page names a feed: {urljoin(url, unescape(href.group(1)))})"
    return ""


def _parse_xml(body: bytes, content_type: str, url: str) -> ParsedFeed:
    import feedparser  # here: ``check`` builds entries for templates without parsing any

    headers = {"content-type": content_type or "application/xml", "content-location": url}
    # its HTML sanitizer is not needed (summaries become plain text here) and costs half
    # of the parse; relative addresses inside summaries are not used either
    result = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    problem = result.get("bozo_exception")
    if result.get("bozo") and isinstance(problem, xml.sax.SAXException | UnicodeError):
        # feedparser puts an XML declaration of its own before a document without one
        shift = 0 if body.removeprefix(b"\xef\xbb\xbf").startswith(b"<?xml") else 1
        raise FeedError(f"{url}: not a well-formed feed ({_reason(problem, shift)})")
    if not result.get("version"):
        raise FeedError(f"{url}: not an RSS or Atom feed (no <rss>, <feed> or <rdf:RDF> root)")
    feed = result.get("feed", {})
    return ParsedFeed(
        kind=str(result["version"]),
        title=_clean(feed.get("title", "")),
        link=feed.get("link"),
        entries=[_xml_entry(e) for e in result.get("entries", [])],
    )


def _reason(problem: BaseException, shift: int) -> str:
    if isinstance(problem, xml.sax.SAXParseException):
        line, column = problem.getLineNumber() or 1, problem.getColumnNumber() or 0
        return f"line {max(line - shift, 1)}, column {column + 1}: {problem.getMessage()}"
    return str(problem).splitlines()[0] if str(problem) else type(problem).__name__


def _xml_entry(entry: Mapping[str, Any]) -> ParsedEntry:
    title = _clean(html_text(entry.get("title", "")))
    link = web_address(entry.get("link"))
    summary = entry.get("summary") or _first_content(entry.get("content"))
    return ParsedEntry(
        guid=stable_id(entry.get("id"), link, title),
        title=title,
        summary=clip(html_text(summary)),
        link=link,
        image=web_address(_xml_image(entry)),
        author=_clean(entry.get("author", "")),
        tags=_tags(t.get("term") or t.get("label") for t in entry.get("tags", [])),
        published=_moment(entry.get("published_parsed") or entry.get("updated_parsed")),
    )


def _first_content(content: Any) -> str:
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        return str(content[0].get("value", ""))
    return ""


def _xml_image(entry: Mapping[str, Any]) -> str | None:
    for thumbnail in entry.get("media_thumbnail", []):
        if thumbnail.get("url"):
            return str(thumbnail["url"])
    for media in entry.get("media_content", []):
        if media.get("url") and (
            media.get("medium") == "image" or str(media.get("type", "")).startswith("image/")
        ):
            return str(media["url"])
    for link in entry.get("links", []):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return str(link.get("href")) if link.get("href") else None
    return None


def _moment(parsed: Any) -> datetime | None:
    """feedparser's UTC ``struct_time`` as an aware datetime."""
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _tags(values: Iterable[Any]) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        tag = _clean(str(value)) if value is not None else ""
        if tag and tag not in found:
            found.append(tag[:100])
    return tuple(found[:20])


def _clean(text: Any) -> str:
    return " ".join(str(text).split())


def clip(text: str, limit: int = SUMMARY_LENGTH) -> str:
    """``text`` cut at a word before ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


# --------------------------------------------------------------------------- HTML to text

_BLOCKS = frozenset(
    "address article aside blockquote dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section table tr ul".split()
)
_SKIPPED = frozenset({"script", "style", "template", "noscript"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    """What a reader sees of ``html``: paragraphs kept, other whitespace collapsed."""
    if "<" not in html and "&" not in html:
        return paragraphs(html)
    reader = _Text()
    reader.feed(html)
    reader.close()
    return paragraphs("".join(reader.parts))


def paragraphs(text: str) -> str:
    """Plain ``text`` with its paragraphs kept and the whitespace within them collapsed."""
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)
