"""The writers of a Markdown body for chats with a dialect of their own: Slack, Discord.

- Slack mrkdwn: ``*bold*``, ``<url|text>``; it has no backslash escapes, so only ``&``,
  ``<`` and ``>`` are escaped, as entities.
- Discord Markdown: ``**bold**``, ``#``–``###`` headings, ``[text](url)``; punctuation
  is escaped with backslashes, except inside a URL, where one would break it.

Both change :class:`~crosspost.rendering.markdown_plain.PlainWriter` piece by piece.
"""

from __future__ import annotations

import re

from crosspost.rendering.markdown_plain import PlainWriter, mark, same_address
from crosspost.rendering.text import find_urls

__all__ = ["DiscordWriter", "SlackWriter"]


class SlackWriter(PlainWriter):
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
        return mark(f"<{safe}>" if same_address(plain_text, url) else f"<{safe}|{text}>")

    def image(self, alt: str, url: str) -> str:
        return self.link(self.escape(alt), url, alt) if alt.strip() else ""


class DiscordWriter(PlainWriter):
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
        if same_address(plain_text, url):
            return mark(url)
        return mark(f"[{text}]({_percent(url, '()<> ')})")

    def image(self, alt: str, url: str) -> str:
        return self.link(self.escape(alt), url, alt) if alt.strip() else ""


_DISCORD_SPECIAL = re.compile(r"([\\*_~`|\[\]])")
#: Only special where a line starts: quotes, headings, list items.
_DISCORD_LINE_START = re.compile(r"(?m)^(\s*)([>#+-]|\d+\.)")


def _backslashed(text: str) -> str:
    text = _DISCORD_SPECIAL.sub(r"\\\1", text)
    return _DISCORD_LINE_START.sub(lambda m: m[1] + "\\" + m[2], text)


def _percent(url: str, characters: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in characters else c for c in url)
