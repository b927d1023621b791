"""Telegram's long polling as the inbox's wake-up call (``inbox_stream: true``).

``getUpdates`` with a ``timeout`` (https://core.telegram.org/bots/api#getupdates) is held
open by Telegram until an update arrives or the time is up. The stream waits that way
for one update from the stored offset, which confirms nothing the store lacks; when one
comes, it reads every pending update as a poll does (stored with the new offset in one
transaction) and gives word when member messages came, so that the daemon reads the
inbox at once. While the stream is up it is this connector's only reader: the reads of
the collector take what it stored (reaction counts, member messages) without asking
Telegram, so they never end its wait.

Telegram ends a wait with 409 ("terminated by other getUpdates request") when anyone
else asks for the bot's updates: another daemon's poll of the account now and then, or
another program that uses the bot. The stream waits again, and breaks after a few in a
row. A webhook on the bot refuses ``getUpdates`` altogether (409 as well): the stream
is refused, and polling says why.

Telegram's other push, a webhook, needs an address Telegram reaches over HTTPS; long
polling needs none and is as prompt, so crosspost uses it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from connectors.base import InboxItem, InboxPage, Metrics, Rejected, Transient
from connectors.telegram.reading import TelegramReading
from connectors.telegram.updates import OFFSET

__all__ = ["LONG_POLL", "TelegramStreaming"]

#: Seconds Telegram holds a wait open when nothing arrives.
LONG_POLL = 30
#: Waits ended by another reader, one after the other, before the stream gives up.
ENDED_BY_OTHERS = 3
#: Seconds between a wait another reader ended and the next, so that two readers of
#: one bot do not end each other's calls in a tight loop.
AFTER_OTHERS = 1.0
#: Member messages kept for the next inbox read at most: they are in the store already,
#: and a daemon whose inbox reads another daemon makes keeps no growing list.
STREAMED_AT_MOST = 1000
_CONFLICT = 409


class TelegramStreaming(TelegramReading):
    """The long-polling part of :class:`connectors.telegram.TelegramConnector`."""

    #: Member messages the stream stored and no inbox read took yet; None while no
    #: stream runs (the reads then ask Telegram themselves).
    _streamed: list[InboxItem] | None = None

    def stream_inbox(self, stop: threading.Event) -> Iterator[None]:
        """Yield once the bot is known, then each time member messages were stored.

        Raises:
            Rejected: the account has ``inbox: false``, or the bot has a webhook.
            AuthError: the token was refused.
            RateLimited, Transient: a wait failed, or other readers ended it again and
                again.
        """
        if not self.settings.inbox:
            raise self.unable("inbox")
        self._identity()
        self._enable_inbox()
        with self._reading:
            self._streamed = []
        try:
            yield  # connected: what came while no one listened is read now
            ended = 0
            while not stop.is_set():
                pending = self._wait_for_update()
                if pending is None:
                    ended += 1
                    if ended >= ENDED_BY_OTHERS:
                        raise self.error(Transient, "another program reads this bot's updates")
                    stop.wait(AFTER_OTHERS)
                    continue
                ended = 0
                if pending and not stop.is_set() and self._read_streamed():
                    yield
        finally:
            with self._reading:
                self._streamed = None

    def _wait_for_update(self) -> bool | None:
        """Wait up to ``LONG_POLL`` seconds for an update: whether one is pending, None
        when another reader ended the wait."""
        try:
            waiting = self._get_updates(self.records.cursor(OFFSET), limit=1, wait=LONG_POLL)
        except Transient as error:
            if error.status == _CONFLICT:
                return None
            raise
        if waiting is None:
            raise self._webhook_refusal()
        return bool(waiting)

    def _read_streamed(self) -> bool:
        """Read and store what is pending; whether member messages came."""
        read = self._read_updates()
        if not read.read:
            raise self._webhook_refusal()
        with self._reading:
            if self._streamed is not None:
                self._streamed.extend(read.items)
                del self._streamed[:-STREAMED_AT_MOST]
        return bool(read.items)

    def _webhook_refusal(self) -> Rejected:
        return self.error(
            Rejected, "the bot has a webhook, so Telegram refuses to hand out its updates", 409
        )

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reaction totals as ``likes`` (see :meth:`TelegramReading.fetch_metrics`); while
        the stream runs, the ones it stored."""
        if self._streamed is None:
            return super().fetch_metrics(remote_ids)
        return self.records.observed(remote_ids)

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Member messages (see :meth:`TelegramReading.fetch_inbox`); while the stream
        runs, those it stored since the last read."""
        with self._reading:
            streamed, self._streamed = self._streamed, None if self._streamed is None else []
        if streamed is None:
            return super().fetch_inbox(cursor)
        return InboxPage(tuple(streamed), self.records.cursor(OFFSET) or cursor)
