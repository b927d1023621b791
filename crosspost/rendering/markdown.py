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
"""

from __future__ import annotations

import enum
import html
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Protocol, runtime_checkable

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from crosspost.rendering.text import find_urls

__all__ = [
    "BLOCK_HTML_TAGS",
    "DeclaresAlternativeFormat",
    "DeclaresHtmlTags",
    "DeclaresTextFormat",
    "Formatted",
    "INLINE_HTML_TAGS",
    "LinkSpan",
    "MARK_END",
    "MARK_START",
    "MARK_URL",
    "OutputForm",
    "TextFormat",
    "alternative_form_of",
    "escape_for",
    "first_paragraph",
    "form_of",
    "render_markdown",
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


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("strikethrough")


def _tree(source: str) -> SyntaxTreeNode:
    return SyntaxTreeNode(_parser().parse(source.translate(_MARKS)))


# Pure functions of their arguments, asked again for every account and occurrence of a
# post: a project of thousands of entries renders each body once per form.
@lru_cache(maxsize=4096)
def render_markdown(source: str, form: OutputForm) -> str:
    """``source`` (Markdown) written in ``form``."""
    if form.format is TextFormat.MARKDOWN:
        return source.translate(_MARKS)
    writer = _WRITERS[form.format](form.html_tags)
    return writer.blocks(_tree(source).children).strip()


@lru_cache(maxsize=4096)
def first_paragraph(source: str) -> str:
    """The Markdown source of the first paragraph of ``source``, or ``""``."""
    tokens = _parser().parse(source.translate(_MARKS))
    lines = source.translate(_MARKS).splitlines()
    for token in tokens:
        if token.type == "paragraph_open" and token.map:
            start, end = token.map
            return "\n".join(lines[start:end]).strip()
    return ""


def escape_for(form: OutputForm, value: str) -> str:
    """A template value that is not the body, made safe to place in ``form``."""
    value = value.translate(_MARKS)
    writer_class = _WRITERS.get(form.format)
    return writer_class(form.html_tags).escape(value) if writer_class else value


def _mark(shown: str, url: str | None = None) -> str:
    """``shown`` kept whole by the splitter, linking to ``url`` in the rich form."""
    tail = f"{MARK_URL}{url}" if url else ""
    return f"{MARK_START}{shown}{tail}{MARK_END}"


# --------------------------------------------------------------------------- writers


class _PlainWriter:
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
        if _same_address(plain_text, url):
            return _mark(self.escape(_readable(url).removeprefix("mailto:")))
        return _mark(f"{text} ({self.escape(_readable(url))})")

    def image(self, alt: str, url: str) -> str:
        return _mark(f"{self.escape(alt)} ({self.escape(_readable(url))})") if alt.strip() else ""


class _RichWriter(_PlainWriter):
    """Plain text whose links carry their URL in marks (see :func:`_mark`)."""

    def link(self, text: str, url: str, plain_text: str) -> str:
        if _same_address(plain_text, url):
            return _mark(_readable(url).removeprefix("mailto:"), url)
        return _mark(text, url)


class _HtmlWriter(_PlainWriter):
    """The connector's HTML subset; what it lacks falls back to the plain writing."""

    def __init__(self, tags: frozenset[str]) -> None:
        super().__init__(tags)
        self.block_separator = "\n" if "p" in tags else "\n\n"

    def _wrap(self, tag: str, text: str, attributes: str = "") -> str:
        return f"<{tag}{attributes}>{text}</{tag}>" if tag in self.tags else text

    def paragraph(self, text: str) -> str:
        return self._wrap("p", text)

    def heading(self, level: int, text: str) -> str:
        tag = f"h{level}"
        return self._wrap(tag, text) if tag in self.tags else self._wrap("b", text)

    def item(self, node: SyntaxTreeNode) -> str:
        return self._wrap("li", self.blocks(node.children, "\n"))

    def listing(self, items: list[str], start: int | None) -> str:
        tag = "ul" if start is None else "ol"
        if tag not in self.tags:
            return super().listing(items, start)
        first = f' start="{start}"' if start not in (None, 1) else ""
        return f"<{tag}{first}>" + "".join(items) + f"</{tag}>"

    def quote(self, text: str) -> str:
        return self._wrap("blockquote", text) if "blockquote" in self.tags else super().quote(text)

    def pre(self, code: str, language: str) -> str:
        if "pre" not in self.tags:
            return self.escape(code)
        language_class = f' class="language-{html.escape(language)}"' if language else ""
        return f"<pre><code{language_class}>{self.escape(code)}</code></pre>"

    def rule(self) -> str:
        return "<hr>" if "hr" in self.tags else super().rule()

    def escape(self, text: str) -> str:
        return html.escape(text, quote=False)

    def line_break(self, *, hard: bool) -> str:
        return "<br>\n" if hard and "br" in self.tags else "\n"

    def emphasis(self, kind: str, text: str) -> str:
        return self._wrap({"em": "i", "strong": "b", "s": "s"}[kind], text)

    def code(self, code: str) -> str:
        return self._wrap("code", self.escape(code))

    def link(self, text: str, url: str, plain_text: str) -> str:
        if "a" not in self.tags:
            return super().link(text, url, plain_text)
        return f'<a href="{html.escape(url)}">{text}</a>'

    def image(self, alt: str, url: str) -> str:
        if "img" in self.tags:
            return f'<img src="{html.escape(url)}" alt="{html.escape(alt)}">'
        return super().image(alt, url)


class _SlackWriter(_PlainWriter):
    """Slack mrkdwn: no backslash escapes exist, only ``&``, ``<`` and ``>`` as entities."""

    def heading(self, level: int, text: str) -> str:
        return f"*{text}*"

    def pre(self, code: str, language: str) -> str:
        return f"```{self.escape(code)}```"

    def escape(self, text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def emphasis(self, kind: str, text: str) -> str:
        marker = {"em": "_", "strong": "*", "s": "~"}[kind]
        return f"{marker}{text}{marker}"

    def code(self, code: str) -> str:
        return f"`{self.escape(code)}`"

    def link(self, text: str, url: str, plain_text: str) -> str:
        safe = self.escape(_percent(url, "|<>"))
        return _mark(f"<{safe}>" if _same_address(plain_text, url) else f"<{safe}|{text}>")

    def image(self, alt: str, url: str) -> str:
        return self.link(self.escape(alt), url, alt) if alt.strip() else ""


class _DiscordWriter(_PlainWriter):
    """Discord Markdown: ``#``–``###`` headings, masked links, backslash escapes."""

    bullet = "-"

    def heading(self, level: int, text: str) -> str:
        return f"{'#' * level} {text}" if level <= 3 else f"**{text}**"

    def pre(self, code: str, language: str) -> str:
        fence = "```" if "```" not in code else "````"
        return f"{fence}{language}\n{code}\n{fence}"

    def escape(self, text: str) -> str:
        pieces, last = [], 0
        for url in find_urls(text):  # a backslash inside a URL would break it
            pieces.append(_backslashed(text[last : url.start]) + url.text)
            last = url.end
        return "".join(pieces) + _backslashed(text[last:])

    def emphasis(self, kind: str, text: str) -> str:
        marker = {"em": "*", "strong": "**", "s": "~~"}[kind]
        return f"{marker}{text}{marker}"

    def code(self, code: str) -> str:
        fence = "``" if "`" in code else "`"
        return f"{fence}{code}{fence}" if fence == "`" else f"{fence} {code} {fence}"

    def link(self, text: str, url: str, plain_text: str) -> str:
        if _same_address(plain_text, url):
            return _mark(url)
        return _mark(f"[{text}]({_percent(url, '()<> ')})")

    def image(self, alt: str, url: str) -> str:
        return self.link(self.escape(alt), url, alt) if alt.strip() else ""


_WRITERS: dict[TextFormat, type[_PlainWriter]] = {
    TextFormat.PLAIN: _PlainWriter,
    TextFormat.RICH: _RichWriter,
    TextFormat.HTML: _HtmlWriter,
    TextFormat.SLACK: _SlackWriter,
    TextFormat.DISCORD: _DiscordWriter,
}

_DISCORD_SPECIAL = re.compile(r"([\\*_~`|\[\]])")
#: Only special where a line starts: quotes, headings, list items.
_DISCORD_LINE_START = re.compile(r"(?m)^(\s*)([>#+-]|\d+\.)")


def _backslashed(text: str) -> str:
    text = _DISCORD_SPECIAL.sub(r"\\\1", text)
    return _DISCORD_LINE_START.sub(lambda m: m[1] + "\\" + m[2], text)


def _percent(url: str, characters: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in characters else c for c in url)


def _plain(node: SyntaxTreeNode) -> str:
    """The text of an inline node, without any formatting."""
    if node.type in ("text", "code_inline"):
        return node.content
    return "".join(_plain(child) for child in node.children)


def _same_address(text: str, url: str) -> bool:
    """An autolink (``<https://…>``, ``<a@b.org>``) or a link whose text is its URL."""
    readable = _readable(url)
    return text in (url, readable, readable.removeprefix("mailto:"))


def _readable(url: str) -> str:
    """``url`` as a person reads it (``%D1%81`` shown as ``с``), for plain text."""
    return str(_parser().normalizeLinkText(url))


class Formatted(str):
    """Text already written in the target's form (the body): templates place it as is."""

    __slots__ = ()
