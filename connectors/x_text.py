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

URL detection covers what posts contain in practice: ``http(s)://`` URLs with
any domain whose top-level label is a known TLD, a two-letter country code,
``xn--`` punycode or a non-ASCII (IDN) label, and bare ASCII domains such as
``example.com`` with a known TLD. Like twitter-text it refuses hosts with a
label over 63 characters once punycode-encoded, bare ``name.cc`` country-code
domains without a path (except ``.co`` and ``.tv``), and bare domains right
after ``-_./``. Not covered: twitter-text's full TLD list (only common gTLDs are
listed), IPv4/IPv6 hosts and the t.co slug rule.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import regex

__all__ = ["MAX_WEIGHTED_LENGTH", "URL_WEIGHT", "find_x_urls", "weighted_length"]

#: ``maxWeightedTweetLength / scale`` of twitter-text v3.
MAX_WEIGHTED_LENGTH = 280
#: ``transformedURLLength``: what t.co makes of any URL.
URL_WEIGHT = 23
#: v3 ranges of code points that weigh 1; everything else weighs 2.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_MAX_URL_LENGTH = 4096
_MAX_LABEL = 63

# Common generic TLDs; two-letter country codes are matched by shape.
_GTLDS = (
    "com net org edu gov mil int info biz name pro aero coop museum mobi asia tel travel "
    "jobs cat xxx post app dev io ai page blog shop store online site tech cloud news "
    "social media link live life world today space website email digital network "
    "systems solutions services agency studio design art music photo video games "
    "club community events academy school university education health care law "
    "finance bank money capital ventures partners group company business global "
    "london berlin paris nyc tokyo wiki xyz top icu fun win one zone wtf lol"
).split()
_TLD_ALTERNATION = "|".join(sorted(set(_GTLDS), key=len, reverse=True))
_SPECIAL_CCTLDS = frozenset({"co", "tv"})

# A domain character is anything but ASCII punctuation, spaces and controls.
_DC = r"[^\s\p{Z}\p{Cc}\p{Cf}\p{Co}\p{Cn}!-/:-@\[-`{-~\uFFFE\uFEFF\uFFFF]"
_LATIN = r"\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u0300-\u036F\u1E00-\u1EFF"
_CYRILLIC = r"\u0400-\u04FF"
_PATH_CHAR = rf"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_LATIN}]"
_PATH_END = rf"(?:[+\-a-z{_CYRILLIC}0-9=_#/{_LATIN}]|\({_PATH_CHAR}*\))"
_PATH = rf"/(?:(?:{_PATH_CHAR}|\({_PATH_CHAR}*\))*{_PATH_END})?"
_QUERY = r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/]"
_TLD_END = r"(?=[^\p{L}\p{N}@+\-_]|$)"
_TAIL = rf"(?::[0-9]+)?(?P<path>{_PATH})?(?:{_QUERY})?"
_PRECEDING = r"(?<![A-Za-z0-9@＠$#＃\uFFFE\uFEFF\uFFFF])"

_SCHEME_URL = regex.compile(
    rf"{_PRECEDING}(?P<url>https?://"
    rf"(?P<domain>(?:{_DC}(?:[_-]|{_DC})*\.)*"
    rf"(?:{_TLD_ALTERNATION}|[a-z]{{2}}|xn--[a-z0-9-]+|[^\x00-\x7F\s\p{{P}}\p{{S}}\p{{Z}}\p{{C}}]{{2,}})"
    rf"{_TLD_END}){_TAIL})",
    regex.IGNORECASE,
)
_BARE_URL = regex.compile(
    rf"{_PRECEDING}(?P<url>(?P<domain>(?:[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?\.)+"
    rf"(?P<tld>{_TLD_ALTERNATION}|[a-z]{{2}}){_TLD_END}){_TAIL})",
    regex.IGNORECASE,
)
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20E3]")
_EMOJI_PRESENTATION = regex.compile(r"\p{Emoji_Presentation}")


def _host_is_valid(domain: str) -> bool:
    """Whether every label fits in 63 characters once punycode-encoded."""
    try:
        encoded = domain.encode("idna")
    except UnicodeError:
        return False
    return all(0 < len(label) <= _MAX_LABEL for label in encoded.split(b"."))


def _bare_is_valid(text: str, match: regex.Match[str]) -> bool:
    start = match.start("url")
    if start and text[start - 1] in "-_./":
        return False
    labels = match.group("domain").split(".")
    short = len(labels) == 2 and len(labels[1]) == 2
    return not short or bool(match.group("path")) or labels[1].lower() in _SPECIAL_CCTLDS


def find_x_urls(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every URL X would shorten to t.co, in order."""
    spans: list[tuple[int, int]] = []
    for match in _SCHEME_URL.finditer(text):
        if _host_is_valid(match.group("domain")) and len(match.group("url")) <= _MAX_URL_LENGTH:
            spans.append(match.span("url"))
    for match in _BARE_URL.finditer(text):
        start, end = match.span("url")
        if any(s < end and start < e for s, e in spans):
            continue
        if _bare_is_valid(text, match) and _host_is_valid(match.group("domain")):
            spans.append((start, end))
    return sorted(spans)


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
    for start, end in find_x_urls(text):
        total += sum(_cluster_weights(text[position:start])) + URL_WEIGHT
        position = end
    return total + sum(_cluster_weights(text[position:]))
