"""Telling a person when something needs them: failed, missed, unknown, credentials,
and content that awaits approval.

Messages go through any configured account named in ``notify.to`` (a Slack or
Telegram channel, a Discord webhook, a folder, …). Each problem is reported
once: the store remembers what was told. A message is not sent from here: it
becomes a publication of its own entry (``notify:<problem>``) per notify
account, with the message in its row, and the publisher sends it like any
post (claimed, leased, paced, retried after a rate limit or a server error,
reconciled rather than resent when the outcome is unknown).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from crosspost.loading.project import Project
from crosspost.planning.approval_gate import Pending, first_due
from crosspost.publishing.outcome import Outcome
from crosspost.rendering.humanize import counted
from crosspost.rendering.target import NOTIFICATION_CONTENT
from crosspost.status import NOTIFY_PREFIX, Status
from crosspost.store import PlannedRow, Store

__all__ = ["Notifier"]

log = logging.getLogger(__name__)

_WHAT = {
    Status.FAILED: "failed",
    Status.MISSED: "was missed",
    Status.UNKNOWN: "may or may not have gone out (unknown)",
}
#: A notification not sent within this long (nothing running, the account held) is missed.
NOTIFY_WITHIN = timedelta(days=1)


class Notifier:
    """Sends one message per problem to the ``notify:`` accounts."""

    def __init__(self, store: Store, project: Project, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.project = project
        self.clock = clock

    def outcomes(self, outcomes: Iterable[Outcome]) -> None:
        """Report every outcome that needs a person."""
        for outcome in outcomes:
            if outcome.cause == "credentials":
                continue  # told once per account by credentials()
            if outcome.entry.startswith(NOTIFY_PREFIX):
                continue  # a notification that failed is not told through the same channel
            if outcome.status in _WHAT:
                message = (
                    f"crosspost: {outcome.entry} for {outcome.account} "
                    f"{_WHAT[outcome.status]}: {outcome.error or 'no details'}. "
                    f"See `crosspost status --status {outcome.status}`."
                )
                self.send(
                    f"publication:{outcome.publication_id}:{outcome.status}",
                    outcome.status,
                    message,
                )

    def credentials(self, held: dict[str, str]) -> None:
        """Report accounts whose credentials stopped working."""
        for account, reason in held.items():
            digest = hashlib.sha256(reason.encode()).hexdigest()[:12]
            message = (
                f"crosspost: the credentials of {account} stopped working ({reason}). "
                "Its posts are held until its settings change "
                f"(or: crosspost resolve --account {account} --retry)."
            )
            self.send(f"credentials:{account}:{digest}", "credentials", message)

    def approvals(self, pending: Iterable[Pending]) -> None:
        """Tell the approver about each content item publications await, once per version."""
        waiting: dict[str, list[Pending]] = {}
        for row in pending:
            waiting.setdefault(row.content_id, []).append(row)
        for content, first in first_due(pending).items():
            targets = sorted({f"{p.entry} → {p.account}" for p in waiting[content]})
            local = first.due_at.astimezone(self.project.schedule.timezone)
            waits = "waits" if len(waiting[content]) == 1 else "wait"
            message = (
                f"crosspost: {content} awaits approval; "
                f"{counted(len(waiting[content]), 'publication')} {waits} for it, "
                f"the first due {local:%Y-%m-%d %H:%M %Z} "
                f"({', '.join(targets[:5])}{', …' if len(targets) > 5 else ''}). "
                f"Approve it with `crosspost approve {content}`."
            )
            self.send(f"approval:{content}:{first.content_hash}", "approval", message)

    def send(self, key: str, kind: str, message: str) -> None:
        """Queue ``message`` once for ``key`` to every notify account."""
        spec = self.project.schedule.notify
        if spec is None or kind not in spec.on:
            return
        accounts = self._targets(spec.to)
        if not accounts:
            return  # nobody to tell: not recorded, so it is told once someone is
        now = self.clock()
        rows = [
            PlannedRow(
                f"{NOTIFY_PREFIX}{key}",
                "once",
                account,
                NOTIFICATION_CONTENT,
                now,
                now + NOTIFY_WITHIN,
                message=message,
            )
            for account in accounts
        ]
        if self.store.add_notification(key, message, rows, now):
            log.info("notifying %s: %s", ", ".join(accounts), key)

    def _targets(self, names: list[str]) -> list[str]:
        accounts: list[str] = []
        for name in names:
            for member in self.project.schedule.groups.get(name, [name]):
                if member in self.project.accounts and member not in accounts:
                    accounts.append(member)
        return accounts
