"""Telling a person when something needs them: failed, missed, unknown, credentials.

Messages go through any configured account named in ``notify.to`` (a Slack or
Telegram channel, a Discord webhook, a folder, …). Each problem is reported
once: the store remembers what was sent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from connectors.base import ConnectorError, RenderedPost
from crosspost.project import Project
from crosspost.publisher import Outcome
from crosspost.store import Store
from crosspost.text import iter_graphemes

__all__ = ["Notifier"]

log = logging.getLogger(__name__)

_WHAT = {
    "failed": "failed",
    "missed": "was missed",
    "unknown": "may or may not have gone out (unknown)",
}


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

    def send(self, key: str, kind: str, message: str) -> None:
        """Send ``message`` once for ``key`` to every notify account."""
        spec = self.project.schedule.notify
        if spec is None or kind not in spec.on:
            return
        if not self.store.notify_once(key, message, self.clock()):
            return
        delivered = 0
        for account in self._targets(spec.to):
            delivered += self._deliver(account, key, message)
        if not delivered:  # nobody heard it: try again next time
            self.store.forget_notification(key)

    def _targets(self, names: list[str]) -> list[str]:
        accounts: list[str] = []
        for name in names:
            for member in self.project.schedule.groups.get(name, [name]):
                if member in self.project.accounts and member not in accounts:
                    accounts.append(member)
        return accounts

    def _deliver(self, account: str, key: str, message: str) -> int:
        connector = self.project.connector(account)
        limit = connector.effective_limits.max_length
        text = _clip(message, limit, connector.measure)
        post = RenderedPost(parts=(text,), content_id="crosspost-notification")
        digest = hashlib.sha256(f"{key}\x1f{account}".encode()).hexdigest()[:32]
        try:
            connector.publish(post, f"crosspost-notify-{digest}")
        except ConnectorError as error:
            log.error("could not notify %s: %s", account, error)
            return 0
        return 1


def _clip(text: str, limit: int, measure: Callable[[str], int]) -> str:
    if not limit or measure(text) <= limit:
        return text
    kept = ""
    for cluster in iter_graphemes(text):
        if measure(kept + cluster + "…") > limit:
            break
        kept += cluster
    return kept + "…"
