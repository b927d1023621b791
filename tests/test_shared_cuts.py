"""A cut shared by texts that differ only inside their URLs is the cut each would get alone."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from connectors.mastodon.counting import MASTODON_URLS, countable_text
from crosspost.rendering.markdown_forms import LinkSpan
from crosspost.rendering.markup import Marked, split_marked
from crosspost.rendering.shared_cuts import SharedCuts
from crosspost.rendering.text import grapheme_length, utf8_length, utf16_length
from crosspost.rendering.urls import UrlCounting

Measure = Callable[[str], int]
#: Shapes of text per measure, each with four sets of URLs.
SHAPES = 150

MEASURES: dict[str, tuple[Measure, UrlCounting]] = {
    "mastodon": (
        lambda text: grapheme_length(countable_text(text, 23)),
        UrlCounting(MASTODON_URLS),
    ),
    "bluesky": (
        lambda text: max(grapheme_length(text), -(-utf8_length(text) // 10)),
        UrlCounting(),
    ),
    "graphemes": (grapheme_length, UrlCounting()),
    "utf16": (utf16_length, UrlCounting()),
}
WORDS = [
    "repair", "share", "learn", "together", "café", "naïve", "Ñandú", "e\u0301te\u0301",
    "日本語の", "Київ", "👍", "👩\u200d👩\u200d👧", "🇺🇦", "x\u0308\u0308", "«quoted»",
    "@ana", "@bo@social.example", "#repair", "#日本", "(aside)", "“curly”", "1.5",
    "\U0001f3f3\ufe0f\u200d\U0001f308",
]  # fmt: skip
ENDS = [" ", " ", " ", ". ", "! ", "? ", "… ", ", ", "\n", "\n\n", "。", "\"' ", ") "]
#: What may stand right before or after a URL, the cases where the splitter looks at it.
BEFORE = ["", " ", " ", "(", '"', "@bo_", "#", "é", "\n\n", "ab."]
AFTER = [" ", " ", "\n", "\n\n", ". ", ") ", "! ", "? ", ", ", '" ', "… ", "", ".", ")"]
#: Right after a URL, these run into it: the text is then cut on its own.
RUNNING_ON = ["\u0301", "é", "@ana", "#tag", "…"]
PATH = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/"
QUERY = "abcxyz0189=&_-%"


def _prose(rng: random.Random, words: int) -> str:
    return "".join(rng.choice(WORDS) + rng.choice(ENDS) for _ in range(words))


def _url(rng: random.Random, head: str, length: int, last: str) -> str:
    """A plain URL of ``length`` characters starting with ``head`` and ending in ``last``."""
    size = length - len(head) - 1
    query = rng.randint(2, size) if last == "=" or rng.random() < 0.5 else 0
    path = "".join(rng.choice(PATH) for _ in range(size - query))
    if query:
        path += "?" + "".join(rng.choice(QUERY) for _ in range(query - 1))
    return head + path + last


def _shape(rng: random.Random) -> list[tuple[str, int, str] | str]:
    """Prose with URLs (given by scheme, length and last character) between pieces."""
    pieces: list[tuple[str, int, str] | str] = []
    for _ in range(rng.randint(1, 3)):
        pieces.append(_prose(rng, rng.randint(0, 14)) + rng.choice(BEFORE))
        head = rng.choice(["https://example.org/", "http://news.example.com/a/"])
        pieces.append((head, rng.randint(35, 110), rng.choice("a7/=-_")))
        pieces.append(rng.choice(RUNNING_ON if rng.random() < 0.05 else AFTER))
    pieces.append(_prose(rng, rng.randint(0, 10)))
    return pieces


def _text(rng: random.Random, shape: list[tuple[str, int, str] | str]) -> str:
    return "".join(p if isinstance(p, str) else _url(rng, *p) for p in shape)


def _with_link(text: str, linked: bool) -> Marked:
    """``text`` with one word kept whole and linked, as Markdown links come (rich text)."""
    start = text.find("share")
    if start < 0 or not linked:
        return Marked(text)
    end = start + len("share")
    return Marked(text, ((start, end),), (LinkSpan(start, end, "https://elsewhere.example/x"),))


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_a_shared_cut_is_the_cut_of_each_text(name: str) -> None:
    measure, counting = MEASURES[name]
    rng = random.Random(f"shared cuts {name}")
    cuts = SharedCuts()
    texts = shared = reused = 0
    calls = 0

    def counted(text: str) -> int:
        nonlocal calls
        calls += 1
        return measure(text)

    for _ in range(SHAPES):
        shape = _shape(rng)
        limit = rng.choice([30, 60, 100, 140, 300, 500])
        numbering, linked = rng.random() < 0.3, rng.random() < 0.7
        for _ in range(4):  # the same shape, other URLs of the same length and ending
            marked = _with_link(_text(rng, shape), linked)
            own = (
                [(marked.text, marked.links)]
                if measure(marked.text) <= limit
                else split_marked(marked, limit, measure, numbering=numbering)
            )
            calls = 0
            got = cuts.split(marked, limit, counted, numbering, name, counting)
            texts += 1
            if got is not None:
                shared += 1
                reused += calls == 0
                assert got == own, (marked, limit, numbering)
    # Many texts are cut once per shape: much of what is compared is a shared cut.
    assert shared > texts // 3 and reused > shared // 3


def test_texts_differing_only_in_urls_are_cut_once() -> None:
    measure, counting = MEASURES["mastodon"]
    cuts = SharedCuts()
    cut = 0

    def counted(text: str) -> int:
        nonlocal cut
        cut += 1
        return measure(text)

    body = "Makers gather to repair and share. " * 30
    for entry in range(100, 200):
        link = f"https://example.org/news/1?utm_source=mastodon&utm_campaign=e{entry}"
        got = cuts.split(Marked(f"{body}\n\n{link}"), 500, counted, False, "m", counting)
        assert got is not None and len(got) == 3
        assert got[-1][0].endswith(link)
        if entry == 100:
            first, cut = cut, 0
    assert first > 0 and cut == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a#section",  # a hashtag could start inside
        "https://example.org/@ana",  # a mention could start inside
        "https://example.org/wiki/Foo_(bar)",  # a sentence end is looked for behind brackets
        "https://example.org/café",  # graphemes and bytes differ from characters
        "https://club.example/news",  # Mastodon counts it by its characters
    ],
)
def test_a_text_with_another_url_is_cut_on_its_own(url: str) -> None:
    measure, counting = MEASURES["mastodon"]
    marked = Marked("Makers gather to repair and share. " * 30 + url)
    assert SharedCuts().split(marked, 500, measure, False, "m", counting) is None
