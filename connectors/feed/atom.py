"""Atom entries: ids, titles, times and enclosures, shared with the folder connector."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from connectors.base import RenderedPost
from crosspost.rendering.text import grapheme_length, iter_graphemes

if TYPE_CHECKING:  # what a post attaches: made here only to write an article's cover
    from connectors.attachments import Cover, MediaItem

ATOM_NS = "http://www.w3.org/2005/Atom"
_A = f"{{{ATOM_NS}}}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: Characters XML 1.0 forbids in documents; ElementTree would write them as is. Written
#: as the forbidden ranges: the negation of the allowed ones (up to U+10FFFF) took ``re``
#: 57 M instructions to compile at every start, 3% of a ``check``; this takes 4 M.
_NOT_XML = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]")
TITLE_GRAPHEMES = 80

ET.register_namespace("", ATOM_NS)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC, to the second (what the files record)."""
    return datetime.now(UTC).replace(microsecond=0)


# --------------------------------------------------------------------------- entries


def entry_id(idempotency_key: str) -> str:
    """The permanent IRI of the entry a publication key produces."""
    return f"urn:crosspost:{hashlib.sha256(idempotency_key.encode('utf-8')).hexdigest()}"


def entry_title(post: RenderedPost) -> str:
    """``post.title``, else the first line of the text, cut to 80 graphemes."""
    title = post.title.strip() or next(
        (line.strip() for line in "\n".join(post.parts).splitlines() if line.strip()), ""
    )
    title = title or post.content_id or "(untitled)"
    if grapheme_length(title) <= TITLE_GRAPHEMES:
        return title
    kept = list(iter_graphemes(title))[: TITLE_GRAPHEMES - 1]
    return "".join(kept).rstrip() + "…"


def rfc3339(moment: datetime) -> str:
    """``2026-11-26T10:00:00Z``: RFC 3339 in UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, f"{_A}{tag}")
    element.text = _NOT_XML.sub("", value)
    return element


def _enclosure(item: MediaItem) -> dict[str, str]:
    path = item.path.resolve()
    attributes = {"rel": "enclosure", "href": path.as_uri(), "type": item.mime_type}
    attributes["length"] = str(path.stat().st_size) if path.exists() else "0"
    if item.alt:
        attributes["title"] = _NOT_XML.sub("", item.alt)
    return attributes


def _cover(cover: Cover) -> dict[str, str]:
    """An article's cover as an enclosure: its file when it has one, else its URL."""
    if cover.path is not None:
        from connectors.attachments import MediaItem

        return _enclosure(MediaItem(cover.path, cover.alt, cover.mime_type))
    attributes = {"rel": "enclosure", "href": cover.url or "", "type": cover.mime_type}
    if cover.alt:
        attributes["title"] = _NOT_XML.sub("", cover.alt)
    return attributes


def _find_entry(root: ET.Element, wanted: str) -> ET.Element | None:
    for entry in root.iterfind(f"{_A}entry"):
        if (entry.findtext(f"{_A}id") or "").strip() == wanted:
            return entry
    return None


def _first_entry_index(root: ET.Element) -> int:
    for index, child in enumerate(root):
        if child.tag == f"{_A}entry":
            return index
    return len(root)
