"""``crosspost approve``: a person approves content for entries with ``approval: required``.

The approval is of the content as it reads now (its hash): publications waiting
for it become ``planned`` and go out at their time, and an edit of the content
afterwards needs a new approval. Content can also be approved in its file
(``approved_by:``), where the approval is reviewed in git with the text.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from crosspost.loading.project import Project
from crosspost.planning.approval import approvable, content_hash
from crosspost.planning.approval_gate import refresh_approvals
from crosspost.rendering.humanize import counted
from crosspost.store import Store
from crosspost.store.approvals import record_approval

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = ["Approved", "approve", "approve_content"]


@dataclass(frozen=True)
class Approved:
    """One content item approved (``new``: not approved as it reads before)."""

    content: str
    content_hash: str
    approved_by: str
    new: bool


def approve_content(
    project: Project, store: Store, references: tuple[str, ...], by: str, now: datetime
) -> tuple[list[Approved], int]:
    """Record the approvals, then release what waited for them.

    Returns:
        What was approved, and how many publications no longer await approval.

    Raises:
        ConfigError: a reference names no content (nothing is recorded then).
    """
    items = [item for reference in references for item in approvable(project, reference)]
    done: list[Approved] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        digest = content_hash(item)
        if (item.id, digest) in seen:
            continue
        seen.add((item.id, digest))
        new = record_approval(store, item.id, digest, by, now)
        done.append(Approved(item.id, digest, by, new))
    report = refresh_approvals(project, store, now)
    return done, report.released


@click.command(epilog="Example: crosspost approve launch content/newsletter.md --by ann")
@click.argument("content", nargs=-1, required=True)
@click.option("--by", "by", default=None, help="Who approves [default: the login name].")
@click.option("--json", "as_json", is_flag=True, help="Print what was approved as JSON.")
@click.pass_obj
def approve(app: AppContext, content: tuple[str, ...], by: str | None, as_json: bool) -> None:
    """Approve CONTENT (content ids or Markdown files) as it reads now, for entries with
    approval: required.

    Publications awaiting it go out at their time; an edit of the content afterwards
    needs a new approval. Exits 2 when CONTENT names no content.
    """
    project = app.project()
    store = app.store()
    who = by or getpass.getuser()
    done, released = approve_content(project, store, content, who, datetime.now(UTC))
    if as_json:
        click.echo(json.dumps({"approved": [asdict(a) for a in done], "released": released}))
        return
    for approved in done:
        state = "approved" if approved.new else "already approved"
        click.echo(f"{state}: {approved.content} by {approved.approved_by}")
    verb = "awaits" if released == 1 else "await"
    click.echo(f"{counted(released, 'publication')} no longer {verb} approval")
