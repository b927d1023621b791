"""JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/), which feedparser 6 does not read.

Only what a post needs is read: ``id``, ``url`` (else ``external_url``),
``title``, ``summary`` (else ``content_text``, else ``content_html`` as text),
``image`` (else ``banner_image``), ``date_published`` (else ``date_modified``),
``authors`` (1.1) or ``author`` (1.0), and ``tags``. A field of the wrong type is
left out; a document that is not a JSON Feed at all is a :class:`FeedError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from crosspost.errors import FeedError
from crosspost.publishing.feeds_parse import (
    ParsedEntry,
    ParsedFeed,
    clip,
    html_text,
    paragraphs,
    stable_id,
    web_address,
)

__all__ = ["VERSION_PREFIX", "parse_json_feed"]

VERSION_PREFIX = "https://jsonfeed.org/version/"


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    """The JSON Feed in ``body``.

    Raises:
        FeedError: not JSON, or JSON that is not a JSON Feed.
    """
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FeedError(f"{url}: not a well-formed JSON Feed (not UTF-8: {exc.reason})") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise FeedError(f"{url}: not a well-formed JSON Feed ({where}: {exc.msg})") from None
    except RecursionError:
        raise FeedError(f"{url}: not a well-formed JSON Feed (nested too deeply)") from None
    if not isinstance(document, dict):
        raise FeedError(f"{url}: not a JSON Feed (expected an object at the top)")
    version = document.get("version")
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIX):
        raise FeedError(f"{url}: not a JSON Feed (no version {VERSION_PREFIX}1.1)")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError(f"{url}: not a well-formed JSON Feed (items is not a list)")
    return ParsedFeed(
        kind="json" + version.removeprefix(VERSION_PREFIX),
        title=_text(document.get("title")),
        link=_string(document.get("home_page_url")),
        entries=[_entry(item, url) for item in items if isinstance(item, dict)],
    )


def _entry(item: Mapping[str, Any], base: str) -> ParsedEntry:
    title = _text(item.get("title"))
    link = _address(item.get("url"), base) or _address(item.get("external_url"), base)
    plain = _string(item.get("summary")) or _string(item.get("content_text"))
    summary = paragraphs(plain) if plain else html_text(_string(item.get("content_html")) or "")
    guid = item.get("id")
    return ParsedEntry(
        guid=stable_id(guid if isinstance(guid, str | int) else None, link, title),
        title=title,
        summary=clip(summary),
        link=link,
        image=_address(item.get("image"), base) or _address(item.get("banner_image"), base),
        author=_author(item),
        tags=_tags(item.get("tags")),
        published=_moment(item.get("date_published")) or _moment(item.get("date_modified")),
    )


def _address(value: Any, base: str) -> str | None:
    """An http(s) address; a relative one is read against the feed's own address."""
    return web_address(urljoin(base, value.strip())) if isinstance(value, str) else None


def _string(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _author(item: Mapping[str, Any]) -> str:
    authors = item.get("authors")
    first = authors[0] if isinstance(authors, list) and authors else item.get("author")
    return _text(first.get("name")) if isinstance(first, dict) else ""


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    found: list[str] = []
    for tag in value:
        text = _text(tag)[:100]
        if text and text not in found:
            found.append(text)
    return tuple(found[:20])


def _moment(value: Any) -> datetime | None:
    """An RFC 3339 date; one without a zone is read as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
