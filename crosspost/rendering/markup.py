"""Rendered text after the template: marks taken out, HTML read back, threads cut.

Thread splitting works on what a reader sees. For most forms that is the text
itself, once the marks :mod:`crosspost.rendering.markdown` put around links are taken out
(they become ranges the splitter keeps whole). For HTML it is the text after
entity parsing: the HTML is read back into visible text and tag spans, the text
is cut, and every part is written again with its tags closed and reopened.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crosspost.rendering.markdown_forms import MARK_END, MARK_START, MARK_URL, LinkSpan
from crosspost.rendering.text import thread_parts

if TYPE_CHECKING:  # made when HTML is read back, which most projects never cut
    from crosspost.rendering.html_reader import TagSpan

__all__ = [
    "Marked",
    "VOID",
    "located_parts",
    "read_html",
    "split_html",
    "split_marked",
    "thread_ranges",
    "unmark",
    "visible_text",
    "write_html",
]

Measure = Callable[[str], int]
#: Elements that have no end tag.
VOID = frozenset({"br", "hr", "img"})
_COUNTER = re.compile(r"\n\n(\d+)/(\d+)$")


@dataclass(frozen=True)
class Marked:
    """Text without its marks: the ranges to keep whole, and the links among them."""

    text: str
    whole: tuple[tuple[int, int], ...] = ()
    links: tuple[LinkSpan, ...] = ()


def unmark(text: str) -> Marked:
    """``text`` without marks; a mark left unclosed (a template cut it) is dropped."""
    out: list[str] = []
    whole: list[tuple[int, int]] = []
    links: list[LinkSpan] = []
    position = 0
    for match in re.finditer(f"{MARK_START}([^{MARK_START}{MARK_END}]*){MARK_END}", text):
        out.append(_strip_marks(text[position : match.start()]))
        shown, _, url = match[1].partition(MARK_URL)
        start = sum(map(len, out))
        out.append(shown)
        whole.append((start, start + len(shown)))
        if url:
            links.append(LinkSpan(start, start + len(shown), url))
        position = match.end()
    out.append(_strip_marks(text[position:]))
    return Marked("".join(out), tuple(whole), tuple(links))


def _strip_marks(text: str) -> str:
    return re.sub(f"[{MARK_START}{MARK_URL}{MARK_END}]", "", text)


def split_marked(
    marked: Marked, limit: int, measure: Measure, *, numbering: bool
) -> list[tuple[str, tuple[LinkSpan, ...]]]:
    """The posts of a thread for ``marked``, each with its links (offsets in that post)."""
    return located_parts(marked, *thread_ranges(marked, limit, measure, numbering=numbering))


def thread_ranges(
    marked: Marked, limit: int, measure: Measure, *, numbering: bool
) -> tuple[list[tuple[int, int]], bool]:
    """Where each post of the thread for ``marked`` lies in its text, without its ``n/m``
    counter, and whether the posts carry counters."""
    parts = thread_parts(
        marked.text, limit, measure, numbering=numbering, unbreakable=list(marked.whole)
    )
    numbered = _numbered(marked.text, limit, measure, numbering)
    return _locate(marked.text, parts, numbered), numbered


def located_parts(
    marked: Marked, ranges: list[tuple[int, int]], numbered: bool
) -> list[tuple[str, tuple[LinkSpan, ...]]]:
    """The posts at ``ranges`` of ``marked`` (numbered ``n/m`` when ``numbered``), each with
    its links (offsets in that post)."""
    located = []
    for number, (start, end) in enumerate(ranges, start=1):
        counter = f"\n\n{number}/{len(ranges)}" if numbered else ""
        links = tuple(
            LinkSpan(link.start - start, link.end - start, link.url)
            for link in marked.links
            if start <= link.start and link.end <= end
        )
        located.append((marked.text[start:end] + counter, links))
    return located


def _numbered(text: str, limit: int, measure: Measure, numbering: bool) -> bool:
    """Whether :func:`thread_parts` puts an ``n/m`` counter on the parts of ``text``: on
    every part of a text too long, even one alone (a URL longer than the limit)."""
    return numbering and measure(text.strip()) > limit


def _locate(text: str, parts: list[str], numbered: bool) -> list[tuple[int, int]]:
    """Where each part (without its ``n/m`` counter) lies in ``text``, in order."""
    ranges = []
    cursor = 0
    for part in parts:
        body = _COUNTER.sub("", part) if numbered else part
        start = text.find(body, cursor)
        if start < 0:  # cannot happen: parts are stripped slices of the text
            raise ValueError("a thread part is not a slice of its text")
        ranges.append((start, start + len(body)))
        cursor = start + len(body)
    return ranges


# --------------------------------------------------------------------------- HTML


def read_html(text: str) -> tuple[str, list[TagSpan]]:
    """The visible text of ``text`` and the elements over it, in document order."""
    # html.parser and its patterns are imported for HTML only: most projects never cut any.
    from crosspost.rendering.html_reader import read_html as read

    return read(text)


def visible_text(text: str) -> str:
    """What a reader sees of ``text`` (HTML): tags gone, entities decoded."""
    return read_html(text)[0]


def write_html(text: str, spans: list[TagSpan], start: int, end: int) -> str:
    """``text[start:end]`` as HTML, with the elements that overlap it cut to fit."""
    from crosspost.rendering.html_reader import TagSpan  # loaded: ``spans`` were read with it

    out: list[str] = []
    stack: list[TagSpan] = []
    inside = [s for s in spans if s.start < end and s.end > start or _void_in(s, start, end)]
    position = start
    for span in inside + [TagSpan("", end, end)]:
        at = max(span.start, start)
        while stack and min(stack[-1].end, end) <= at:
            closed = stack.pop()
            closing = min(closed.end, end)
            out.append(_escape(text[position:closing]) + f"</{closed.tag}>")
            position = closing
        out.append(_escape(text[position:at]))
        position = at
        if span.tag:
            out.append(_open_tag(span))
            if span.tag not in VOID:
                stack.append(span)
    return "".join(out)


def _void_in(span: TagSpan, start: int, end: int) -> bool:
    return span.tag in VOID and start <= span.start < end


def _open_tag(span: TagSpan) -> str:
    attributes = "".join(
        f' {name}="{html.escape(value)}"' if value is not None else f" {name}"
        for name, value in span.attributes
    )
    return f"<{span.tag}{attributes}>"


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def split_html(text: str, limit: int, measure: Measure, *, numbering: bool) -> list[str]:
    """The posts of a thread for ``text`` (HTML), cut on the visible text, tags kept valid.

    ``measure`` counts an HTML text; a link's text is never cut.
    """
    visible, spans = read_html(text)
    links = [(s.start, s.end) for s in spans if s.tag == "a" and s.end > s.start]
    parts = thread_parts(
        visible,
        limit,
        lambda piece: measure(_escape(piece)),
        numbering=numbering,
        unbreakable=links,
    )
    numbered = _numbered(visible, limit, lambda piece: measure(_escape(piece)), numbering)
    written = []
    for part, (start, end) in zip(parts, _locate(visible, parts, numbered), strict=True):
        counter = _COUNTER.search(part) if numbered else None
        written.append(write_html(visible, spans, start, end) + (counter[0] if counter else ""))
    return written
