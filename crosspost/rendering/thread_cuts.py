"""Cutting a rendered text into the posts of a thread, once per text and counting rules.

A text longer than the platform takes is cut into a thread when the target allows
threads and the connector declares ``Capability.THREADS``; otherwise it goes out whole
(and the platform's check reports it). Cutting a long text is the dearest step of
rendering, and a project posts the same text to many accounts that count alike:
:class:`ThreadCuts` makes each cut once per counting rules (the connector's
``counting_key``; without one, once per connector), and shares it with texts that differ
only inside their URLs where the connector declares how it counts URLs
(:mod:`crosspost.rendering.shared_cuts`).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from connectors.base import Capability, Connector
from crosspost.loading.content_item import ContentItem
from crosspost.rendering.markdown_forms import LinkSpan, OutputForm, TextFormat
from crosspost.rendering.markup import Marked, split_html, split_marked
from crosspost.rendering.shared_cuts import SharedCuts
from crosspost.rendering.target import Target

__all__ = ["ThreadCuts"]

#: Cut threads kept per renderer (a bound for long-lived daemons).
_MAX_SPLITS = 10_000

#: The posts of a thread, and the links of each (rich text only).
_Cut = tuple[list[str], tuple[tuple[LinkSpan, ...], ...]]


class ThreadCuts:
    """The threads cut so far, by text, limit and counting rules."""

    def __init__(self) -> None:
        self._splits: dict[tuple[Any, ...], _Cut] = {}
        #: Cuts shared by texts that differ only inside their URLs (see :meth:`_cut`).
        self._shared = SharedCuts()

    def split(
        self,
        marked: Marked,
        item: ContentItem,
        target: Target,
        connector: Connector,
        form: OutputForm,
        *,
        split: bool = True,
    ) -> _Cut:
        """The posts of the thread, and the links of each (rich text only).

        ``split``: False for a text that goes out whole whatever its length (an article).
        """
        limit = _text_limit(item, target, connector) if split else None
        rules = getattr(connector, "counting_key", None) or connector.measure
        key = (marked, limit, target.numbering, form, rules)
        if key not in self._splits:
            if len(self._splits) >= _MAX_SPLITS:
                self._splits.clear()
            self._splits[key] = self._cut(marked, limit, connector, target, (form, rules))
        parts, links = self._splits[key]
        return list(parts), links

    def _cut(
        self,
        marked: Marked,
        limit: int | None,
        connector: Connector,
        target: Target,
        rules: tuple[OutputForm, Hashable],
    ) -> _Cut:
        """The cut of ``marked``; shared with texts that differ only inside their URLs where
        the connector declares how it counts URLs (:mod:`crosspost.rendering.shared_cuts`)."""
        measure, numbering = connector.measure, target.numbering
        if rules[0].format is TextFormat.HTML:  # HTML is cut on its visible text, <a> kept whole
            if limit is None or measure(marked.text) <= limit:
                return [marked.text], ((),)
            return split_html(marked.text, limit, measure, numbering=numbering), ()
        if limit is None or measure(marked.text) <= limit:
            return [marked.text], (marked.links,)
        from crosspost.rendering.urls import UrlCounting  # only texts cut look for URLs

        counting = getattr(connector, "url_counting", None)
        located = None
        if isinstance(counting, UrlCounting):
            located = self._shared.split(marked, limit, measure, numbering, rules, counting)
        if located is None:
            located = split_marked(marked, limit, measure, numbering=numbering)
        return [part for part, _ in located], tuple(links for _, links in located)


def _text_limit(item: ContentItem, target: Target, connector: Connector) -> int | None:
    """The length each post of a thread may have, or None when the text is not split."""
    limits = connector.effective_limits
    limit = limits.max_length
    if item.content_warning:  # the warning is repeated on every part and counts with it
        limit -= connector.measure(item.content_warning)
    if item.media and limits.max_caption_length:
        limit = min(limit, limits.max_caption_length)
    can_thread = target.thread and Capability.THREADS in connector.capabilities
    return limit if limit > 0 and can_thread else None
