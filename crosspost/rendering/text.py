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
import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import regex

__all__ = [
    "HASHTAG_RE",
    "iter_graphemes",
    "MENTION_RE",
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

#: ``@user`` or ``@user@domain.tld`` (fediverse), or a Bluesky-style handle ``@name.bsky.social``.
MENTION_RE = regex.compile(
    r"(?<![\w@/])@(?P<user>[\w](?:[\w.-]*[\w])?)(?:@(?P<domain>[\w-]+(?:\.[\w-]+)+))?"
)
HASHTAG_RE = regex.compile(
    r"(?<![\w#&/])#(?P<tag>[\p{L}\p{M}\p{N}_]*[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*)"
)
_SENTENCE_END = frozenset(".!?…。！？")
_GRAPHEME = regex.compile(r"\X")
#: Below U+0300 (where combining marks start) every code point is a cluster of its own,
#: but for CR LF: checked over every pair of them in tests/test_text.py.
_FIRST_JOINING = "\u0300"


@functools.cache
def _spaces() -> regex.Pattern[str]:
    """Runs of what ``str.isspace`` calls space (``\\s`` of `regex` differs on a few code points).

    Built on first use: listing them walks 12,000 code points, and only cutting needs it.
    """
    return regex.compile(
        "[" + regex.escape("".join(c for c in map(chr, range(0x3001)) if c.isspace())) + "]+"
    )


@dataclass(frozen=True)
class Span:
    """A piece of text found in a larger one, by code point offsets."""

    start: int
    end: int
    text: str


def grapheme_length(text: str) -> int:
    """Number of extended grapheme clusters (Unicode 15+ rules of `regex`)."""
    if _without_joining(text):
        return len(text) - text.count("\r\n")
    return _cluster_count(text)


@functools.lru_cache(maxsize=16_384)
def _cluster_count(text: str) -> int:
    """The \\X count, kept per text: the same pieces are measured for every account."""
    return len(_GRAPHEME.findall(text))


def _without_joining(text: str) -> bool:
    """Whether every code point of ``text`` is a cluster of its own (but CR LF): ASCII, Latin."""
    return text.isascii() or not text or max(text) < _FIRST_JOINING


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
    """Every ``http(s)://`` URL in ``text`` (balanced parentheses belong to it)."""
    # imported here: counting and cutting texts that fit never looks for a URL
    from crosspost.rendering.urls import LINKS, find_url_matches

    return [Span(m.start, m.end, m.text) for m in find_url_matches(text, LINKS)]


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
    pieces: list[str] = []
    position = 0
    for span in find_urls(text):
        pieces += [text[position : span.start], "x" * width]
        position = span.end
    return "".join(pieces) + text[position:]


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
    """Every position where a cut may fall, with its quality (linear in the text).

    ``unbreakable`` adds ``(start, end)`` ranges that are never cut (a link's text).
    """
    allowed = bytearray(b"\x01") * (len(text) + 1)  # 0 inside a cluster or a protected span
    allowed[0] = 0
    ranges = [(span.start, span.end) for span in _protected(text)] + list(unbreakable)
    for start, end in ranges:
        allowed[start + 1 : end] = bytes(max(end - start - 1, 0))
    if _without_joining(text):  # every code point is a cluster, but CR LF
        crlf = text.find("\r\n")
        while crlf >= 0:
            allowed[crlf + 1] = 0
            crlf = text.find("\r\n", crlf + 2)
        positions = list(itertools.compress(range(len(text) + 1), allowed))
    else:
        positions = [m.end() for m in _GRAPHEME.finditer(text) if allowed[m.end()]]
    return positions, _kinds(text, positions)


def _kinds(text: str, positions: list[int]) -> list[_Boundary]:
    """The quality of each position: only the end of a run of spaces is more than a grapheme."""
    kinds = [_Boundary.GRAPHEME] * len(positions)
    index = 0
    for run in _spaces().finditer(text):
        index = bisect.bisect_left(positions, run.end(), index)
        if index < len(positions) and positions[index] == run.end():
            kinds[index] = _classify(text, run.end())
    if positions and positions[-1] >= len(text):
        kinds[-1] = _Boundary.PARAGRAPH
    return kinds


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
    while start > 0 and text[start - 1] in "\"'»”)":  # a quote or bracket closing the sentence
        start -= 1
    if start > 0 and text[start - 1] in _SENTENCE_END:
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
    return _split_at(text, limit, measure, *_boundaries(text, unbreakable))


def _split_at(
    text: str,
    limit: int,
    measure: Measure,
    positions: list[int],
    kinds: list[_Boundary],
    best: dict[_Boundary, list[int]] | None = None,
) -> list[str]:
    """:func:`split_text` with the boundaries of ``text`` (and :func:`_best_below`) found."""
    if measure(text.strip()) <= limit:
        return [text]
    best = best or _best_below(kinds)
    segments: list[str] = []
    start = 0
    while start < len(text):
        end = _best_cut(text, start, limit, measure, positions, best)
        segments.append(text[start:end])
        start = end
    return segments


def _best_below(kinds: list[_Boundary]) -> dict[_Boundary, list[int]]:
    """For each quality, the index of the last boundary at least that good at or before each."""
    # Most boundaries are between graphemes of a word: walk the few others, fill in slices.
    good = [(index, kind) for index, kind in enumerate(kinds) if kind > _Boundary.GRAPHEME]
    best = {}
    for quality in (_Boundary.PARAGRAPH, _Boundary.SENTENCE, _Boundary.WORD):
        marks = [index for index, kind in good if kind >= quality]
        below = [-1] * len(kinds)
        for start, end in zip(marks, [*marks[1:], len(kinds)], strict=False):  # none: no slice
            below[start:end] = [start] * (end - start)
        best[quality] = below
    return best


def _best_cut(
    text: str,
    start: int,
    limit: int,
    measure: Measure,
    positions: list[int],
    best: dict[_Boundary, list[int]],
) -> int:
    first = bisect.bisect_right(positions, start)
    fits = _last_fitting(text, start, limit, measure, positions, first)
    if fits < first:  # nothing fits: take the smallest unbreakable piece
        return positions[first] if first < len(positions) else len(text)
    reach = positions[fits] - start
    for quality in (_Boundary.PARAGRAPH, _Boundary.SENTENCE, _Boundary.WORD):
        # The farthest boundary this good; a nearer one would be shorter still.
        index = best[quality][fits]
        if index >= first and (quality is _Boundary.WORD or positions[index] - start >= reach // 2):
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
        return _balanced_parts(text, limit, measure, unbreakable)
    reserve = 0
    while True:  # the counter's width depends on how many parts there are
        segments = _balanced_parts(text, limit - reserve, measure, unbreakable)
        total = len(segments)
        needed = measure(f"\n\n{total}/{total}")
        if needed <= reserve or limit - needed <= 0:
            return [f"{s}\n\n{n}/{total}" for n, s in enumerate(segments, start=1)]
        reserve = needed


def _worst_cut(text: str, segments: list[str]) -> _Boundary:
    """The poorest boundary among the cuts between ``segments``."""
    worst = _Boundary.PARAGRAPH
    position = 0
    for segment in segments[:-1]:
        position += len(segment)
        worst = min(worst, _classify(text, position))
    return worst


def _balanced_parts(
    text: str, limit: int, measure: Measure, unbreakable: Sequence[tuple[int, int]] = ()
) -> list[str]:
    """The fewest parts :func:`split_text` gives, cut as evenly as that allows.

    A greedy split fills every part but the last, which can be one character
    long. The smallest limit that gives no more parts and cuts at boundaries as
    good as the greedy ones (paragraph, sentence, word) spreads the text evenly.
    """
    positions, kinds = _boundaries(text, unbreakable)  # found once for every trial limit
    boundaries = (positions, kinds, _best_below(kinds))
    measure = functools.lru_cache(maxsize=None)(measure)  # the trials measure the same pieces
    greedy = _split_at(text, limit, measure, *boundaries)
    count, quality = len(greedy), _worst_cut(text, greedy)

    def acceptable(segments: list[str]) -> bool:
        return len(segments) <= count and _worst_cut(text, segments) >= quality

    best = greedy
    low, high = 1, limit
    while count > 1 and low < high:
        middle = (low + high) // 2
        segments = _split_at(text, middle, measure, *boundaries)
        if acceptable(segments):
            best, high = segments, middle
        else:
            low = middle + 1
    return [s.strip() for s in best if s.strip()]


def iter_graphemes(text: str) -> Iterator[str]:
    """The grapheme clusters of ``text`` in order."""
    return (m.group(0) for m in _GRAPHEME.finditer(text))
