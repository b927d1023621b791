"""The plain and rich writers of a Markdown body, and the pieces every writer shares.

:class:`PlainWriter` walks the tree markdown-it-py parsed (see
:mod:`crosspost.rendering.markdown`) and writes plain text: emphasis dropped, lists as
``•``/``1.`` lines, headings as their text on a line of their own, links as
``text (url)`` (the bare URL when the text is the URL), images as ``alt (url)``
(dropped without alt text), code as written. It is the base the other forms' writers
(:mod:`crosspost.rendering.markdown_html`, :mod:`crosspost.rendering.markdown_chat`)
change piece by piece. :class:`RichWriter` shows only a link's text and carries its URL
in the marks, for the connector to make a link (a Bluesky facet).

A link (or ``text (url)``) is written between private-use marks (:func:`mark`) so that
thread splitting can keep it whole and the rich form can find its URL.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from crosspost.rendering.markdown_forms import MARK_END, MARK_START, MARK_URL

__all__ = ["PlainWriter", "RichWriter", "mark", "parser", "same_address"]


@cache
def parser() -> MarkdownIt:
    """The one CommonMark parser (plus ``~~strikethrough~~``) bodies are read with."""
    return MarkdownIt("commonmark").enable("strikethrough")


def mark(shown: str, url: str | None = None) -> str:
    """``shown`` kept whole by the splitter, linking to ``url`` in the rich form."""
    tail = f"{MARK_URL}{url}" if url else ""
    return f"{MARK_START}{shown}{tail}{MARK_END}"


def same_address(text: str, url: str) -> bool:
    """An autolink (``<https://…>``, ``<a@b.org>``) or a link whose text is its URL."""
    shown = _readable(url)
    return text in (url, shown, shown.removeprefix("mailto:"))


def _readable(url: str) -> str:
    """``url`` as a person reads it (``%D1%81`` shown as ``с``), for plain text."""
    return str(parser().normalizeLinkText(url))


def _plain(node: SyntaxTreeNode) -> str:
    """The text of an inline node, without any formatting."""
    if node.type in ("text", "code_inline"):
        return node.content
    return "".join(_plain(child) for child in node.children)


class PlainWriter:
    """Plain text; the base the other writers change piece by piece."""

    block_separator = "\n\n"
    bullet = "•"

    def __init__(self, tags: frozenset[str]) -> None:
        self.tags = tags

    # -- blocks ---------------------------------------------------------------

    def blocks(self, nodes: list[SyntaxTreeNode], separator: str | None = None) -> str:
        written = (self.block(node) for node in nodes)
        return (separator or self.block_separator).join(part for part in written if part)

    def block(self, node: SyntaxTreeNode) -> str:
        kind = node.type
        if kind == "paragraph":  # hidden: an item of a tight list, no paragraph of its own
            text = self.inline(node)
            return text if node.hidden else self.paragraph(text)
        if kind == "heading":
            return self.heading(int(node.tag[1:]), self.inline(node))
        if kind in ("bullet_list", "ordered_list"):
            start = int(str(node.attrs.get("start", 1))) if kind == "ordered_list" else None
            return self.listing([self.item(child) for child in node.children], start)
        if kind == "blockquote":
            return self.quote(self.blocks(node.children))
        if kind in ("code_block", "fence"):
            return self.pre(node.content.rstrip("\n"), node.info.strip())
        if kind == "hr":
            return self.rule()
        return ""  # html_block: raw HTML is never passed on

    def item(self, node: SyntaxTreeNode) -> str:
        return self.blocks(node.children, "\n")

    def paragraph(self, text: str) -> str:
        return text

    def heading(self, level: int, text: str) -> str:
        return text

    def listing(self, items: list[str], start: int | None) -> str:
        lines = []
        for number, text in enumerate(items, start=start or 1):
            bullet = self.bullet if start is None else f"{number}."
            lines.append(f"{bullet} " + text.replace("\n", "\n" + " " * (len(bullet) + 1)))
        return "\n".join(lines)

    def quote(self, text: str) -> str:
        return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())

    def pre(self, code: str, language: str) -> str:
        return code

    def rule(self) -> str:
        return "———"

    # -- inline ---------------------------------------------------------------

    def inline(self, node: SyntaxTreeNode) -> str:
        return "".join(self.span(child) for child in node.children)

    def span(self, node: SyntaxTreeNode) -> str:
        kind = node.type
        if kind == "inline":
            return self.inline(node)
        if kind == "text":
            return self.escape(node.content)
        if kind in ("softbreak", "hardbreak"):
            return self.line_break(hard=kind == "hardbreak")
        if kind in ("em", "strong", "s"):
            return self.emphasis(kind, self.inline(node))
        if kind == "code_inline":
            return self.code(node.content)
        if kind == "link":
            return self.link(self.inline(node), str(node.attrs["href"]), _plain(node))
        if kind == "image":
            return self.image(_plain(node), str(node.attrs["src"]))
        return ""  # html_inline: the tag goes, the text around it stays

    def escape(self, text: str) -> str:
        return text

    def line_break(self, *, hard: bool) -> str:
        return "\n"

    def emphasis(self, kind: str, text: str) -> str:
        return text

    def code(self, code: str) -> str:
        return code

    def link(self, text: str, url: str, plain_text: str) -> str:
        if same_address(plain_text, url):
            return mark(self.escape(_readable(url).removeprefix("mailto:")))
        return mark(f"{text} ({self.escape(_readable(url))})")

    def image(self, alt: str, url: str) -> str:
        return mark(f"{self.escape(alt)} ({self.escape(_readable(url))})") if alt.strip() else ""


class RichWriter(PlainWriter):
    """Plain text whose links carry their URL in marks (see :func:`mark`)."""

    def link(self, text: str, url: str, plain_text: str) -> str:
        if same_address(plain_text, url):
            return mark(_readable(url).removeprefix("mailto:"), url)
        return mark(text, url)
