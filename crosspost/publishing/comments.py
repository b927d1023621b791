"""First comments: a reply (or comment) posted right after a post, recorded as its own part.

``first_comment:`` on a content item, or in an override for one platform or account,
is a template string with the post's variables (``Read more: {{ link }}``). When the
post is recorded as published, its first comment is written down in the same
transaction as a publication of its own: entry ``comment:<entry of the post>``, the
post's occurrence and account, due at once. The publisher sends it straight after
the post through the connector's ``publish_comment`` (a reply where threads are
replies, a comment where the platform has comments) and records it like any
publication: claimed with a lease, its own idempotency key, retried, reconciled,
shown by ``status``. A restart
between the two finds the comment planned (never sent twice, never lost), and the
daemon sends it.

Accounts whose connector cannot comment (``Capability.FIRST_COMMENT``) get none:
``check`` warns about a content's ``first_comment`` there, and refuses an override
written for such a platform or account.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import TemplateSyntaxError

from connectors.base import Capability, Commentable, Connector, RenderedPost
from crosspost.errors import Problem, RenderError
from crosspost.loading.content_item import ContentItem
from crosspost.loading.project import Project
from crosspost.rendering.target import target_for
from crosspost.status import COMMENT_PREFIX, NOTIFY_PREFIX

if TYPE_CHECKING:
    from connectors.base import Published
    from crosspost.store import PlannedRow, Publication

__all__ = [
    "COMMENT_WITHIN",
    "can_comment",
    "comment_entry",
    "comment_problems",
    "comment_text",
    "first_comment_row",
    "is_comment",
    "parent_entry",
    "parent_published",
    "render_comment",
]

#: A first comment not sent within this long after its post is ``missed``.
COMMENT_WITHIN = timedelta(days=1)


def comment_entry(entry: str) -> str:
    """The entry of the first comment under a post of ``entry``."""
    return f"{COMMENT_PREFIX}{entry}"


def is_comment(entry: str) -> bool:
    """Whether ``entry`` is a first comment's."""
    return entry.startswith(COMMENT_PREFIX)


def parent_entry(entry: str) -> str:
    """The entry of the post a first comment's ``entry`` is under."""
    return entry.removeprefix(COMMENT_PREFIX)


def can_comment(connector: Connector) -> bool:
    """Whether the account's connector posts first comments."""
    return Capability.FIRST_COMMENT in connector.capabilities and isinstance(connector, Commentable)


def _comment_key(item: ContentItem, platform: str, account: str) -> str:
    """The field the first comment for this target comes from (account wins)."""
    for key in (account, platform):
        if "first_comment" in item.overrides.get(key, {}):
            return f"overrides.{key}.first_comment"
    return "first_comment"


def comment_text(
    project: Project, item: ContentItem, entry: str, account: str, due: datetime
) -> str:
    """The first comment of ``item`` for ``account`` ("" when none), rendered.

    Raises:
        RenderError: its template failed, placed at its line in the content.
    """
    platform = project.accounts[account].platform
    target_item, _ = item.for_target(platform, account)
    text = target_item.first_comment.strip()
    if not text:
        return ""
    target = target_for(project, entry, account, due)
    key = _comment_key(item, platform, account)
    line, column = item.position(key)
    where = _shown(project, item.source)
    try:
        return project.renderer.render_string(text, item, target)
    except RenderError as exc:
        message = exc.problem.message
    except TemplateSyntaxError as exc:
        message = f"template syntax: {exc.message}"
    except Exception as exc:  # whatever the template raises is the content's error
        message = f"{type(exc).__name__}: {exc}"
    raise RenderError(Problem.at(where, line, column, f"{key}: {message}"))


def _shown(project: Project, source: str) -> str:
    path = Path(source)
    if not source:
        return "content"
    return (
        str(path.relative_to(project.base_dir)) if path.is_relative_to(project.base_dir) else source
    )


def first_comment_row(
    project: Project, row: Publication, item: ContentItem, now: datetime
) -> list[PlannedRow]:
    """The first comment's publication for a post just recorded, if it has one."""
    from crosspost.store import PlannedRow

    if row.entry.startswith((NOTIFY_PREFIX, COMMENT_PREFIX)) or row.account not in project.accounts:
        return []
    platform = project.accounts[row.account].platform
    target_item, _ = item.for_target(platform, row.account)
    if not target_item.first_comment.strip():
        return []
    if not can_comment(project.connector(row.account)):
        return []  # check warned about it
    return [
        PlannedRow(
            comment_entry(row.entry),
            row.occurrence,
            row.account,
            row.content_id,
            now,
            now + COMMENT_WITHIN,
            source=row.source,
        )
    ]


def render_comment(project: Project, row: Publication, parent: Publication) -> RenderedPost:
    """The first comment a stored publication sends, rendered as for its post.

    Raises:
        RenderError, ConfigError, KeyError: the content or its comment is broken or gone.
    """
    item = project.resolve_content(row.source or row.content_id)
    due = parent.due_at if parent.due_at.tzinfo else parent.due_at.replace(tzinfo=UTC)
    text = comment_text(project, item, parent.entry, row.account, due)
    if not text:
        raise KeyError(f"{item.id} has no first comment for {row.account} any more")
    return RenderedPost(parts=(text,), content_id=item.id, language=item.language)


def parent_published(parent: Publication) -> Published | None:
    """The post a first comment goes under, as ``publish`` returned it (None: not out)."""
    from connectors.base import Published  # not at the top: check imports this module

    if parent.remote_id is None:
        return None
    when = parent.published_at or parent.updated_at
    return Published(
        remote_id=parent.remote_id,
        url=parent.url,
        published_at=when if when.tzinfo else when.replace(tzinfo=UTC),
        thread_ids=tuple(parent.thread_ids or ()),
        extra=dict(parent.extra or {}),
    )


def comment_problems(
    project: Project, entries: Iterable[tuple[int, str, datetime]]
) -> tuple[list[Problem], list[Problem]]:
    """``check``: problems (an override for an account that cannot comment, a comment too
    long or failing to render) and warnings (a content's comment an account cannot post).

    Args:
        entries: ``(index, entry, due)`` of the entries to look at, with their next time.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for index, entry, due in entries:
        post = project.post(entry)
        if post is None:
            continue
        queue = project.queue_of(entry)
        references = list(queue.pool) if queue is not None else [post.content]
        line, name = project.where(index, entry)
        for reference in references:
            item = project.resolve_content(reference)
            for account in project.targets[entry]:
                if (item.id, account) in seen:
                    continue
                seen.add((item.id, account))
                found = _comment_check(project, item, entry, account, due)
                if isinstance(found, Problem):
                    problems.append(found)
                elif found is not None:
                    message = f"{name} ({entry} → {account}): {found}"
                    warnings.append(Problem.at(project.path, line, 1, message))
    return problems, warnings


def _comment_check(
    project: Project, item: ContentItem, entry: str, account: str, due: datetime
) -> Problem | str | None:
    """The problem with the first comment of ``item`` on ``account`` (at its line in the
    content), a warning (a content's comment the account cannot post), or None."""
    connector = project.connector(account)
    platform = connector.name
    target_item, _ = item.for_target(platform, account)
    if not target_item.first_comment.strip():
        return None
    key = _comment_key(item, platform, account)
    if not can_comment(connector):
        if key == "first_comment":
            return f"{platform} cannot post first comments; {item.id}'s is not posted there"
        line, column = item.position(key)
        message = f"{key}: {platform} cannot post first comments ({entry} sends it to {account})"
        return Problem.at(_shown(project, item.source), line, column, message)
    try:
        text = comment_text(project, item, entry, account, due)
    except RenderError as exc:
        return exc.problem
    reasons = connector.check(RenderedPost(parts=(text,), content_id=item.id))
    if not reasons:
        return None
    line, column = item.position(key)
    message = f"{key} ({entry} → {account}): " + "; ".join(reasons)
    return Problem.at(_shown(project, item.source), line, column, message)
