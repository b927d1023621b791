"""URL finding and the counts built on it, as tables derived from the published rules.

Rules quoted in comments: twitter-text ``rb/lib/twitter-text/regex.rb`` and
``js/src/extractUrlsWithIndices.js`` (tt), Mastodon's ``config/initializers/
twitter_regex.rb`` (overrides), ``app/validators/status_length_validator.rb`` (SLV)
and ``Status#prepare_contents`` (strip).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.mastodon import status_length
from connectors.x_text import find_x_urls, weighted_length
from crosspost.rendering.text import find_urls
from crosspost.rendering.urls import LINKS, UrlRules, find_url_matches

X_RULES = UrlRules(bare_domains=True)


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        # tt valid_url_balanced_parens: balanced parentheses in a path belong to the URL.
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
        ("(see https://e.org/p)", ["https://e.org/p"]),
        # two nested levels are allowed (Rdio-style paths).
        ("https://e.org/a_(b_(c))/d", ["https://e.org/a_(b_(c))/d"]),
        ("https://e.org/a_(b", ["https://e.org/a_"]),
        # valid_url_path_ending_chars: sentence punctuation ends the URL.
        ("go to https://e.org/x.", ["https://e.org/x"]),
        ("https://e.org/x?q=1&r=2, then", ["https://e.org/x?q=1&r=2"]),
        # a URL needs a known TLD: no localhost, no user info.
        ("http://localhost:3000/x", []),
        ("https://user:pass@example.org/x", []),
        # ports and unicode hosts.
        ("https://example.org:8443/x", ["https://example.org:8443/x"]),
        ("https://пример.рф/путь", ["https://пример.рф/путь"]),
        ("http://xn--80ak6aa92e.com/", ["http://xn--80ak6aa92e.com/"]),
        # valid_url_preceding_chars: not glued to a word, @ or $.
        ("x@https://e.org", []),
        # with a scheme, a linker takes any dotted host (as Bluesky's own client does);
        # counters keep to IANA's TLDs (test_a_linker_links_a_scheme_url_on_any_host…)
        ("https://example.notatld/x", ["https://example.notatld/x"]),
        ("https://crosspost.rocks", ["https://crosspost.rocks"]),
    ],
)
def test_link_urls(text: str, urls: list[str]) -> None:
    assert [span.text for span in find_urls(text)] == urls


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        # tt extractUrlsWithoutProtocol: bare ASCII domains with a known TLD.
        ("visit crosspost.rocks now", ["crosspost.rocks"]),
        # the TLD lookahead is ASCII-only: Cyrillic right after it ends the URL.
        ("example.comпривіт", ["example.com"]),
        # invalid_url_without_protocol_preceding_chars: not after -_./
        ("x -example.com _example.com /example.com", []),
        ("someone@example.com", []),
        # a non-ASCII domain without a scheme yields only its ASCII part.
        ("пример.example.com", ["example.com"]),
        ("www.example.com.notatld", ["www.example.com"]),
        ("foo.jp/x", ["foo.jp/x"]),
        # valid_tco_url: a t.co link takes no more path than its slug.
        ("https://t.co/abc123/more", ["https://t.co/abc123"]),
    ],
)
def test_x_urls(text: str, urls: list[str]) -> None:
    assert [text[s:e] for s, e in find_x_urls(text)] == urls


def test_bare_country_domain_without_path_is_marked_uncertain() -> None:
    # tt js invalidShortDomain vs rb extractor: they disagree on name.cc without a path.
    (match,) = find_url_matches("kyiv.ua", X_RULES)
    assert not match.certain
    (co,) = find_url_matches("t.co", X_RULES)  # validSpecialShortDomain: co, tv
    assert co.certain


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("visit crosspost.rocks now", 33),  # 6 + 23 + 4
        ("kyiv.ua", 23),  # uncertain: the longer of 23 and 7
        ("example.comпривіт", 29),  # 23 + 6 Cyrillic letters of weight 1
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", 25),  # 23 + the two outer parens
        ("see averyveryveryverylongdomainname.ua now", 42),  # uncertain: its own 34 + 8
        ("http://localhost:3000", 21),  # no TLD: counted as text
    ],
)
def test_x_weights(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


@pytest.mark.parametrize(
    ("text", "spoiler", "length"),
    [
        # overrides: valid_url protocols https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini.
        ("gemini://capsule.example.org/a/long/path/to/a/page", "", 23),
        ("ipfs://bafy.example.com/x", "", 23),
        ("ftp://files.example.org/a/long/path/to/a/file.tar.gz", "", 52),  # not a scheme: text
        # SLV uses extract_url_without_protocol: false: bare domains are text.
        ("see crosspost.rocks", "", 19),
        # user info is not part of twitter-text's URL: nothing is shortened.
        ("https://user:pass@example.org/x", "", 31),
        # no TLD, no URL.
        ("http://localhost:3000/some/long/path", "", 36),
        # overrides' balanced parens: the URL keeps its own parenthesis.
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", "", 25),
        # overrides' path chars: any script in a path.
        ("https://example.org/日本語のページ/とても長い", "", 23),
        # strip: leading and trailing whitespace, CRLF included, is not counted.
        ("\r\nhello\r\n", "", 5),
        ("a\r\nb", "", 3),  # CRLF is one grapheme cluster
        ("hi", " cw \r\n", 4),
        # SLV: @user@domain counts as @user; not when an @ follows.
        ("@ada@social.example.org hi", "", 7),
        ("@ada@social.example.org@x", "", 25),
    ],
)
def test_mastodon_lengths(text: str, spoiler: str, length: int) -> None:
    assert status_length(text, spoiler) == length


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*"ab.-_/()@:?#éп日 \n", "https://", ".com", ".ua"]), max_size=60).map(
        "".join
    )
)
def test_urls_are_ordered_disjoint_slices(text: str) -> None:
    for rules in (LINKS, X_RULES):
        found = find_url_matches(text, rules)
        assert all(m.text == text[m.start : m.end] and m.start < m.end for m in found)
        assert all(a.end <= b.start for a, b in zip(found, found[1:], strict=False))


def test_a_linker_links_a_scheme_url_on_any_host_a_counter_does_not() -> None:
    # Bluesky links what the author wrote after https://; twitter-text counts only known TLDs
    text = "doors open: https://makerspace.example/open (tomorrow)"
    assert [m.text for m in find_url_matches(text, LINKS)] == ["https://makerspace.example/open"]
    assert find_url_matches(text, UrlRules()) == []
    assert find_url_matches("makerspace.example/open", LINKS) == []
