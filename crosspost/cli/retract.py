"""``crosspost retract``: delete published posts from their platforms, keep them as history.

Each publication's parts (a thread's replies first, its root last) are deleted through
the connector's ``delete``; a part the platform no longer has (404) counts as deleted.
A fully deleted publication becomes ``retracted``; its remote ids and URL stay in the
store. A post's first comment goes with it: deleted first when it was sent (so nothing
is left replying to a deleted post), cancelled when it was not sent yet. One that
could not be deleted completely stays ``published`` with the reason in ``error``, and
running the command again finishes it.

Exit codes: 0 every chosen publication is retracted (or, with ``--dry-run``, would
be), 1 some could not be, 2 bad input (unknown id, nothing chosen, too many without
``--force``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from connectors.base import Capability, Connector, ConnectorError
from crosspost.loading.project import Project
from crosspost.publishing.comments import comment_entry, is_comment
from crosspost.status import Status
from crosspost.store import Store
from crosspost.store.models import Publication
from crosspost.store.records import Ended, Noted, Retracted

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = ["FORCE_ABOVE", "RetractResult", "choose", "retract", "retract_one"]

#: More publications than this at once need ``--force`` (STYLE §9).
FORCE_ABOVE = 5
_GONE = 404

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class RetractResult:
    """What happened to one publication."""

    id: int
    entry: str
    account: str
    url: str | None
    parts: list[str]
    status: str
    deleted: list[str] = field(default_factory=list)
    error: str | None = None
    #: The post's first comment, retracted (or cancelled) with it.
    comment: RetractResult | None = None


def _parts(row: Publication) -> list[str]:
    """Remote ids to delete, last reply first and the thread's root last."""
    ids = list(row.thread_ids or ([row.remote_id] if row.remote_id else []))
    return list(reversed(ids))


def choose(
    store: Store, ids: Sequence[int], entries: Sequence[str], accounts: Sequence[str]
) -> list[Publication]:
    """The published publications chosen by id and/or filters.

    Raises:
        click.BadParameter: an id that does not exist or is not published.
        click.UsageError: nothing chosen at all.
    """
    if not (ids or entries or accounts):
        raise click.UsageError("give publication ids, --entry or --account")
    rows = store.publications([Status.PUBLISHED], accounts)
    chosen = [r for r in rows if (not entries or r.entry in entries) and (not ids or r.id in ids)]
    missing = sorted(set(ids) - {r.id for r in chosen})
    if missing:
        raise click.BadParameter(
            ", ".join(_why_not(store, i) for i in missing), param_hint="PUBLICATION_ID"
        )
    return chosen


def _why_not(store: Store, publication_id: int) -> str:
    row = store.get(publication_id)
    if row is None:
        return f"no publication {publication_id}"
    if row.status != Status.PUBLISHED:
        return f"publication {publication_id} is {row.status}, not published"
    return f"publication {publication_id} does not match --entry/--account"


def retract_one(
    store: Store, project: Project, row: Publication, now: datetime, *, dry_run: bool = False
) -> RetractResult:
    """Delete every part of ``row`` (replies first) and record it as ``retracted``."""
    assert row.id is not None
    result = RetractResult(row.id, row.entry, row.account, row.url, _parts(row), row.status)
    if row.account not in project.accounts:
        result.error = f"account {row.account!r} is no longer in schedule.yaml"
        return result
    connector = project.connector(row.account)
    if Capability.DELETE not in connector.capabilities:
        where = f" at {row.url}" if row.url else ""
        result.error = f"{connector.name} cannot delete posts; remove it by hand{where}"
        return result
    comment = None if is_comment(row.entry) else _first_comment(store, row)
    if comment is not None:
        result.comment = _retract_comment(store, project, comment, now, dry_run=dry_run)
        result.error = result.comment.error and f"first comment: {result.comment.error}"
    if dry_run:
        result.status = "would be retracted"
        return result
    if result.error is None:
        result.error = _delete_parts(connector, result, row.extra or {})
    if result.error is None:
        store.resolve(result.id, now, Retracted())
        result.status = Status.RETRACTED.value
    else:
        store.resolve(result.id, now, Noted(f"retract: {result.error}"))
    return result


def _first_comment(store: Store, row: Publication) -> Publication | None:
    """The first comment written down under ``row``, unless it ended without being sent."""
    comment = store.find(comment_entry(row.entry), row.occurrence, row.account)
    unsent_ends = {Status.FAILED, Status.MISSED, Status.CANCELLED, Status.RETRACTED}
    return None if comment is None or comment.status in unsent_ends else comment


def _retract_comment(
    store: Store, project: Project, comment: Publication, now: datetime, *, dry_run: bool
) -> RetractResult:
    """Retract a sent first comment, cancel one not sent yet; its ``error`` stops the post's."""
    if comment.status == Status.PUBLISHED:
        return retract_one(store, project, comment, now, dry_run=dry_run)
    assert comment.id is not None
    result = RetractResult(
        comment.id, comment.entry, comment.account, comment.url, _parts(comment), comment.status
    )
    if comment.status in {Status.PLANNED, Status.AWAITING_APPROVAL}:
        result.status = "would be cancelled" if dry_run else Status.CANCELLED.value
        if not dry_run:
            store.resolve(result.id, now, Ended(Status.CANCELLED, "its post was retracted"))
    else:  # being sent, or unknown: a person decides first
        result.error = f"publication {comment.id} is {comment.status}; resolve it, then retry"
    return result


def _delete_parts(
    connector: Connector, result: RetractResult, extra: Mapping[str, Any]
) -> str | None:
    """Delete each part in order; the reason the first failing one stayed, else None.

    ``extra`` is what the connector recorded with the post (a Telegram album's other
    messages): it deletes what belongs to each part with it.
    """
    for number, remote_id in enumerate(result.parts, start=1):
        try:
            connector.delete(remote_id, extra)
        except ConnectorError as exc:
            if exc.status != _GONE:
                label = f"part {number} of {len(result.parts)} " if len(result.parts) > 1 else ""
                return f"{label}({remote_id}) not deleted: {exc}"
        result.deleted.append(remote_id)
    return None


def retract(
    store: Store,
    project: Project,
    rows: Sequence[Publication],
    now: datetime,
    *,
    dry_run: bool = False,
    force: bool = False,
) -> list[RetractResult]:
    """Retract ``rows``; more than :data:`FORCE_ABOVE` need ``force`` unless dry.

    Raises:
        click.UsageError: too many publications without ``force``.
    """
    if len(rows) > FORCE_ABOVE and not (force or dry_run):
        raise click.UsageError(
            f"{len(rows)} publications would be deleted (more than {FORCE_ABOVE}); "
            "check with --dry-run, then --force required"
        )
    return [retract_one(store, project, row, now, dry_run=dry_run) for row in rows]


@click.command(
    epilog="Example: crosspost retract 42 43 --dry-run (then without --dry-run); "
    "crosspost retract --entry launch --force"
)
@click.argument("publication_ids", metavar="[PUBLICATION_ID]...", nargs=-1, type=int)
@click.option("--entry", "entries", multiple=True, help="Every published post of this entry.")
@click.option("--account", "accounts", multiple=True, help="Only posts of this account.")
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; delete nothing.")
@click.option("--force", is_flag=True, help=f"Allow more than {FORCE_ABOVE} at once.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per publication.")
@click.pass_obj
def retract_command(
    app: AppContext,
    publication_ids: tuple[int, ...],
    entries: tuple[str, ...],
    accounts: tuple[str, ...],
    dry_run: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Delete published posts from their platforms (every part of a thread).

    The publications stay in the store as `retracted`. Exits 1 when a post could
    not be deleted, 2 on bad input.
    """
    store = app.store()
    rows = choose(store, publication_ids, entries, accounts)
    results = retract(store, app.project(), rows, datetime.now(UTC), dry_run=dry_run, force=force)
    if as_json:
        click.echo(json.dumps({"publications": [asdict(r) for r in results]}, ensure_ascii=False))
    else:
        _print(results)
    raise SystemExit(1 if any(r.error for r in results) else 0)


retract_command.name = "retract"


def _print(results: list[RetractResult]) -> None:
    if not results:
        out.print("nothing to retract")
    for r in results:
        where = r.url or ", ".join(r.parts)
        line = f"publication {r.id} ({r.entry} → {r.account}, {where}): {r.status}"
        if r.comment is not None:
            line += f"; its first comment (publication {r.comment.id}): {r.comment.status}"
        if r.error:
            err.print(f"{line}; {r.error}", markup=False)
        else:
            out.print(line, markup=False)
