"""Reading HTML back into visible text and the elements over it (see :mod:`.markup`).

A module of its own so that :mod:`html.parser` is imported only when HTML is cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from crosspost.rendering.markup import VOID

__all__ = ["TagSpan", "read_html"]


@dataclass
class TagSpan:
    """One element over ``text[start:end]`` of the visible text, with its attributes."""

    tag: str
    start: int
    end: int = -1
    attributes: list[tuple[str, str | None]] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.size = 0
        self.spans: list[TagSpan] = []
        self.open: list[TagSpan] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        span = TagSpan(tag, self.size, attributes=attrs)
        self.spans.append(span)
        if tag in VOID:
            span.end = self.size
        else:
            self.open.append(span)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                for span in self.open[index:]:
                    span.end = self.size
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)
        self.size += len(data)


def read_html(text: str) -> tuple[str, list[TagSpan]]:
    """The visible text of ``text`` and the elements over it, in document order."""
    reader = _Reader()
    reader.feed(text)
    reader.close()
    for span in reader.open:
        span.end = reader.size
    return "".join(reader.chunks), reader.spans
