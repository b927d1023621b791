"""How Threads counts a post: 500 characters, where an emoji counts its UTF-8 bytes.

From the Threads posts page: "Text posts are limited to 500 characters. Emojis are
counted as the number of UTF-8 bytes" (linking the grapheme-splitter library, so a
character is a grapheme cluster). A post may carry at most 5 distinct links.
"""

from __future__ import annotations

import regex

from crosspost.rendering.text import find_urls, iter_graphemes

__all__ = ["MAX_LINKS", "distinct_links", "threads_length"]

#: Links per post (``THREADS_API__LINK_LIMIT_EXCEEDED`` beyond, since 2025-12-22).
MAX_LINKS = 5
#: A cluster is an emoji when it has a pictograph, a flag letter or a keycap/emoji selector.
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3\ufe0f]")


def threads_length(text: str) -> int:
    """Grapheme clusters, each emoji cluster counted as its UTF-8 bytes (``👍`` is 4)."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    return sum(
        len(cluster.encode("utf-8")) if _EMOJI.search(cluster) else 1
        for cluster in iter_graphemes(text)
    )


def distinct_links(text: str, attachment: str | None = None) -> int:
    """Unique URLs in ``text``, plus a link attachment that is not one of them."""
    links = {span.text for span in find_urls(text)}
    if attachment:
        links.add(attachment)
    return len(links)
