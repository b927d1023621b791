"""The inbox step of collection: mentions and replies since the stored cursor.

:class:`InboxReads` is the inbox side of
:class:`~crosspost.collecting.metrics.MetricsCollector` (a base of it, through
:class:`~crosspost.collecting.metrics_steps.AccountSteps`). An account whose connector
has ``Capability.INBOX`` is read every ``inbox_every`` while reads find something; after
each read that found nothing the interval doubles, up to ``inbox_max_every``. A read
takes at most ``inbox_pages`` pages; what it found, the cursor reached and the next
read are stored in one transaction, so every daemon on the database keeps to the
same schedule, and a failed read waits ``inbox_every`` too instead of retrying every
round. While the account's notification stream is up (:mod:`crosspost.collecting.inbox_streams`)
its polls wait ``inbox_max_every``: the stream tells of anything sooner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from connectors.base import Capability, Connector, Inbox, InboxItem
from crosspost.collecting.metrics_report import AccountOutcome
from crosspost.store import Store
from crosspost.store.collect_inbox import InboxSchedule, inbox_cursor, save_inbox

__all__ = ["InboxReads"]


class InboxReads:
    """Reads an account's inbox when it is due, and plans the next read.

    The collector sets the attributes declared here.
    """

    store: Store
    inbox_every: timedelta
    inbox_max_every: timedelta
    inbox_pages: int
    #: When each account's inbox was last read (or tried) by this collector.
    _inbox_read: dict[str, datetime]
    #: The stored next read of each account, as read at the start of a batch.
    _inbox_schedules: dict[str, InboxSchedule]
    #: Accounts whose notification stream is up now.
    _streamed: set[str]

    def stream_changed(self, account: str, up: bool) -> None:
        """Note that ``account``'s notification stream is up (or down again)."""
        if up:
            self._streamed.add(account)
        else:
            self._streamed.discard(account)

    def _inbox_due(self, connector: Connector, account: str, now: datetime) -> bool:
        if Capability.INBOX not in connector.capabilities:
            return False
        tried = self._inbox_read.get(account)
        if tried is not None and now - tried < self.inbox_every:
            return False  # a failed read waits too, it does not retry every round
        schedule = self._inbox_schedules.get(account)
        return schedule is None or now >= schedule.next_at

    def _collect_inbox(
        self, inbox: Inbox, platform: str, account: str, now: datetime, outcome: AccountOutcome
    ) -> None:
        """Read the pages since the cursor; store them and the next read in one transaction.

        What was read before a failing page is still stored (with the cursor reached).
        """
        self._inbox_read[account] = now
        start = inbox_cursor(self.store, account)
        read = _InboxRead(start)
        try:
            self._read_pages(inbox, read)
        finally:
            schedule = self._next_read(account, now, bool(read.items)) if read.done else None
            if schedule is None:  # a failed read waits too, on every daemon
                schedule = self._retry_read(account, now)
            if read.items or read.cursor != start or schedule is not None:
                outcome.interactions += save_inbox(
                    self.store,
                    account,
                    platform,
                    read.items,
                    read.cursor,
                    now,
                    schedule=schedule,
                )

    def _read_pages(self, inbox: Inbox, read: _InboxRead) -> None:
        for _page in range(self.inbox_pages):
            page = inbox.fetch_inbox(read.cursor)
            read.items.extend(page.items)
            ended = not page.items or page.cursor is None or page.cursor == read.cursor
            read.cursor = page.cursor or read.cursor
            if ended:
                break
        read.done = True

    def _retry_read(self, account: str, now: datetime) -> InboxSchedule:
        """After a failed read: again in ``inbox_every``, the interval reached kept."""
        previous = self._inbox_schedules.get(account)
        every = previous.every if previous else self.inbox_every
        schedule = InboxSchedule(every, now + self.inbox_every)
        self._inbox_schedules[account] = schedule
        return schedule

    def _next_read(self, account: str, now: datetime, found: bool) -> InboxSchedule:
        """Back to ``inbox_every`` after a read that found something, else twice the last
        wait; ``inbox_max_every`` while the account's stream is up."""
        every = self.inbox_every
        previous = self._inbox_schedules.get(account)
        if account in self._streamed:
            every = max(self.inbox_max_every, every)
        elif not found:
            waited = max(previous.every if previous else every, every)
            every = min(waited * 2, max(self.inbox_max_every, every))
        schedule = InboxSchedule(every, now + every)
        self._inbox_schedules[account] = schedule
        return schedule


@dataclass
class _InboxRead:
    """The pages of one inbox read so far."""

    cursor: str | None
    items: list[InboxItem] = field(default_factory=list)
    done: bool = False
