"""How Mastodon counts a status: ``StatusLengthValidator`` and ``Account::MENTION_RE``."""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

from crosspost.rendering.text import grapheme_length
from crosspost.rendering.urls import LENIENT_PATHS, UrlRules, find_url_matches

#: Every URL counts this many characters unless the instance says otherwise.
DEFAULT_URL_WIDTH = 23
#: ``Account::MENTION_RE``: ``@user`` optionally followed by ``@domain``.
MENTION_RE = re.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s+")
#: What ``Extractor.extract_urls_with_indices(str, extract_url_without_protocol:
#: false)`` finds with Mastodon's overrides (``config/initializers/twitter_regex.rb``):
#: these schemes, paths in any script; no bare domains, no ``localhost``, no
#: ``user:pass@`` (a URL needs a known TLD and no user info).
MASTODON_URLS = UrlRules(
    schemes=("https", "http", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "gemini"),
    paths=LENIENT_PATHS,
)
#: ``end_mention_match``: a mention followed by these is no mention.
_MENTION_END = re.compile(
    r"[@＠\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0300-\u036f\u1e00-\u1eff]|://"
)
#: What Ruby's ``String#strip`` removes; ``Status#prepare_contents`` strips before counting.
_RUBY_SPACE = " \t\n\v\f\r\x00"


#: Texts whose countable form is kept: a schedule posts the same pieces to many accounts
#: and entries, and cutting a thread measures the same pieces again.
_KEPT_TEXTS = 16_384


@functools.lru_cache(maxsize=_KEPT_TEXTS)
def countable_text(text: str, url_width: int = DEFAULT_URL_WIDTH) -> str:
    """``text`` as Mastodon counts it: URLs as ``url_width`` x's, ``@u@host`` as ``@u``.

    Mirrors ``StatusLengthValidator#countable_text`` on the text ``Status#prepare_contents``
    stripped: a blank text counts nothing, a mention inside a URL is part of the URL,
    and only what twitter-text's URL rules accept counts as a URL.
    """
    if not text.strip():
        return ""
    text = text.strip(_RUBY_SPACE)
    urls = [(url.start, url.end, "x" * url_width) for url in find_url_matches(text, MASTODON_URLS)]
    mentions = [
        (m.start(), m.end(), "@" + m.group("user"))
        for m in MENTION_RE.finditer(text)
        if not any(start <= m.start() < end for start, end, _ in urls)
        and not _MENTION_END.match(text, m.end())
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
    return grapheme_length(spoiler_text.strip(_RUBY_SPACE) + countable_text(text, url_width))


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
