"""The approval gate: content that must be approved before an entry publishes it.

``approval: required`` on an entry (post, queue, event), on a group (written as
``{members: […], approval: required}``) or at the top of the schedule; the most
specific one given decides (an entry's ``approval: none`` opens a gated group).
Notifications, first comments (the comment belongs to its post), answers to members
and a feed's posts are never gated.

Content is approved in its file (``approved_by:``, and ``approved_at:`` for the
record; the change is reviewed in git like any other), or with ``crosspost approve
ID``, which records who approved the item *as it reads now*: its hash, so that an
edit afterwards needs a new approval.

A publication whose content lacks the approval it needs is ``awaiting-approval``
instead of ``planned``: nothing claims it. It becomes ``planned`` when the content is
approved, and ``missed`` when its time and grace pass first. The daemon checks the
rows whenever it plans or reloads (:mod:`crosspost.planning.approval_gate`), and the
publisher checks once more before sending.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crosspost.loading.content_item import PROVENANCE, ContentItem
from crosspost.loading.project import Project
from crosspost.status import COMMENT_PREFIX, FEED_PREFIX, NOTIFY_PREFIX, REPLY_PREFIX

if TYPE_CHECKING:  # check and plan read approvals without the store when there is none
    from crosspost.store import Store

__all__ = [
    "AWAITING_NOTE",
    "Approvals",
    "approvable",
    "content_hash",
    "gated_anywhere",
    "needs_approval",
]

#: The note on a held row, followed by its content id.
AWAITING_NOTE = "awaiting approval: crosspost approve "
#: Notifications, first comments (part of their post), answers to members (written by a
#: person at the command line) and a feed's posts (no content item to approve).
_NEVER_GATED = (NOTIFY_PREFIX, COMMENT_PREFIX, REPLY_PREFIX, FEED_PREFIX)


def needs_approval(project: Project, entry: str, account: str) -> bool:
    """Whether a publication of ``entry`` to ``account`` needs its content approved."""
    if entry.startswith(_NEVER_GATED):
        return False
    post = project.post(entry)
    if post is not None and post.approval is not None:
        return post.approval == "required"
    schedule = project.schedule
    groups = [
        setting
        for group, setting in schedule.group_approval.items()
        if account in schedule.groups.get(group, [])
    ]
    if groups:
        return "required" in groups
    return schedule.approval == "required"


def gated_anywhere(project: Project) -> bool:
    """Whether anything in the schedule asks for approval (else nothing is held)."""
    schedule = project.schedule
    return (
        schedule.approval == "required"
        or "required" in schedule.group_approval.values()
        or any(post.approval == "required" for post in schedule.posts if post.enabled)
    )


def content_hash(item: ContentItem) -> str:
    """A fingerprint of what ``item`` says (not where it is written or who approved it)."""
    data = item.model_dump(mode="json", exclude=set(PROVENANCE))
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Approvals:
    """Who approved what: the content files, and ``crosspost approve`` in the store."""

    #: ``(content id, hash)`` → who approved it.
    stored: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def read(cls, store: Store | None) -> Approvals:
        """The approvals of ``store`` (none without one)."""
        if store is None:
            return cls()
        from crosspost.store.approvals import approved_hashes

        return cls(approved_hashes(store))

    def by(self, item: ContentItem) -> str | None:
        """Who approved ``item`` as it reads now, or None."""
        return item.approved_by or self.stored.get((item.id, content_hash(item)))

    def lacking(self, project: Project, entry: str, account: str, item: ContentItem) -> bool:
        """Whether this publication must wait for an approval of ``item``."""
        return needs_approval(project, entry, account) and self.by(item) is None


def approvable(project: Project, reference: str) -> list[ContentItem]:
    """Every item that ``crosspost approve REFERENCE`` approves: the item with that id or
    file, and the announcements made from it (an event's steps share its content's id).

    Raises:
        ConfigError: no content by that id or file.
    """
    item = project.resolve_content(reference)
    found = [item]
    found += [i for i in project.content.values() if i.id == item.id and i is not item]
    return found
