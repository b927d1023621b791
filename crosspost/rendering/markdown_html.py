"""The HTML writer of a Markdown body: the connector's subset of tags, the rest escaped.

A connector that takes HTML declares the tags it accepts (``html_tags``: the inline
ones of a chat, or the block ones of a feed, e-mail or blog). What the subset lacks
falls back to the plain writing of :class:`~crosspost.rendering.markdown_plain.PlainWriter`:
a heading without ``<h2>`` becomes ``<b>``, a list without ``<ul>`` becomes ``•`` lines,
a link without ``<a>`` becomes ``text (url)``.
"""

from __future__ import annotations

import html

from markdown_it.tree import SyntaxTreeNode

from crosspost.rendering.markdown_plain import PlainWriter

__all__ = ["HtmlWriter"]


class HtmlWriter(PlainWriter):
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
