"""Counting and thread splitting, with property tests over awkward text."""

from __future__ import annotations

import itertools

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crosspost.rendering.text import (
    _boundaries,
    _classify,
    find_hashtags,
    find_mentions,
    find_urls,
    grapheme_length,
    split_text,
    thread_parts,
    utf8_length,
    utf16_length,
    utf16_offset,
    with_urls_as,
)
from crosspost.rendering.text import (
    _protected as protected_spans,
)

MEASURES = {"graphemes": grapheme_length, "utf8": utf8_length, "utf16": utf16_length}
FAMILY = "👨\u200d👩\u200d👧\u200d👦"
FLAG = "🇺🇦"
THUMB = "👍🏽"
E_ACUTE = "e\u0301"

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_measures() -> None:
    assert grapheme_length(FAMILY + FLAG + E_ACUTE + "a") == 4
    assert utf8_length("é") == 2 and utf8_length(FAMILY) == 25
    assert utf16_length(FAMILY) == 11 and utf16_length("a😀") == 3
    assert utf16_offset("😀ab", 1) == 2


def test_find_urls_mentions_hashtags() -> None:
    text = (
        "Read https://e.org/a?b=1#x, then ask @alice@social.example or @bob. "
        "(see https://e.org/p) #release #2026 mail a@b.org"
    )
    assert [s.text for s in find_urls(text)] == ["https://e.org/a?b=1#x", "https://e.org/p"]
    assert [s.text for s in find_mentions(text)] == ["@alice@social.example", "@bob"]
    assert [s.text for s in find_hashtags(text)] == ["#release"]
    assert with_urls_as("go https://e.org/x.", 3) == "go xxx."


# --------------------------------------------------------------------------- examples


def test_short_text_is_one_part() -> None:
    assert thread_parts("  Hello.  ", 10, grapheme_length) == ["Hello."]


def test_cuts_at_sentences_first() -> None:
    text = "First sentence here. Second one is here. Third."
    assert thread_parts(text, 25, grapheme_length) == [
        "First sentence here.",
        "Second one is here.",
        "Third.",
    ]


def test_prefers_paragraphs() -> None:
    text = "Para one. Still one.\n\nPara two."
    assert thread_parts(text, 25, grapheme_length) == ["Para one. Still one.", "Para two."]


def test_numbering() -> None:
    text = " ".join(["word"] * 30)
    parts = thread_parts(text, 40, grapheme_length, numbering=True)
    total = len(parts)
    assert total >= 3
    for number, part in enumerate(parts, start=1):
        assert part.endswith(f"\n\n{number}/{total}")
        assert grapheme_length(part) <= 40
    assert " ".join(p.rsplit("\n\n", 1)[0] for p in parts) == text


def test_numbering_with_ten_or_more_parts_keeps_room() -> None:
    text = " ".join(f"w{i:02d}" for i in range(100))
    parts = thread_parts(text, 24, grapheme_length, numbering=True)
    assert len(parts) >= 10
    assert parts[0].endswith(f"\n\n1/{len(parts)}")
    assert all(grapheme_length(p) <= 24 for p in parts)


def test_url_longer_than_limit_is_its_own_part() -> None:
    url = "https://example.org/" + "a" * 60
    parts = thread_parts(f"See {url} now", 20, grapheme_length)
    assert url in parts


def test_never_splits_a_mention_or_url() -> None:
    text = "x" * 15 + " @someone@social.example " + "https://e.org/abc/def " + "y" * 10
    for limit in range(25, 45):
        parts = thread_parts(text, limit, grapheme_length)
        assert "@someone@social.example" in " ".join(parts)
        assert any("@someone@social.example" in p for p in parts)
        assert any("https://e.org/abc/def" in p for p in parts)


# --------------------------------------------------------------------------- properties

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéßЖж中", min_size=1, max_size=8)
_special = st.sampled_from(
    [
        FAMILY,
        FLAG,
        THUMB,
        E_ACUTE,
        "😀",
        "https://example.org/a/b?c=d",
        "http://e.io/x_y",
        "@alice",
        "@bob@social.example",
        "#tag",
        "#Ünïcode",
        "e.g.",
        "3.14",
        "“quoted.”",
    ]
)
_token = st.one_of(_word, _special)
_sep = st.sampled_from([" ", " ", " ", "\n", "\n\n", ". ", "! ", ", ", "? "])


@st.composite
def _texts(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(_token, min_size=1, max_size=60))
    seps = draw(st.lists(_sep, min_size=len(tokens), max_size=len(tokens)))
    return "".join(itertools.chain.from_iterable(zip(tokens, seps, strict=True)))


@FAST
@given(text=st.text(max_size=300), limit=st.integers(1, 60), unit=st.sampled_from(sorted(MEASURES)))
def test_split_text_rejoins_to_the_original(text: str, limit: int, unit: str) -> None:
    assert "".join(split_text(text, limit, MEASURES[unit])) == text


@FAST
@given(text=_texts(), limit=st.integers(1, 60), unit=st.sampled_from(sorted(MEASURES)))
def test_split_text_rejoins_structured_text(text: str, limit: int, unit: str) -> None:
    assert "".join(split_text(text, limit, MEASURES[unit])) == text


def _protected(text: str) -> list[str]:
    return [s.text for s in find_urls(text) + find_mentions(text)]


def _graphemes(text: str) -> list[str]:
    return regex.findall(r"\X", text)


def _longest_piece(text: str, measure) -> int:  # type: ignore[no-untyped-def]
    pieces = regex.split(r"\s+", text)
    return max((measure(p) for p in pieces if p), default=0)


@FAST
@given(
    text=_texts(),
    slack=st.integers(0, 80),
    unit=st.sampled_from(sorted(MEASURES)),
    numbering=st.booleans(),
)
def test_thread_parts_fit_and_keep_everything(
    text: str, slack: int, unit: str, numbering: bool
) -> None:
    measure = MEASURES[unit]
    reserve = measure("\n\n99/99") if numbering else 0
    limit = _longest_piece(text, measure) + reserve + slack
    parts = thread_parts(text, limit, measure, numbering=numbering)
    assert parts and all(measure(p) <= limit for p in parts)
    bodies = [p.rsplit("\n\n", 1)[0] if numbering and len(parts) > 1 else p for p in parts]
    if numbering and len(parts) > 1:
        assert [p.rsplit("\n\n", 1)[1] for p in parts] == [
            f"{n}/{len(parts)}" for n in range(1, len(parts) + 1)
        ]
    # nothing lost or reordered (whitespace at the cuts aside)
    assert regex.sub(r"\s", "", "".join(bodies)) == regex.sub(r"\s", "", text)
    # no cut inside a URL or a mention
    for piece in _protected(text):
        assert any(piece in body for body in bodies), piece
    # no cut inside a grapheme cluster: the parts' clusters are the text's clusters
    assert [g for b in bodies for g in _graphemes(b) if not g.isspace()] == [
        g for g in _graphemes(text) if not g.isspace()
    ]


@pytest.mark.parametrize("unit", sorted(MEASURES))
def test_emoji_clusters_are_never_cut(unit: str) -> None:
    text = " ".join([FAMILY] * 20)
    measure = MEASURES[unit]
    parts = thread_parts(text, measure(FAMILY) * 3 + 2, measure)
    assert len(parts) > 1
    assert all(set(p.split(" ")) == {FAMILY} for p in parts)


# --------------------------------------------------------------------------- balance


def test_over_limit_text_has_no_one_character_tail() -> None:
    # The reported case: 299 graphemes then a reply "a".
    text = " ".join(["words"] * 50) + " a"
    assert grapheme_length(text) == 301
    parts = thread_parts(text, 300, grapheme_length)
    assert len(parts) == 2
    assert min(grapheme_length(p) for p in parts) > 100


def test_balance_keeps_the_fewest_parts_and_sentence_cuts() -> None:
    text = "Sentence number one is here. " * 30
    greedy = [s.strip() for s in split_text(text, 300, grapheme_length) if s.strip()]
    parts = thread_parts(text, 300, grapheme_length)
    assert len(parts) == len(greedy)
    assert all(p.endswith(".") for p in parts)


@FAST
@given(
    words=st.lists(st.text(alphabet="abcdéfg日👍", min_size=1, max_size=10), min_size=2),
    limit=st.integers(40, 300),
    unit=st.sampled_from(sorted(MEASURES)),
)
def test_parts_of_plain_words_are_balanced(words: list[str], limit: int, unit: str) -> None:
    measure = MEASURES[unit]
    limit = max(limit, 4 * max(measure(w) for w in words))
    text = " ".join(words)
    parts = thread_parts(text, limit, measure)
    greedy = [s.strip() for s in split_text(text, limit, measure) if s.strip()]
    assert len(parts) == len(greedy)  # never more posts than needed
    if len(parts) > 1:  # no tiny part: each holds at least a third of the longest
        sizes = [measure(p) for p in parts]
        assert min(sizes) * 3 >= max(sizes)


# --------------------------------------------------------------------------- fast paths

_SLOW_GRAPHEMES = regex.compile(r"\X")


def test_below_u0300_every_code_point_is_a_cluster_but_cr_lf() -> None:
    # the premise of the fast path, over every pair of such code points
    pairs = (
        (a, b)
        for a in range(0x300)
        for b in range(0x300)
        if len(_SLOW_GRAPHEMES.findall(chr(a) + chr(b))) != 2
    )
    assert list(pairs) == [(0x0D, 0x0A)]


@given(
    st.one_of(
        st.text(alphabet=st.characters(max_codepoint=0x2FF)),
        st.lists(st.sampled_from(["a", "\r", "\n", " ", "é", "e\u0301", "👍🏽", "🇺🇦"])).map(
            "".join
        ),
        st.text(),
    )
)
def test_the_grapheme_fast_path_counts_as_the_regex_does(text: str) -> None:
    assert grapheme_length(text) == len(_SLOW_GRAPHEMES.findall(text))


_PIECES = ["a", "b", ".", " ", "\n", "\r\n", "\u3000", ")", "é", "https://x.org/a", "@u", "#t"]


@given(st.lists(st.sampled_from(_PIECES)).map("".join))
def test_boundary_kinds_are_those_of_every_position(text: str) -> None:
    positions, kinds = _boundaries(text)
    ends = [m.end() for m in _SLOW_GRAPHEMES.finditer(text)]
    protected = protected_spans(text)
    assert positions == [e for e in ends if not any(s.start < e < s.end for s in protected)]
    assert kinds == [_classify(text, p) for p in positions]


def test_the_cluster_count_of_a_text_is_kept_for_the_next_account() -> None:
    from crosspost.rendering import text as text_module

    before = text_module._cluster_count.cache_info().hits
    phrase = FAMILY + " kept " + E_ACUTE + str(id(object()))
    assert grapheme_length(phrase) == grapheme_length(phrase)
    assert text_module._cluster_count.cache_info().hits == before + 1


@given(st.lists(st.integers(min_value=0, max_value=3), max_size=60))
def test_the_best_boundary_below_each_position_is_the_last_good_enough_one(
    qualities: list[int],
) -> None:
    from crosspost.rendering.text import _best_below, _Boundary

    kinds = [_Boundary(value) for value in qualities]
    best = _best_below(kinds)
    for quality, below in best.items():
        for position in range(len(kinds)):
            good = [i for i in range(position + 1) if kinds[i] >= quality]
            assert below[position] == (good[-1] if good else -1)
