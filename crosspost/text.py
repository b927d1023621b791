"""Counting and cutting text the way platforms do.

Platforms count in different units: grapheme clusters (what a reader sees as one
character), UTF-8 bytes, UTF-16 code units or weighted code points, and some
count every URL as a fixed width. The primitives here are platform-neutral;
each connector composes them into its platform's rule.

Thread splitting cuts a long text into parts that each fit a limit, at the
best boundary available (paragraph, sentence, word, grapheme) and never inside
a URL, a mention, a hashtag or a grapheme cluster.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import regex

__all__ = [
    "HASHTAG_RE",
    "iter_graphemes",
    "MENTION_RE",
    "URL_RE",
    "Span",
    "find_hashtags",
    "find_mentions",
    "find_urls",
    "grapheme_length",
    "split_text",
    "thread_parts",
    "utf8_length",
    "utf16_length",
    "utf16_offset",
    "with_urls_as",
]

Measure = Callable[[str], int]

#: URLs with an explicit scheme; trailing punctuation that usually closes the
#: sentence (or a parenthesis opened before the URL) is not part of the URL.
URL_RE = regex.compile(
    r"""https?://[^\s<>"'`]+?(?=[.,:;!?'")\]]*(?:\s|$))""",
    regex.IGNORECASE,
)
#: ``@user`` or ``@user@domain.tld`` (fediverse), or a Bluesky-style handle ``@name.bsky.social``.
MENTION_RE = regex.compile(
    r"(?<![\w@/])@(?P<user>[\w](?:[\w.-]*[\w])?)(?:@(?P<domain>[\w-]+(?:\.[\w-]+)+))?"
)
HASHTAG_RE = regex.compile(
    r"(?<![\w#&/])#(?P<tag>[\p{L}\p{M}\p{N}_]*[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*)"
)
_SENTENCE_END = frozenset(".!?…。！？")
_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True)
class Span:
    """A piece of text found in a larger one, by code point offsets."""

    start: int
    end: int
    text: str


def grapheme_length(text: str) -> int:
    """Number of extended grapheme clusters (Unicode 15+ rules of `regex`)."""
    return len(_GRAPHEME.findall(text))


def utf8_length(text: str) -> int:
    """Number of bytes in UTF-8."""
    return len(text.encode("utf-8"))


def utf16_length(text: str) -> int:
    """Number of UTF-16 code units (what JavaScript's ``length`` and Telegram count)."""
    return len(text.encode("utf-16-le")) // 2


def utf16_offset(text: str, index: int) -> int:
    """UTF-16 offset of the code point offset ``index`` in ``text``."""
    return utf16_length(text[:index])


def _spans(pattern: regex.Pattern[str], text: str) -> list[Span]:
    return [Span(m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]


def find_urls(text: str) -> list[Span]:
    """Every ``http(s)://`` URL in ``text``."""
    return _spans(URL_RE, text)


def find_mentions(text: str) -> list[Span]:
    """Every ``@mention`` outside URLs."""
    urls = find_urls(text)
    return [s for s in _spans(MENTION_RE, text) if not _inside(s, urls)]


def find_hashtags(text: str) -> list[Span]:
    """Every ``#hashtag`` outside URLs."""
    urls = find_urls(text)
    return [s for s in _spans(HASHTAG_RE, text) if not _inside(s, urls)]


def _inside(span: Span, others: list[Span]) -> bool:
    return any(o.start <= span.start < o.end for o in others)


def with_urls_as(text: str, width: int) -> str:
    """``text`` with every URL replaced by ``width`` placeholder characters."""
    return str(URL_RE.sub(lambda _m: "x" * width, text))


# --------------------------------------------------------------------------- splitting


class _Boundary(enum.IntEnum):
    """How good a place to cut is; higher is better."""

    GRAPHEME = 0
    WORD = 1
    SENTENCE = 2
    PARAGRAPH = 3


def _protected(text: str) -> list[Span]:
    return sorted(
        find_urls(text) + _spans(MENTION_RE, text) + _spans(HASHTAG_RE, text), key=lambda s: s.start
    )


def _boundaries(
    text: str, unbreakable: Sequence[tuple[int, int]] = ()
) -> tuple[list[int], list[_Boundary]]:
    """Every position where a cut may fall, with its quality."""
    protected = _protected(text) + [Span(start, end, "") for start, end in unbreakable]
    positions: list[int] = []
    kinds: list[_Boundary] = []
    for match in _GRAPHEME.finditer(text):
        end = match.end()
        if any(s.start < end < s.end for s in protected):
            continue
        positions.append(end)
        kinds.append(_classify(text, end))
    return positions, kinds


def _classify(text: str, pos: int) -> _Boundary:
    if pos >= len(text):
        return _Boundary.PARAGRAPH
    if not text[pos - 1].isspace() or text[pos].isspace():
        return _Boundary.GRAPHEME
    start = pos
    while start > 0 and text[start - 1].isspace():
        start -= 1
    gap = text[start:pos]
    if gap.count("\n") >= 2:
        return _Boundary.PARAGRAPH
    before = text[:start].rstrip("\"'»”)")
    if before and before[-1] in _SENTENCE_END:
        return _Boundary.SENTENCE
    return _Boundary.WORD


def split_text(
    text: str, limit: int, measure: Measure, unbreakable: Sequence[tuple[int, int]] = ()
) -> list[str]:
    """Cut ``text`` into segments whose stripped text each measures at most ``limit``.

    ``"".join(split_text(text, …)) == text`` always holds: whitespace at a cut
    stays at the end of the segment before it. A single unbreakable piece
    longer than the limit (a very long URL) becomes a segment of its own.
    ``unbreakable`` adds ``(start, end)`` ranges that are never cut (a link's text).
    """
    if measure(text.strip()) <= limit:
        return [text]
    positions, kinds = _boundaries(text, unbreakable)
    segments: list[str] = []
    start = 0
    while start < len(text):
        end = _best_cut(text, start, limit, measure, positions, kinds)
        segments.append(text[start:end])
        start = end
    return segments


def _best_cut(
    text: str,
    start: int,
    limit: int,
    measure: Measure,
    positions: list[int],
    kinds: list[_Boundary],
) -> int:
    first = bisect.bisect_right(positions, start)
    fits = _last_fitting(text, start, limit, measure, positions, first)
    if fits < first:  # nothing fits: take the smallest unbreakable piece
        return positions[first] if first < len(positions) else len(text)
    reach = positions[fits] - start
    for quality in (_Boundary.PARAGRAPH, _Boundary.SENTENCE, _Boundary.WORD):
        for index in range(fits, first - 1, -1):
            if kinds[index] >= quality and (
                quality is _Boundary.WORD or positions[index] - start >= reach // 2
            ):
                return positions[index]
    return positions[fits]


def _last_fitting(
    text: str, start: int, limit: int, measure: Measure, positions: list[int], first: int
) -> int:
    """Index of the farthest boundary whose segment fits, or ``first - 1``."""
    low, high = first, len(positions) - 1
    best = first - 1
    while low <= high:
        middle = (low + high) // 2
        if measure(text[start : positions[middle]].strip()) <= limit:
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return best


def thread_parts(
    text: str,
    limit: int,
    measure: Measure,
    *,
    numbering: bool = False,
    unbreakable: Sequence[tuple[int, int]] = (),
) -> list[str]:
    """The posts of a thread for ``text``: stripped segments, optionally numbered ``1/3``.

    With numbering, room for the widest counter is kept in every part. No cut
    falls inside an ``unbreakable`` ``(start, end)`` range.
    """
    if measure(text.strip()) <= limit:
        return [text.strip()]
    if not numbering:
        return [s.strip() for s in split_text(text, limit, measure, unbreakable) if s.strip()]
    reserve = 0
    while True:  # the counter's width depends on how many parts there are
        segments = [
            s.strip() for s in split_text(text, limit - reserve, measure, unbreakable) if s.strip()
        ]
        total = len(segments)
        needed = measure(f"\n\n{total}/{total}")
        if needed <= reserve or limit - needed <= 0:
            return [f"{s}\n\n{n}/{total}" for n, s in enumerate(segments, start=1)]
        reserve = needed


def iter_graphemes(text: str) -> Iterator[str]:
    """The grapheme clusters of ``text`` in order."""
    return (m.group(0) for m in _GRAPHEME.finditer(text))
