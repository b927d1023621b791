"""What Instagram accepts in a caption: 2,200 characters, 30 hashtags, 20 @ tags.

From the ``POST /{ig-user-id}/media`` reference ("Maximum 2200 characters, 30
hashtags, and 20 @ tags"); over these the container is refused.
"""

from __future__ import annotations

from crosspost.rendering.text import find_hashtags, find_mentions

__all__ = ["MAX_CAPTION", "MAX_HASHTAGS", "MAX_MENTIONS", "caption_problems"]

MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20


def caption_problems(caption: str) -> list[str]:
    """Too many hashtags or @ tags in ``caption`` (the length is checked as text)."""
    problems = []
    hashtags = len(find_hashtags(caption))
    if hashtags > MAX_HASHTAGS:
        problems.append(
            f"the caption has {hashtags} hashtags (at most {MAX_HASHTAGS} on Instagram)"
        )
    mentions = len(find_mentions(caption))
    if mentions > MAX_MENTIONS:
        problems.append(f"the caption has {mentions} @ tags (at most {MAX_MENTIONS} on Instagram)")
    return problems
