"""Rendering each distinct post once: what a render depends on, and the posts made so far.

``check`` renders the next post of every entry for every account, and an agency's
schedule names the same content for many entries and accounts. A post depends on the
content item, the platform and the connector's rules, and on the entry, account and
occurrence only where the template uses them (or the item's link is tagged with the
entry, or the item has overrides for the account). :class:`RenderMemo` keys each post
by exactly that (:func:`memo_key`), so two renders that cannot differ are made once.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import datetime

from connectors.base import Connector, Limits, RenderedPost
from crosspost.loading.content_item import ContentItem
from crosspost.rendering.markdown_forms import OutputForm, alternative_form_of, form_of
from crosspost.rendering.target import Target

__all__ = [
    "ConnectorRules",
    "RenderMemo",
    "TARGET_NAMES",
    "memo_key",
    "names_used",
    "occurrence_key",
]

#: The template variables that differ between the targets of one content item.
TARGET_NAMES = frozenset({"account", "entry", "occurrence", "link", "article_url"})
#: Posts kept per renderer (a bound for long-lived daemons); the memo starts over when full.
_MAX_POSTS = 20_000


def names_used(reads: frozenset[str] | None) -> frozenset[str]:
    """The target variables a template that ``reads`` these variables reads; all of them
    when what it reads is not known (it includes, imports or extends another template:
    see :func:`~crosspost.rendering.snapshot.variables_read`)."""
    return TARGET_NAMES if reads is None else TARGET_NAMES & reads


@dataclass(frozen=True)
class ConnectorRules:
    """What a render takes from a connector: its text forms and how it counts and cuts."""

    form: OutputForm
    alternative: OutputForm | None
    limits: Limits
    key: Hashable


def _rules_of(connector: Connector) -> ConnectorRules:
    counting = getattr(connector, "counting_key", None)
    return ConnectorRules(
        form_of(connector),
        alternative_form_of(connector),
        connector.effective_limits,
        (
            type(connector),
            # without a counting key, only the connector itself is known to count alike
            counting if counting is not None else id(connector),
            frozenset(connector.capabilities),
        ),
    )


class RenderMemo:
    """The posts rendered so far, by everything they depend on.

    Keys name items and connectors by ``id``: each entry keeps its item and every
    connector seen is kept, so no id is reused while a key holds it.
    """

    def __init__(self) -> None:
        self._posts: dict[Hashable, tuple[ContentItem, RenderedPost]] = {}
        self._connectors: dict[int, tuple[Connector, ConnectorRules]] = {}

    def rules(self, connector: Connector) -> ConnectorRules:
        """The forms and counting rules of ``connector``, looked up once per connector."""
        known = self._connectors.get(id(connector))
        if known is None or known[0] is not connector:
            known = self._connectors[id(connector)] = (connector, _rules_of(connector))
        if known[1].limits != connector.effective_limits:  # limits the platform reported
            known = self._connectors[id(connector)] = (connector, _rules_of(connector))
        return known[1]

    def get(
        self, key: Hashable, item: ContentItem, occurrence: datetime | None
    ) -> RenderedPost | None:
        """The post made for ``key``, due at ``occurrence``; None when there is none yet."""
        found = self._posts.get(key)
        if found is None or found[0] is not item:
            return None
        post = found[1]
        if not _same_moment(post.scheduled_at, occurrence):
            # kept as due now: the other accounts of an entry ask for the same moment
            post = replace(post, scheduled_at=occurrence)
            self._posts[key] = (item, post)
        return post

    def put(self, key: Hashable, item: ContentItem, post: RenderedPost) -> None:
        """Remember ``post`` as the render of ``item`` for ``key``."""
        if len(self._posts) >= _MAX_POSTS:
            self._posts.clear()
            self._connectors.clear()
        self._posts[key] = (item, post)


def memo_key(
    item: ContentItem,
    target: Target,
    rules: ConnectorRules,
    shown: ContentItem,
    used: frozenset[str],
) -> Hashable:
    """What the post of ``item`` for ``target`` depends on.

    ``shown``: ``item`` with its overrides for the target (an override may add a link);
    ``used``: the target variables the templates it renders with read.
    """
    tagged = target.utm and bool(shown.link or shown.is_article)  # utm_campaign=<entry>
    return (
        id(item),
        target.platform,
        target.account if "account" in used or target.account in item.overrides else None,
        target.entry if "entry" in used or tagged else None,
        occurrence_key(target.occurrence) if "occurrence" in used else None,
        (target.utm, target.thread, target.numbering, target.article_url),
        rules,
    )


def occurrence_key(occurrence: datetime | None) -> Hashable:
    """``occurrence`` as a key: the same instant in another zone renders another local time."""
    return None if occurrence is None else (occurrence, str(occurrence.tzinfo))


def _same_moment(one: datetime | None, other: datetime | None) -> bool:
    if one is None or other is None:
        return one is other
    return one == other and one.tzinfo is other.tzinfo
