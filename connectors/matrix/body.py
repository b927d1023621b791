"""What goes into a Matrix message: the HTML and its plain ``body``, sizes, txn ids.

- HTML tags: https://spec.matrix.org/v1.16/client-server-api/#mroommessage-msgtypes
  ("m.room.message msgtypes", the list of tags clients should allow).
- Size: https://spec.matrix.org/v1.16/client-server-api/#size-limits (65,536 bytes
  for the whole event as JSON).
"""

from __future__ import annotations

import hashlib
import html
import json
from html.parser import HTMLParser
from typing import Any, TypedDict

__all__ = [
    "EVENT_BYTES",
    "JsonObject",
    "MATRIX_HTML_TAGS",
    "TEXT_BYTES",
    "Event",
    "message_content",
    "plain_body",
    "text_bytes",
    "txn_id",
]

#: The tags the spec lists for ``org.matrix.custom.html``. ``img`` is left out: a
#: Markdown image points at a web URL, and Matrix clients only show ``mxc://`` images.
MATRIX_HTML_TAGS = frozenset(
    {"del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup"}
    | {"sub", "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div", "table"}
    | {"thead", "tbody", "tr", "th", "td", "caption", "pre", "span", "details", "summary"}
)
#: The whole event, as the server stores it, may be 65,536 bytes of JSON.
EVENT_BYTES = 65_536
#: What the text may take of it: the rest holds the event's envelope (ids, hashes,
#: signatures, relations), about a kilobyte on Synapse.
TEXT_BYTES = EVENT_BYTES - 4_096

_BLOCKS = frozenset(
    {"p", "div", "blockquote", "pre", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4"}
    | {"h5", "h6", "details", "summary", "caption"}
)


#: A JSON object as the homeserver sends and takes it (event contents nest freely).
JsonObject = dict[str, Any]


class Event(TypedDict, total=False):
    """A room event as ``/messages``, ``/event`` and ``/relations`` return it."""

    event_id: str
    type: str
    sender: str
    state_key: str
    origin_server_ts: int
    content: JsonObject
    unsigned: JsonObject


class _PlainText(HTMLParser):
    """The text a client without HTML shows: blocks on lines of their own, links spelt out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[tuple[str, int]] = []
        self.lists: list[int | None] = []

    def _newline(self) -> None:
        if self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS or tag in ("br", "hr", "li"):
            self._newline()
        if tag in ("ul", "ol"):
            self.lists.append(None if tag == "ul" else int(dict(attrs).get("start") or 1))
        elif tag == "li" and self.lists:
            number = self.lists[-1]
            self.out.append("• " if number is None else f"{number}. ")
            if number is not None:
                self.lists[-1] = number + 1
        elif tag == "hr":
            self.out.append("———\n")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag == "a" and self.links:
            href, start = self.links.pop()
            shown = "".join(self.out[start:]).strip()
            if href and shown != href and href.removeprefix("mailto:") != shown:
                self.out.append(f" ({href})")
        if tag in _BLOCKS or tag == "li":
            self._newline()

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def plain_body(formatted: str) -> str:
    """The plain ``body`` of an HTML message (what notifications and old clients show)."""
    reader = _PlainText()
    reader.feed(formatted)
    reader.close()
    lines = "".join(reader.out).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def text_bytes(formatted: str) -> int:
    """UTF-8 bytes the text takes in the event: the HTML and its plain body, as JSON strings."""
    body = plain_body(formatted)
    return sum(len(json.dumps(value, ensure_ascii=False).encode()) for value in (formatted, body))


def message_content(formatted: str, msgtype: str) -> JsonObject:
    """An ``m.text``/``m.notice`` content; the HTML only when it says more than the body."""
    body = plain_body(formatted)
    content: JsonObject = {"msgtype": msgtype, "body": body}
    if formatted.strip() and formatted != html.escape(body, quote=False):
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = formatted
    return content


def txn_id(idempotency_key: str) -> str:
    """The transaction id of a publication's key: the same key, the same txn id, for good.

    Hashed so that any key fits a URL path segment and says nothing about the schedule.
    """
    return "xp-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
