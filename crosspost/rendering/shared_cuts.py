"""One thread cut for every text that differs from another only inside its URLs.

A schedule tags each post's link with its entry (``utm_campaign=e123``), so the same
long content makes a distinct text for every entry, and each used to be cut on its own.
Where a connector declares how its ``measure`` counts URLs (:class:`UrlCounting`), the
texts that differ only inside URLs of the same length and shape are cut once, and the
cut of the first (where each post starts and ends) is laid on the others.

Why the cut is the same: the splitter decides from the boundaries of a text (graphemes,
spaces, sentence ends, mentions and hashtags, URLs kept whole), from distances between
them in characters, and from ``measure`` of its pieces. A *plain* URL (:data:`_PLAIN_URL`:
ASCII URL characters, no ``@``, ``#``, brackets or quotes) changes none of these beyond
what the key keeps: its scheme (a mention or hashtag right before it runs into it), its
length (every later position moves with it) and its last character (what a sentence end
or a mention right after it looks back at). The connector's declaration covers ``measure``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

from crosspost.rendering.markdown_forms import LinkSpan
from crosspost.rendering.markup import Marked, located_parts, thread_ranges

if TYPE_CHECKING:
    from crosspost.rendering.urls import UrlCounting

__all__ = ["SharedCuts"]

Measure = Callable[[str], int]
Located = list[tuple[str, tuple[LinkSpan, ...]]]
#: A URL every character of which the splitter and the counters treat alike.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?=&%+]+")
#: Cuts kept (a bound for long-lived daemons); the store starts over when full.
_MAX_CUTS = 10_000


class SharedCuts:
    """The cuts made so far, by masked text, limit, numbering and counting rules."""

    def __init__(self) -> None:
        #: Where each post lies in the text, and whether posts are numbered; None: not cut.
        self._cuts: dict[Hashable, tuple[list[tuple[int, int]], bool] | None] = {}

    def split(
        self,
        marked: Marked,
        limit: int,
        measure: Measure,
        numbering: bool,
        rules: Hashable,
        counting: UrlCounting,
    ) -> Located | None:
        """The posts of the thread for ``marked``, or None when its cut cannot be shared.

        ``rules`` names the counting rules (``counting_key``): cuts are shared among texts
        counted by equal ones. What is returned is what cutting ``marked`` itself gives.
        """
        masked = _key(marked, counting)
        if masked is None:
            return None
        key = (masked, limit, numbering, rules)
        if key not in self._cuts:
            if len(self._cuts) >= _MAX_CUTS:
                self._cuts.clear()
            self._cuts[key] = _cut(marked, limit, measure, numbering)
        cut = self._cuts[key]
        if cut is None:
            return [(marked.text, marked.links)]
        return located_parts(marked, *cut)


def _cut(
    marked: Marked, limit: int, measure: Measure, numbering: bool
) -> tuple[list[tuple[int, int]], bool] | None:
    if measure(marked.text) <= limit:
        return None
    return thread_ranges(marked, limit, measure, numbering=numbering)


def _key(marked: Marked, counting: UrlCounting) -> Hashable | None:
    """``marked`` with each plain URL masked; None when a URL is not plain.

    Texts with equal keys have their URLs at the same places, so a post of one starts
    and ends where the same post of the other does.
    """
    from crosspost.rendering.urls import LINKS, find_url_matches  # only texts cut need it

    text = marked.text
    found = find_url_matches(text, LINKS)
    if not found or not all(_PLAIN_URL.fullmatch(url.text) for url in found):
        return None
    if counting.rules is not None:
        counted = find_url_matches(text, counting.rules)
        if [(url.start, url.end, url.certain) for url in counted] != [
            (url.start, url.end, True) for url in found
        ]:
            return None
    bounds = [0, *(position for url in found for position in (url.start, url.end)), len(text)]
    pieces = tuple(text[start:end] for start, end in zip(bounds[::2], bounds[1::2], strict=True))
    return pieces, tuple(_token(url.text) for url in found), marked.whole


def _token(url: str) -> tuple[str, int, str]:
    """What of a plain URL the cut can depend on: scheme, length and last character."""
    last = url[-1]
    return url[: url.index(":")], len(url), "a" if last.isalnum() or last == "_" else last
