"""X's weighted tweet length (twitter-text v3), without the twitter-text package.

Rules, from twitter-text ``config/v3.json`` and ``parseTweet`` (Apache-2.0,
https://github.com/twitter/twitter-text), checked against its conformance file
``conformance/validate.yml`` (copy in ``tests/fixtures/x/validate_weighted.yaml``):

* the text is NFC-normalised first;
* every URL weighs 23 (``transformedURLLength``), however long it is;
* every emoji (a grapheme cluster with an Extended_Pictographic or Regional
  Indicator code point, or a keycap U+20E3) weighs 2, ZWJ sequences included;
* any other code point weighs 1 in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F
  and U+2032–U+2037, and 2 everywhere else (CJK, most symbols);
* the limit is 280.

URLs are found by :mod:`crosspost.rendering.urls` with twitter-text's own rules (bare
domains included, TLDs from IANA's list). A bare ``name.cc`` domain without a
path, on which twitter-text's implementations disagree, weighs the more of 23
and its own length, so that a post we accept is never longer for X.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import regex

from crosspost.rendering.urls import STRICT_PATHS, UrlRules, find_url_matches

__all__ = ["MAX_WEIGHTED_LENGTH", "URL_WEIGHT", "find_x_urls", "weighted_length"]

#: ``maxWeightedTweetLength / scale`` of twitter-text v3.
MAX_WEIGHTED_LENGTH = 280
#: ``transformedURLLength``: what t.co makes of any URL.
URL_WEIGHT = 23
#: v3 ranges of code points that weigh 1; everything else weighs 2.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
#: twitter-text's ``extractUrlsWithIndices`` with ``extractUrlsWithoutProtocol``.
_X_URLS = UrlRules(bare_domains=True, paths=STRICT_PATHS)
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20E3]")
_EMOJI_PRESENTATION = regex.compile(r"\p{Emoji_Presentation}")


def find_x_urls(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every URL X would shorten to t.co, in order."""
    return [(m.start, m.end) for m in find_url_matches(text, _X_URLS)]


def _code_point_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in _LIGHT_RANGES) else 2


def _is_emoji(cluster: str) -> bool:
    if not _EMOJI.search(cluster):
        return False
    # A lone text-style symbol such as (c) or (R) is not an emoji to twemoji.
    lone_text_symbol = len(cluster) == 1 and ord(cluster) < 0x2000
    return not (lone_text_symbol and not _EMOJI_PRESENTATION.match(cluster))


def _cluster_weights(text: str) -> Iterator[int]:
    for match in _GRAPHEME.finditer(text):
        cluster = match.group(0)
        if _is_emoji(cluster):
            yield 2
        else:
            yield sum(_code_point_weight(char) for char in cluster)


def weighted_length(text: str) -> int:
    """The length X counts for ``text`` (at most :data:`MAX_WEIGHTED_LENGTH` per post)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for url in find_url_matches(text, _X_URLS):
        own = URL_WEIGHT if url.certain else max(URL_WEIGHT, sum(_cluster_weights(url.text)))
        total += sum(_cluster_weights(text[position : url.start])) + own
        position = url.end
    return total + sum(_cluster_weights(text[position:]))
