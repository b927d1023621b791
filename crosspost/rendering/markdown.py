"""Markdown bodies rendered for each output form a connector declares.

The body is parsed once with markdown-it-py (CommonMark, plus ``~~strikethrough~~``),
then written by one writer per :class:`TextFormat`:

- ``plain``: emphasis dropped, lists as ``•``/``1.`` lines, headings as their text on a
  line of their own, links as ``text (url)`` (the bare URL when the text is the URL),
  images as ``alt (url)`` (dropped without alt text), code as written.
- ``rich``: as ``plain``, but a link shows only its text and carries its URL as a
  :class:`LinkSpan`, which the connector turns into a link (a Bluesky facet).
- ``html``: the tags the connector accepts (``html_tags``), everything else escaped.
- ``slack``: Slack mrkdwn (``*bold*``, ``<url|text>``, ``&``, ``<``, ``>`` escaped).
- ``discord``: Discord Markdown (``**bold**``, ``[text](url)``, punctuation escaped).
- ``markdown``: the source, unchanged.

Raw HTML written in the Markdown is dropped in every form but ``markdown``: it never
reaches a platform as markup it did not ask for.

A link (or ``text (url)``) is written between private-use marks so that, after the
template has placed the body, thread splitting can keep it whole and the rich form
can find its URL; :func:`crosspost.rendering.markup.unmark` removes the marks.

This module parses and holds the entry points; the forms and marks are declared in
:mod:`crosspost.rendering.markdown_forms`, the writers live in
:mod:`crosspost.rendering.markdown_plain` (plain, rich, and the base of the others),
:mod:`crosspost.rendering.markdown_html` and :mod:`crosspost.rendering.markdown_chat`
(Slack, Discord).
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it.tree import SyntaxTreeNode

from crosspost.rendering.markdown_chat import DiscordWriter, SlackWriter
from crosspost.rendering.markdown_forms import OutputForm, TextFormat, without_marks
from crosspost.rendering.markdown_html import HtmlWriter
from crosspost.rendering.markdown_plain import PlainWriter, RichWriter, parser

__all__ = [
    "Formatted",
    "escape_for",
    "first_paragraph",
    "render_markdown",
]

_WRITERS: dict[TextFormat, type[PlainWriter]] = {
    TextFormat.PLAIN: PlainWriter,
    TextFormat.RICH: RichWriter,
    TextFormat.HTML: HtmlWriter,
    TextFormat.SLACK: SlackWriter,
    TextFormat.DISCORD: DiscordWriter,
}


def _tree(source: str) -> SyntaxTreeNode:
    return SyntaxTreeNode(parser().parse(without_marks(source)))


# Pure functions of their arguments, asked again for every account and occurrence of a
# post: a project of thousands of entries renders each body once per form.
@lru_cache(maxsize=4096)
def render_markdown(source: str, form: OutputForm) -> str:
    """``source`` (Markdown) written in ``form``."""
    if form.format is TextFormat.MARKDOWN:
        return without_marks(source)
    writer = _WRITERS[form.format](form.html_tags)
    return writer.blocks(_tree(source).children).strip()


@lru_cache(maxsize=4096)
def first_paragraph(source: str) -> str:
    """The Markdown source of the first paragraph of ``source``, or ``""``."""
    tokens = parser().parse(without_marks(source))
    lines = without_marks(source).splitlines()
    for token in tokens:
        if token.type == "paragraph_open" and token.map:
            start, end = token.map
            return "\n".join(lines[start:end]).strip()
    return ""


def escape_for(form: OutputForm, value: str) -> str:
    """A template value that is not the body, made safe to place in ``form``."""
    value = without_marks(value)
    writer_class = _WRITERS.get(form.format)
    return writer_class(form.html_tags).escape(value) if writer_class else value


class Formatted(str):
    """Text already written in the target's form (the body): templates place it as is."""

    __slots__ = ()
