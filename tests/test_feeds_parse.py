"""Reading feeds without a server: whatever the bytes, a feed or a FeedError; text stays text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crosspost.errors import FeedError
from crosspost.loading.feeds_item import markdown_literal
from crosspost.publishing.feeds_parse import clip, html_text, parse_feed, stable_id
from crosspost.rendering.markdown import render_markdown
from crosspost.rendering.markdown_forms import OutputForm

URL = "https://blog.example/feed"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400).map(lambda t: t.encode("utf-8")),
        st.text(alphabet="<>/?!=\"' rssfeditemtlkn{}[]:,", max_size=300).map(str.encode),
    ),
    st.sampled_from(["application/rss+xml", "application/json", "text/html", ""]),
)
def test_any_bytes_are_a_feed_or_a_feed_error(body: bytes, content_type: str) -> None:
    try:
        parsed = parse_feed(body, content_type, URL)
    except FeedError as exc:
        assert str(exc).startswith(URL + ": ")
    else:
        assert all(entry.guid for entry in parsed.entries)


_WORDS = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=8).map(" ".join))
def test_the_words_of_a_feed_are_never_read_as_markdown(text: str) -> None:
    assert render_markdown(markdown_literal(text), OutputForm()) == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One &amp; two</p><p>Three<br>four</p>", "One & two\n\nThree four"),
        ("<div><script>alert(1)</script>Kept</div>", "Kept"),
        ("plain   words\n\nand a paragraph", "plain words\n\nand a paragraph"),
        ("<ul><li>a</li><li>b</li></ul>", "a\n\nb"),
    ],
)
def test_html_becomes_text_with_paragraphs(html: str, text: str) -> None:
    assert html_text(html) == text


def test_long_summaries_are_cut_at_a_word() -> None:
    cut = clip("word " * 200, 50)
    assert len(cut) <= 50 and cut.endswith("word…")


def test_stable_ids() -> None:
    assert stable_id("urn:1", "https://x/1", "T") == "urn:1"
    assert stable_id(None, "https://x/1", "T") == "https://x/1"
    assert stable_id("  ", None, "T").startswith("sha256:")
    assert stable_id(None, None, "T") == stable_id(None, None, "T") != stable_id(None, None, "U")


def test_json_feed_1_0_with_author_and_numeric_ids() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Old style",
        "items": [
            {
                "id": 7,
                "content_text": "Plain *text*",
                "author": {"name": "Ann"},
                "date_modified": "2026-12-01T10:00:00Z",
                "external_url": "https://elsewhere.example/7",
                "tags": ["a", 5, "a"],
            },
            "not an item",
        ],
    }
    parsed = parse_feed(json.dumps(document).encode(), "application/json", URL)
    (entry,) = parsed.entries
    assert parsed.kind == "json1" and entry.guid == "7"
    assert (entry.summary, entry.author, entry.link) == (
        "Plain *text*",
        "Ann",
        "https://elsewhere.example/7",
    )
    assert entry.published == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert entry.tags == ("a",)  # a number is not a tag; each tag once


def test_rss_1_0_and_atom_dates_and_undated_entries() -> None:
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://x/"><title>RDF</title><link>https://x/</link><description/></channel>
<item rdf:about="https://x/1"><title>One</title><link>https://x/1</link></item>
</rdf:RDF>"""
    parsed = parse_feed(rdf, "application/rdf+xml", URL)
    assert parsed.kind == "rss10"
    assert [(e.guid, e.title, e.published) for e in parsed.entries] == [
        ("https://x/1", "One", None)
    ]


def test_only_web_addresses_become_links_and_images() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {"id": "1", "url": "javascript:alert(1)", "image": "file:///etc/passwd"},
            {"id": "2", "url": "/posts/2", "image": "img/2.png"},
        ],
    }
    first, second = parse_feed(json.dumps(document).encode(), "application/json", URL).entries
    assert (first.link, first.image) == (None, None)
    assert (second.link, second.image) == (
        "https://blog.example/posts/2",
        "https://blog.example/img/2.png",
    )
