"""The filters a template has besides Jinja's own: ``utm`` and ``hashtags``.

``graphemes`` (:func:`crosspost.rendering.text.grapheme_length`) is the third; the
environment registers all three (:mod:`crosspost.rendering.templates`). A post's own
link is tagged with :func:`tagged`, kept, as the same few links are tagged for every
entry and platform.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

import regex

__all__ = ["hashtags", "tagged", "utm"]

_TAG_WORD = regex.compile(r"[\p{L}\p{M}\p{N}_]+")


def utm(
    url: str, source: str, medium: str = "social", campaign: str = "", content: str = ""
) -> str:
    """``url`` with ``utm_*`` parameters added; parameters already there are kept as they are."""
    parts, query, present = _split_query(url) if isinstance(url, str) else _query_of(url)
    wanted = {
        "utm_source": source,
        "utm_medium": medium,
        "utm_campaign": campaign,
        "utm_content": content,
    }
    added = urlencode([(k, v) for k, v in wanted.items() if v and k not in present])
    return urlunsplit(parts._replace(query="&".join(q for q in (query, added) if q)))


def _query_of(url: str) -> tuple[SplitResult, str, frozenset[str]]:
    """``url`` split, its query as :func:`urlencode` writes it, and the query's keys."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    return parts, urlencode(query), frozenset(key for key, _ in query)


#: The same few links are tagged for every entry and platform: each is read once.
_split_query = functools.lru_cache(maxsize=1024)(_query_of)


@functools.lru_cache(maxsize=4096)
def tagged(url: str, source: str, campaign: str, content: str) -> str:
    """:func:`utm` of a post's link, kept: it is tagged for the template and for the post."""
    return utm(url, source, "social", campaign, content)


def hashtags(tags: Iterable[str]) -> str:
    """``["open source", "release"]`` → ``"#OpenSource #release"``."""
    rendered = []
    for tag in tags:
        words = _TAG_WORD.findall(str(tag))
        if not words:
            continue
        joined = words[0] if len(words) == 1 else "".join(w[:1].upper() + w[1:] for w in words)
        rendered.append(f"#{joined}")
    return " ".join(rendered)
