"""The store's rows held at the approval gate and released (the rules: :mod:`.approval`).

The daemon and ``crosspost approve`` refresh the gate; ``check`` only asks who approved
what, and does not import this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from crosspost.errors import ConfigError
from crosspost.loading.content_item import ContentItem
from crosspost.loading.project import Project
from crosspost.planning.approval import AWAITING_NOTE, Approvals, content_hash, gated_anywhere
from crosspost.status import Status

if TYPE_CHECKING:
    from crosspost.store import Store

__all__ = ["GateReport", "Pending", "first_due", "refresh_approvals"]


@dataclass(frozen=True)
class Pending:
    """A publication held for approval, for ``notify:`` and ``check``."""

    content_id: str
    content_hash: str
    entry: str
    account: str
    due_at: datetime


@dataclass(frozen=True)
class GateReport:
    """What a refresh changed, and every publication that now awaits approval."""

    held: int = 0
    released: int = 0
    awaiting: tuple[Pending, ...] = ()


def refresh_approvals(project: Project, store: Store, now: datetime) -> GateReport:
    """Hold planned rows whose content lacks a needed approval, release approved ones."""
    from crosspost.store.approvals import gate_rows, set_gate

    gated = gated_anywhere(project)
    rows = gate_rows(store, only_awaiting=not gated)
    approvals = Approvals.read(store) if gated else Approvals()
    hold: list[int] = []
    release: list[int] = []
    awaiting: list[Pending] = []
    items: dict[str, ContentItem | None] = {}
    for row in rows:
        reference = row.source or row.content_id
        if reference not in items:
            items[reference] = _resolved(project, reference)
        item = items[reference]
        if item is None:
            continue  # gone from the library: rendering fails it, with the reason
        waits = gated and approvals.lacking(project, row.entry, row.account, item)
        if waits:
            awaiting.append(
                Pending(item.id, content_hash(item), row.entry, row.account, row.due_at)
            )
        if waits and row.status == Status.PLANNED:
            hold.append(row.id)
        elif not waits and row.status == Status.AWAITING_APPROVAL:
            release.append(row.id)
    held, released = set_gate(store, hold, release, now, AWAITING_NOTE)
    return GateReport(held, released, tuple(awaiting))


def _resolved(project: Project, reference: str) -> ContentItem | None:
    try:
        return project.resolve_content(reference)
    except (ConfigError, OSError):
        return None


def first_due(pending: Iterable[Pending]) -> dict[str, Pending]:
    """The first publication awaiting each content item."""
    first: dict[str, Pending] = {}
    for row in sorted(pending, key=lambda p: p.due_at):
        first.setdefault(row.content_id, row)
    return first
