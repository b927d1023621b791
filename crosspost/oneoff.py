"""``crosspost publish``: one content item to some accounts, now, recorded like any other post.

The publication key is the entry ``publish:<content id>`` with the hash of the
rendered text as occurrence, so running the same command twice finds the
first record and does not post again; ``--again`` makes a new occurrence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

from connectors.base import RenderedPost
from crosspost.content import ContentItem
from crosspost.errors import ConfigError, CrosspostError, Problem
from crosspost.limits import apply_reported_limits
from crosspost.pending import waiting_for
from crosspost.project import Project, unknown_account_message
from crosspost.publisher import Publisher
from crosspost.render import RenderError, text_hash
from crosspost.store import (
    Decision,
    Ended,
    PlannedRow,
    Publication,
    Replanned,
    Sent,
    Status,
    Store,
)
from crosspost.target import ONE_OFF_PREFIX, render_target

__all__ = ["RESOLVABLE", "OneOffResult", "UnknownTarget", "publish_now", "resolve_publication"]


#: A one-off's state: its publication's, or not recorded at all (a dry run, a held account).
OneOffStatus = Status | Literal["dry-run", "held"]


@dataclass(frozen=True)
class OneOffResult:
    """What happened for one account."""

    account: str
    content: str
    status: OneOffStatus
    url: str | None = None
    error: str | None = None
    parts: list[str] = field(default_factory=list)
    #: Dry runs: how long each part is, against ``limit`` in ``unit`` (as the platform counts).
    lengths: list[int] = field(default_factory=list)
    limit: int | None = None
    unit: str | None = None


def _dry_run(project: Project, item: ContentItem, account: str, post: RenderedPost) -> OneOffResult:
    connector = project.connector(account)
    limits = connector.effective_limits
    return OneOffResult(
        account,
        item.id,
        "dry-run",
        parts=list(post.parts),
        lengths=[connector.measure(part) for part in post.parts],
        limit=limits.max_length,
        unit=limits.unit,
    )


class UnknownTarget(CrosspostError):
    """``--to`` names an account or group the schedule does not define (bad input)."""

    exit_code: ClassVar[int] = 2


def _accounts(project: Project, to: str) -> list[str]:
    names: list[str] = []
    unknown = []
    for name in (n.strip() for n in to.split(",") if n.strip()):
        members = project.schedule.groups.get(name, [name] if name in project.accounts else None)
        if members is None:
            unknown.append(unknown_account_message(name, project.schedule))
            continue
        names += [m for m in members if m not in names]
    if unknown or not names:
        raise UnknownTarget("; ".join(unknown) or "no account given")
    return names


def _render(project: Project, item: ContentItem, account: str, now: datetime) -> RenderedPost:
    try:
        post = render_target(project, f"{ONE_OFF_PREFIX}{item.id}", account, now, item)
    except RenderError as exc:
        raise ConfigError([exc.problem]) from None
    problems = project.connector(account).check(post)
    if problems:
        raise ConfigError(
            [
                Problem.at(
                    item.source or "content", item.source_line, 1, f"{item.id} → {account}: {p}"
                )
                for p in problems
            ]
        )
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
    apply_reported_limits(store, project)
    posts = {account: _render(project, item, account, now) for account in _accounts(project, to)}
    if dry_run:
        return [_dry_run(project, item, account, post) for account, post in posts.items()]
    publisher = Publisher(store, project, clock=clock)
    publisher.refresh_holds()
    return [
        _held(item, account, publisher.held[account])
        if account in publisher.held
        else _publish_one(publisher, store, item, account, post, again, now)
        for account, post in posts.items()
    ]


def _held(item: ContentItem, account: str, reason: str) -> OneOffResult:
    return OneOffResult(
        account,
        item.id,
        "held",
        error=f"not sent: the account is held since its credentials failed ({reason}); "
        f"fix its settings, or run crosspost resolve --account {account} --retry",
    )


def _source(project: Project, item: ContentItem) -> str | None:
    """The file a one-off comes from, when it is not an item of the library."""
    if project.content.get(item.id) is item or not item.source:
        return None
    return str(Path(item.source).resolve())


def _publish_one(
    publisher: Publisher,
    store: Store,
    item: ContentItem,
    account: str,
    post: RenderedPost,
    again: bool,
    now: datetime,
) -> OneOffResult:
    entry = f"{ONE_OFF_PREFIX}{item.id}"
    occurrence = f"again-{now:%Y%m%dT%H%M%S%fZ}" if again else text_hash(post.parts)[:16]
    source = _source(publisher.project, item)
    row = store.add_oneoff(
        PlannedRow(entry, occurrence, account, item.id, now, now + timedelta(days=1), source), now
    )
    if row is None:
        existing = store.find(entry, occurrence, account)
        assert existing is not None
        if existing.status != Status.PLANNED:
            return OneOffResult(
                account, item.id, existing.status, existing.url, _already(existing.status)
            )
        row = existing
    assert row.id is not None
    claimed = store.claim(row.id, publisher.worker_id, publisher.lease, now, publisher.holder)
    if claimed is None:
        raise CrosspostError(f"publication {row.id} is being published by another process")
    outcome = publisher.publish_row(claimed, item)
    error = outcome.error
    if outcome.status == Status.PLANNED:  # a transient failure: the daemon retries it
        waiting = store.get(row.id)
        assert waiting is not None
        error = waiting_for(waiting, publisher.clock(), publisher.held).describe()
    return OneOffResult(account, item.id, outcome.status, outcome.url, error)


def _already(status: Status) -> str:
    if status == Status.PUBLISHED:
        return "already published; nothing sent (use --again to publish it again)"
    return (
        f"this exact post was tried before and is {status}; nothing sent "
        "(see crosspost status, or use --again)"
    )


#: What each decision may be taken on.
RESOLVABLE = {
    "published": {Status.UNKNOWN, Status.FAILED, Status.MISSED},
    "retry": {Status.UNKNOWN, Status.FAILED, Status.MISSED},
    "skip": {Status.UNKNOWN, Status.FAILED, Status.MISSED, Status.PLANNED},
}


def resolve_publication(
    store: Store, publication_id: int, action: str, url: str | None, now: datetime
) -> Publication:
    """Record a person's decision about a publication.

    Raises:
        ConfigError: no such publication, or it is not in a state the action applies to.
    """
    row = store.get(publication_id)
    if row is None:
        raise ConfigError(
            [
                Problem.at(
                    "crosspost resolve",
                    1,
                    1,
                    f"no publication {publication_id} (see crosspost status)",
                )
            ]
        )
    if row.status not in RESOLVABLE[action]:
        allowed = ", ".join(sorted(RESOLVABLE[action]))
        raise ConfigError(
            [
                Problem.at(
                    "crosspost resolve",
                    1,
                    1,
                    f"publication {publication_id} is {row.status}; "
                    f"--{action} applies to: {allowed}",
                )
            ]
        )
    decision: Decision
    if action == "published":
        decision = Sent(row.remote_id or url, url, now, note="marked published by hand")
    elif action == "retry":
        decision = Replanned(due_at=now, expires_at=now + timedelta(hours=1))
    else:
        decision = Ended(Status.CANCELLED, "skipped by hand")
    resolved = store.resolve(publication_id, now, decision)
    assert resolved is not None
    return resolved
