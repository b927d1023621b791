"""``crosspost publish``: one content item to some accounts, now, recorded like any other post.

The publication key is the entry ``publish:<content id>`` with the hash of the
rendered text as occurrence, so running the same command twice finds the
first record and does not post again; ``--again`` makes a new occurrence.
``--next-slot`` plans it for each account's next free queue slot instead of now
(:func:`crosspost.planning.slots.next_free_slot`); the daemon sends it then.
``resolve_publication`` (``crosspost resolve``) lives in
:mod:`crosspost.publishing.resolving`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

from connectors.base import RenderedPost
from crosspost.errors import ConfigError, CrosspostError, Problem, RenderError
from crosspost.loading.content_item import ContentItem
from crosspost.loading.limits import apply_reported_limits
from crosspost.loading.project import Project
from crosspost.loading.project_checks import unknown_account_message
from crosspost.planning.approval import AWAITING_NOTE, Approvals
from crosspost.planning.pending import waiting_for
from crosspost.planning.slots import next_free_slot, store_timeline
from crosspost.publishing.outcome import Outcome
from crosspost.publishing.publisher import Publisher
from crosspost.rendering.articles import long_form_source, stand_in_url
from crosspost.rendering.render import text_hash
from crosspost.rendering.target import render_target
from crosspost.status import ONE_OFF_PREFIX, Status
from crosspost.store import PlannedRow, Store
from crosspost.store.approvals import set_gate
from crosspost.store.sessions import utc

__all__ = [
    "OneOffResult",
    "UnknownTarget",
    "publish_now",
]


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
    #: ``--next-slot``: when it goes out (ISO 8601, in the schedule's zone).
    due_at: str | None = None
    #: How the first comment sent right after the post went, when it has one.
    comment: str | None = None


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
    """``--to`` (or ``--queue``) names what the schedule does not define (bad input)."""

    exit_code: ClassVar[int] = 2

    def __init__(self, message: str, option: str = "--to") -> None:
        super().__init__(message)
        self.option = option


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


def _render(
    project: Project, item: ContentItem, account: str, now: datetime, article_url: str | None
) -> RenderedPost:
    entry = f"{ONE_OFF_PREFIX}{item.id}"
    try:
        post = render_target(project, entry, account, now, item, article_url)
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
    next_slot: bool = False,
    queue: str | None = None,
) -> list[OneOffResult]:
    """Render, check and publish one content item to ``to`` (accounts or groups).

    Raises:
        ConfigError: unknown content or account, or a post its platform would refuse;
            nothing is sent for any account then.
        UnknownTarget: an account with no free queue slot (``next_slot``), an unknown queue.
    """
    item = project.resolve_content(reference)
    now = clock()
    apply_reported_limits(store, project)
    accounts = _accounts(project, to)
    slots = _slots(project, store, accounts, now, queue) if next_slot else {}
    # an announcement links to the article on a long-form account, sent first
    sources = {a: long_form_source(project, "", a, item, accounts) for a in accounts}
    posts = {
        account: _render(
            project,
            item,
            account,
            slots.get(account, now),
            stand_in_url(source) if source else None,
        )
        for account, source in sources.items()
    }
    if dry_run:
        return [_dry_run(project, item, account, post) for account, post in posts.items()]
    if next_slot:
        return [
            _plan_one(project, store, item, a, post, again, slots[a], now)
            for a, post in posts.items()
        ]
    publisher = Publisher(store, project, clock=clock)
    publisher.refresh_holds()
    results: dict[str, OneOffResult] = {}
    for account in sorted(accounts, key=lambda name: sources[name] is not None):
        source = sources[account]
        article = results[source] if source is not None else None
        results[account] = _send_one(publisher, item, account, posts[account], article, again, now)
    return [results[account] for account in accounts]


def _send_one(
    publisher: Publisher,
    item: ContentItem,
    account: str,
    post: RenderedPost,
    article: OneOffResult | None,
    again: bool,
    now: datetime,
) -> OneOffResult:
    """Publish ``post`` to ``account``; an announcement (``article``: the result of its
    long-form article, sent just before) is rendered again with the article's URL."""
    store = publisher.store
    if account in publisher.held:
        return _held(item, account, publisher.held[account])
    if article is None:
        return _publish_one(publisher, store, item, account, post, again, now)
    article_url = article.url if article.status == Status.PUBLISHED else None
    if article_url is None and not item.link:
        return _nothing_to_link(item, account, article)
    post = _render(publisher.project, item, account, now, article_url)
    return _publish_one(publisher, store, item, account, post, again, now, article_url)


def _nothing_to_link(item: ContentItem, account: str, source: OneOffResult) -> OneOffResult:
    return OneOffResult(
        account,
        item.id,
        Status.FAILED,
        error=f"not sent: the article did not go out on {source.account} ({source.status}), "
        "and it has no canonical_url or link to announce instead",
    )


def _slots(
    project: Project, store: Store, accounts: list[str], now: datetime, queue: str | None
) -> dict[str, datetime]:
    """Each account's next free queue slot.

    Raises:
        UnknownTarget: an unknown queue, or an account without a free slot in it.
    """
    if queue is not None and queue not in project.queues:
        known = ", ".join(sorted(project.queues)) or "none defined"
        raise UnknownTarget(f'no queue "{queue}" (known: {known})', "--queue")
    timeline = store_timeline(project, store)
    found: dict[str, datetime] = {}
    missing = []
    for account in accounts:
        slot = next_free_slot(project, timeline, account, now, queue)
        if slot is None:
            missing.append(account)
        else:
            found[account] = slot[0]
    if missing:
        which = f'queue "{queue}"' if queue else "any queue"
        raise UnknownTarget(
            f"no free slot within a year in {which} for {', '.join(missing)} "
            "(an account gets slots from a queue whose to: names it)",
            "--queue" if queue else "--to",
        )
    return found


def _plan_one(
    project: Project,
    store: Store,
    item: ContentItem,
    account: str,
    post: RenderedPost,
    again: bool,
    slot: datetime,
    now: datetime,
) -> OneOffResult:
    """Write the one-off down for ``slot``; the daemon sends it then (or it awaits approval)."""
    row = _oneoff_row(project, item, account, post, again, now, slot)
    added = store.add_oneoff(row, now)
    existing = added or store.find(row.entry, row.occurrence, account)
    assert existing is not None and existing.id is not None
    local = utc(existing.due_at).astimezone(project.schedule.timezone).isoformat()
    if added is None:
        note = f"already {existing.status} for {local}; nothing changed (use --again)"
        return OneOffResult(account, item.id, existing.status, existing.url, note, due_at=local)
    status: Status = Status.PLANNED
    note = f"planned for the next free slot, {local}"
    if Approvals.read(store).lacking(project, row.entry, account, item):
        set_gate(store, [existing.id], [], now, AWAITING_NOTE)
        status = Status.AWAITING_APPROVAL
        note += f"; awaits approval (crosspost approve {item.id})"
    return OneOffResult(account, item.id, status, None, note, due_at=local)


def _oneoff_row(
    project: Project,
    item: ContentItem,
    account: str,
    post: RenderedPost,
    again: bool,
    now: datetime,
    due: datetime,
) -> PlannedRow:
    """The one-off's row: keyed by the text sent (``--again``: by the moment), due at ``due``."""
    occurrence = f"again-{now:%Y%m%dT%H%M%S%fZ}" if again else text_hash(post.parts)[:16]
    entry, source = f"{ONE_OFF_PREFIX}{item.id}", _source(project, item)
    return PlannedRow(entry, occurrence, account, item.id, due, due + timedelta(days=1), source)


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
    article_url: str | None = None,
) -> OneOffResult:
    planned = _oneoff_row(publisher.project, item, account, post, again, now, now)
    entry, occurrence = planned.entry, planned.occurrence
    row = store.add_oneoff(planned, now)
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
    outcome = publisher.publish_row(claimed, item, article_url)
    error = outcome.error
    if outcome.status == Status.PLANNED:  # a transient failure: the daemon retries it
        waiting = store.get(row.id)
        assert waiting is not None
        error = waiting_for(waiting, publisher.clock(), publisher.held).describe()
    result = OneOffResult(account, item.id, outcome.status, outcome.url, error)
    return _with_comment(result, outcome.then)


def _with_comment(result: OneOffResult, then: tuple[Outcome, ...]) -> OneOffResult:
    """Say how the first comment went, when one was sent after the post."""
    for comment in then:
        said = f"first comment {comment.status}" + (f": {comment.error}" if comment.error else "")
        if comment.url and comment.status == Status.PUBLISHED:
            said += f" ({comment.url})"
        result = replace(result, comment=said)
    return result


def _already(status: Status) -> str:
    if status == Status.PUBLISHED:
        return "already published; nothing sent (use --again to publish it again)"
    if status == Status.AWAITING_APPROVAL:
        return "already recorded and awaiting approval; the daemon sends it once approved"
    return (
        f"this exact post was tried before and is {status}; nothing sent "
        "(see crosspost status, or use --again)"
    )
