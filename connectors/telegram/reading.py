"""Reading a Telegram chat back: reactions and member messages from updates, the member count.

The Bot API cannot read a message back. Reaction counts and member messages
reach a bot only as updates, handed out once by ``getUpdates`` and confirmed away
by the next call. So one reader reads them for both uses, and writes each page
to the core's store (``connectors.records``) in one transaction with the new
offset: what is confirmed is stored, and nothing is stored twice.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from connectors.base import (
    AccountMetrics,
    ConnectorSettings,
    ConnectorState,
    InboxItem,
    InboxPage,
    Metrics,
    Rejected,
)
from connectors.http import Kind
from connectors.records import (
    AccountRecords,
    CursorMove,
    CursorMoved,
    MemoryRecords,
    RecordBatch,
)
from connectors.telegram.api import TelegramApi
from connectors.telegram.legacy import legacy_batch, without_legacy
from connectors.telegram.members import DISCUSSION, Members, Threads
from connectors.telegram.models import BOT, CHAT, COUNT, UPDATES, Update, User
from connectors.telegram.updates import (
    ALLOWED,
    NARROW,
    OFFSET,
    WIDE,
    page_batch,
    thread_entries,
)

#: ``getUpdates`` returns at most 100 updates per call; stop after this many pages.
_UPDATE_PAGES = 10
_PAGE = 100
#: Threads learned whose publication is not recorded yet, kept in memory at most,
#: and for this many reads: a post sent by crosspost is recorded long before that.
_UNSAVED_MAX = 1000
_UNSAVED_READS = 5


@dataclass
class _Read:
    """What one read of the updates did."""

    #: False when a webhook owns the bot's updates (nothing was read).
    read: bool = True
    #: Member messages stored during the read.
    items: list[InboxItem] = field(default_factory=list)


class TelegramReading(TelegramApi):
    """The update reader and the other reads of :class:`TelegramConnector`."""

    _webhook_warned = False
    _bot: User | None = None

    def __init__(
        self, account: str, settings: ConnectorSettings, state: ConnectorState | None = None
    ) -> None:
        super().__init__(account, settings, state)
        #: Where the reader keeps what it read; the core hands over its store.
        self.records: AccountRecords = MemoryRecords()
        self._given = False
        self._imported = False
        self._reading = threading.Lock()
        #: Discussion threads of posts not recorded yet (the send was still being
        #: recorded, or not sent by crosspost): link → post, and reads tried.
        self._unsaved: dict[str, str] = {}
        self._tried: dict[str, int] = {}

    def use_records(self, records: AccountRecords) -> None:
        """Keep the offset, counts, messages and threads in ``records`` (the core's store)."""
        with self._reading:
            self.records, self._given, self._imported = records, True, False

    def exclusive_resource(self) -> str | None:
        """The bot's update stream: one offset per bot, whichever account reads it."""
        bot_id = self.settings.bot_token.get_secret_value().split(":", 1)[0]
        return f"the getUpdates offset of Telegram bot {bot_id}"

    # -- reading --------------------------------------------------------------

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reaction totals as ``likes`` for the posts Telegram has reported reactions on.

        Counts come from the ``message_reaction_count`` updates the reader stored
        (the newest per message). Posts no update mentioned yet are left out.
        """
        if not self._read_updates().read:
            return {}
        return self.records.observed(remote_ids)

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Comments, replies and mentions that arrived since the last read of updates.

        Member messages arrive only as ``message`` updates, read by the same loop
        as the reaction counts and stored as they are read, so the ones a metrics
        read found are in the store already. The page holds those this call
        stored; its cursor is the update offset (for show: reading resumes from
        the offset in the store, whatever ``cursor`` says).

        Raises:
            Rejected: the account has ``inbox: false``.
            AuthError, RateLimited, Transient.
        """
        if not self.settings.inbox:
            raise self.unable("inbox")
        self._enable_inbox()
        read = self._read_updates()
        if not read.read:
            return InboxPage((), cursor)
        return InboxPage(tuple(read.items), self.records.cursor(OFFSET) or cursor)

    def _enable_inbox(self) -> None:
        """From the first inbox read on, the reader asks for member messages too."""
        allowed = self.records.cursor(ALLOWED)
        if allowed != WIDE:
            try:
                self.records.write(RecordBatch(cursors=(CursorMove(ALLOWED, allowed, WIDE),)))
            except CursorMoved:
                pass  # another reader widened it first

    def _allowed_updates(self) -> str:
        # Messages are asked for only once the inbox is read; Telegram applies a
        # new list to updates created after the call.
        if self.settings.inbox and self.records.cursor(ALLOWED) == WIDE:
            return WIDE
        return NARROW

    def _read_updates(self) -> _Read:
        """Read pending updates once for both uses: reaction counts and member messages.

        One reader at a time per connector; a reader in another process that moved
        the offset first makes this one stop (it read nothing the store lacks).
        """
        done = _Read()
        with self._reading:
            self._import_legacy()
            self._retry_unsaved()
            for _page in range(_UPDATE_PAGES):
                offset = self.records.cursor(OFFSET)
                updates = self._get_updates(offset)
                if updates is None:
                    return _Read(read=False)
                members = self._members(updates)
                batch = page_batch(updates, offset, members)
                try:
                    written = self.records.write(batch)
                except CursorMoved:
                    self.log.info("another reader moved the update offset; read again next time")
                    break
                done.items.extend(batch.inbox)
                if members is not None:
                    self._keep_unsaved(members.threads.learned, written.unmatched)
                if len(updates) < _PAGE:
                    break
        return done

    def _members(self, updates: Sequence[Update]) -> Members | None:
        if not any(update.message is not None for update in updates):
            return None
        threads = Threads.of(self.records.extras(DISCUSSION), self._unsaved)
        return Members(self.settings.chat_id, self._identity, threads)

    def _keep_unsaved(
        self, learned: Mapping[str, str], unmatched: frozenset[str], tried: bool = False
    ) -> None:
        """Keep the threads of posts the store does not have yet; later reads retry."""
        for link, post in learned.items():
            tries = self._tried.get(link, 0) + tried
            if post in unmatched and tries < _UNSAVED_READS:
                self._unsaved[link], self._tried[link] = post, tries
            else:
                self._unsaved.pop(link, None)
                self._tried.pop(link, None)
        while len(self._unsaved) > _UNSAVED_MAX:
            self._tried.pop(next(iter(self._unsaved)), None)
            del self._unsaved[next(iter(self._unsaved))]

    def _retry_unsaved(self) -> None:
        """Store the threads whose posts were not recorded at the last read, once they are."""
        if not self._unsaved:
            return
        learned = dict(self._unsaved)
        written = self.records.write(RecordBatch(extra=thread_entries(learned)))
        self._keep_unsaved(learned, written.unmatched, tried=True)

    def _get_updates(
        self, offset: str | None, limit: int = _PAGE, wait: int = 0
    ) -> list[Update] | None:
        """One ``getUpdates`` page; None when a webhook is set (409, warned once).

        With ``wait`` seconds, Telegram holds the call open until an update arrives
        or the time is up (long polling), so the socket waits longer than that.
        """
        params: dict[str, str | int] = {
            "offset": int(offset or 0),
            "limit": limit,
            "timeout": wait,
            "allowed_updates": self._allowed_updates(),
        }
        timeout = self.held_open(wait) if wait else None
        try:
            updates = self._call("getUpdates", Kind.READ, UPDATES, params=params, timeout=timeout)
        except Rejected as error:
            if error.status != 409:
                raise
            self._warn_webhook()
            return None
        return [update for update in updates if update is not None]

    def _warn_webhook(self) -> None:
        if not self._webhook_warned:
            self._webhook_warned = True
            self.log.warning(
                "reactions and member messages unavailable: the bot has a webhook, so "
                "getUpdates is refused (use a bot without a webhook)"
            )

    def _import_legacy(self) -> None:
        """Move what an older version kept in the state file into the store, once."""
        if not self._given or self._imported:
            return  # no store yet: the file stays as it is
        legacy = legacy_batch(self.state.load(), self.records, self.settings.inbox)
        if legacy is not None:
            try:
                written = self.records.write(legacy.batch)
            except CursorMoved:
                return  # another reader moved on meanwhile: try again on the next read
            self._keep_unsaved(legacy.threads, written.unmatched)
            self.state.update(without_legacy)
            self.log.info("moved the update reader's state from the state file into the store")
        self._imported = True

    def _identity(self) -> User:
        """The bot (``getMe``), asked once per connector."""
        if self._bot is None:
            self._bot = self._call("getMe", Kind.READ, BOT)
        return self._bot

    def account_metrics(self) -> AccountMetrics:
        """Members of the chat; for a channel they are its followers too."""
        params = {"chat_id": self.settings.chat_id}
        count = self._call("getChatMemberCount", Kind.READ, COUNT, params=params)
        chat = self._call("getChat", Kind.READ, CHAT, params=params)
        channel = chat.type == "channel"
        return AccountMetrics(
            members=count,
            followers=count if channel else None,
            raw={"member_count": count, "type": chat.type},
        )
