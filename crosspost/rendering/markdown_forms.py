"""The output forms a connector declares, and the marks links are written between.

A connector says which form its text takes (``text_format``, a :class:`TextFormat`),
for HTML which tags it accepts (``html_tags``), and optionally a second form
(``alternative_format``); :func:`form_of` and :func:`alternative_form_of` read those
declarations into an :class:`OutputForm`. The writers of
:mod:`crosspost.rendering.markdown` put links between the private-use marks defined
here; :func:`crosspost.rendering.markup.unmark` reads them back as :class:`LinkSpan` ranges.

Nothing here parses Markdown, so a connector can declare its form without importing
markdown-it-py.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "BLOCK_HTML_TAGS",
    "DeclaresAlternativeFormat",
    "DeclaresHtmlTags",
    "DeclaresTextFormat",
    "INLINE_HTML_TAGS",
    "LinkSpan",
    "MARK_END",
    "MARK_START",
    "MARK_URL",
    "OutputForm",
    "TextFormat",
    "alternative_form_of",
    "form_of",
    "without_marks",
]

#: Opens a kept-whole range; ``MARK_URL`` then the URL may come before ``MARK_END``.
MARK_START, MARK_URL, MARK_END = "\ue000", "\ue001", "\ue002"
_MARKS = str.maketrans("", "", MARK_START + MARK_URL + MARK_END)

#: Inline formatting only: what a chat that takes "HTML" accepts (no ``<p>``, no lists).
INLINE_HTML_TAGS = frozenset({"b", "i", "u", "s", "a", "code", "pre", "blockquote"})
#: Full documents (feeds, e-mail, blogs): block structure as HTML.
BLOCK_HTML_TAGS = INLINE_HTML_TAGS | frozenset(
    {"p", "br", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img"}
)


def without_marks(text: str) -> str:
    """``text`` with every mark character taken out: a source cannot forge a link range."""
    return text.translate(_MARKS)


class TextFormat(enum.StrEnum):
    """The form a connector's text must take; it declares one as ``text_format``."""

    #: Text as a reader sees it; links spelt out as ``text (url)``.
    PLAIN = "plain"
    #: Text plus link spans (the connector makes them links, e.g. facets).
    RICH = "rich"
    #: An HTML subset: the connector's ``html_tags``.
    HTML = "html"
    #: Slack mrkdwn.
    SLACK = "slack"
    #: Discord's Markdown dialect.
    DISCORD = "discord"
    #: Markdown, kept as written.
    MARKDOWN = "markdown"


@dataclass(frozen=True)
class OutputForm:
    """What a connector takes: a text format and, for HTML, the tags it accepts."""

    format: TextFormat = TextFormat.PLAIN
    html_tags: frozenset[str] = INLINE_HTML_TAGS


@dataclass(frozen=True)
class LinkSpan:
    """A link over ``text[start:end]`` (code point offsets) of one post."""

    start: int
    end: int
    url: str


@runtime_checkable
class DeclaresTextFormat(Protocol):
    """A connector that says which form its text takes (plain when it does not)."""

    text_format: TextFormat


@runtime_checkable
class DeclaresHtmlTags(Protocol):
    """A connector that says which HTML tags it accepts (the inline ones when it does not)."""

    html_tags: frozenset[str]


def form_of(connector: object) -> OutputForm:
    """The form ``connector`` declares (``text_format``, ``html_tags``); plain by default."""
    declared = TextFormat.PLAIN
    if isinstance(connector, DeclaresTextFormat):
        declared = TextFormat(connector.text_format)
    tags = connector.html_tags if isinstance(connector, DeclaresHtmlTags) else INLINE_HTML_TAGS
    return OutputForm(declared, frozenset(tags))


@runtime_checkable
class DeclaresAlternativeFormat(Protocol):
    """A connector that takes its text in a second form too (e-mail: plain beside HTML)."""

    alternative_format: TextFormat | None


def alternative_form_of(connector: object) -> OutputForm | None:
    """The second form ``connector`` declares (``alternative_format``), or None."""
    if not isinstance(connector, DeclaresAlternativeFormat):
        return None
    if connector.alternative_format is None:
        return None
    tags = connector.html_tags if isinstance(connector, DeclaresHtmlTags) else ()
    return OutputForm(TextFormat(connector.alternative_format), frozenset(tags))
