"""``crosspost publish``: one content item to some accounts, now, recorded like any other post.

The publication key is the entry ``publish:<content id>`` with the hash of the
rendered text as occurrence, so running the same command twice finds the
first record and does not post again; ``--again`` makes a new occurrence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from connectors.base import RenderedPost
from crosspost.content import ContentItem
from crosspost.errors import ConfigError, CrosspostError, Problem
from crosspost.project import Project
from crosspost.publisher import ONE_OFF_PREFIX, Publisher
from crosspost.render import RenderError, Target, text_hash
from crosspost.store import PlannedRow, Status, Store

__all__ = ["OneOffResult", "publish_now"]


@dataclass(frozen=True)
class OneOffResult:
    """What happened for one account."""

    account: str
    content: str
    status: str
    url: str | None = None
    error: str | None = None
    parts: list[str] = field(default_factory=list)


def _accounts(project: Project, to: str) -> list[str]:
    names: list[str] = []
    problems = []
    for name in (n.strip() for n in to.split(",") if n.strip()):
        members = project.schedule.groups.get(name, [name] if name in project.accounts else None)
        if members is None:
            known = ", ".join(sorted(project.accounts) + sorted(project.schedule.groups))
            problems.append(Problem.at("--to", 1, 1, f'unknown account or group "{name}" '
                                       f"(expected one of: {known})"))
            continue
        names += [m for m in members if m not in names]
    if problems or not names:
        raise ConfigError(problems or [Problem.at("--to", 1, 1, "no account given")])
    return names


def _render(project: Project, item: ContentItem, account: str, now: datetime) -> RenderedPost:
    connector = project.connector(account)
    target = Target(account, connector.name, item.id, now)
    try:
        post = project.renderer.render(item, target, connector)
    except RenderError as exc:
        raise ConfigError([exc.problem]) from None
    problems = connector.check(post)
    if problems:
        raise ConfigError([Problem.at(item.source or "content", item.source_line, 1,
                                      f"{item.id} → {account}: {p}") for p in problems])
    return post


def publish_now(
    project: Project,
    store: Store,
    reference: str,
    to: str,
    *,
    dry_run: bool = False,
    again: bool = False,
    clock: Callable[[], datetime],
) -> list[OneOffResult]:
    """Render, check and publish one content item to ``to`` (accounts or groups).

    Raises:
        ConfigError: unknown content or account, or a post its platform would refuse;
            nothing is sent for any account then.
    """
    item = project.resolve_content(reference)
    now = clock()
    posts = {account: _render(project, item, account, now) for account in _accounts(project, to)}
    if dry_run:
        return [OneOffResult(a, item.id, "dry-run", parts=list(p.parts)) for a, p in posts.items()]
    publisher = Publisher(store, project, clock=clock)
    return [_publish_one(publisher, store, item, account, post, again, now)
            for account, post in posts.items()]


def _publish_one(publisher: Publisher, store: Store, item: ContentItem, account: str,
                 post: RenderedPost, again: bool, now: datetime) -> OneOffResult:
    entry = f"{ONE_OFF_PREFIX}{item.id}"
    occurrence = f"again-{now:%Y%m%dT%H%M%S%fZ}" if again else text_hash(post.parts)[:16]
    row = store.add_oneoff(PlannedRow(entry, occurrence, account, item.id, now,
                                      now + timedelta(days=1)), now)
    if row is None:
        existing = store.find(entry, occurrence, account)
        assert existing is not None
        if existing.status != Status.PLANNED.value:
            return OneOffResult(account, item.id, existing.status, existing.url,
                                _already(existing.status))
        row = existing
    assert row.id is not None
    claimed = store.claim(row.id, publisher.worker_id, publisher.lease, now)
    if claimed is None:
        raise CrosspostError(f"publication {row.id} is being published by another process")
    outcome = publisher.publish_row(claimed, item)
    return OneOffResult(account, item.id, outcome.status, outcome.url, outcome.error)


def _already(status: str) -> str:
    if status == Status.PUBLISHED.value:
        return "already published; nothing sent (use --again to publish it again)"
    return (f"this exact post was tried before and is {status}; nothing sent "
            "(see crosspost status, or use --again)")
