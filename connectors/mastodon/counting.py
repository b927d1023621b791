"""How Mastodon counts a status: ``StatusLengthValidator`` and ``Account::MENTION_RE``."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from crosspost.text import find_urls, grapheme_length

#: Every URL counts this many characters unless the instance says otherwise.
DEFAULT_URL_WIDTH = 23
#: ``Account::MENTION_RE``: ``@user`` optionally followed by ``@domain``.
MENTION_RE = re.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s+")


def countable_text(text: str, url_width: int = DEFAULT_URL_WIDTH) -> str:
    """``text`` as Mastodon counts it: URLs as ``url_width`` x's, ``@u@host`` as ``@u``.

    Mirrors ``StatusLengthValidator#countable_text``: a blank text counts nothing,
    and a mention inside a URL is part of the URL.
    """
    if not text.strip():
        return ""
    urls = [(span.start, span.end, "x" * url_width) for span in find_urls(text)]
    mentions = [
        (m.start(), m.end(), "@" + m.group("user"))
        for m in MENTION_RE.finditer(text)
        if not any(start <= m.start() < end for start, end, _ in urls)
    ]
    pieces: list[str] = []
    position = 0
    for start, end, substitute in sorted(urls + mentions):
        pieces.append(text[position:start])
        pieces.append(substitute)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def status_length(text: str, spoiler_text: str = "", url_width: int = DEFAULT_URL_WIDTH) -> int:
    """Length of a status with its content warning, as Mastodon validates it."""
    return grapheme_length(spoiler_text + countable_text(text, url_width))


class _TextOnly(HTMLParser):
    """Collects the visible text of a status's HTML ``content``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br"):
            self.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        self.pieces.append(data)


def normalised_text(text: str) -> str:
    """Whitespace collapsed and ``@user@domain`` shortened, as Mastodon's HTML shows it."""
    text = MENTION_RE.sub(lambda m: "@" + m.group("user"), text)
    return _WHITESPACE.sub(" ", text).strip()


def html_to_text(html: str) -> str:
    """The text a reader sees in a status's HTML ``content`` (tags dropped)."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return "".join(parser.pieces)
