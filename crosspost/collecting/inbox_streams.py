"""The daemon's notification streams: a mention is read at once, not at the next poll.

An account whose connector streams word of new mentions (``Capability.INBOX_STREAM``,
for example Mastodon with ``inbox_stream: true``) gets a thread that holds the stream
open. At each word, and each time the stream (re)connects, the daemon reads the inbox
from the stored cursor (``wake``), so nothing is lost while a stream is down and the
stream needs no storage of its own. Polling goes on beside it, at its longest interval
while the stream is up. A stream that breaks is opened again after 5 s, doubling to 5
minutes; one the server refuses (credentials, or no streaming: 404), after an hour; a
rate limit is waited out.

Several daemons on one database open one stream per account between them: a daemon
leases the account's stream in the store (:class:`StreamLeases`, kind ``stream``)
before it connects, renews the lease while the stream is open, and lets go when it
ends. A daemon that finds the lease held looks again every minute, so another takes
the stream over within a minute when the holder stops, within three when it dies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.base import (
    AuthError,
    Capability,
    Connector,
    ConnectorError,
    InboxStream,
    RateLimited,
    Rejected,
)
from crosspost.loading.project import Project
from crosspost.store import Store
from crosspost.store.claims import STREAM, claim_accounts, release_accounts

__all__ = ["InboxStreams", "StreamLeases", "streaming"]

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=5)
REFUSED_RETRY = timedelta(hours=1)
#: How long a daemon's hold on an account's stream lasts unless it is renewed.
STREAM_LEASE = timedelta(minutes=2)
#: How often a daemon renews the holds of its open streams.
RENEW_EVERY = timedelta(seconds=30)
#: How often a daemon looks again at a stream another daemon holds.
HELD_ELSEWHERE_RETRY = timedelta(minutes=1)


@dataclass
class _Stream:
    connector: Connector
    stop: threading.Event
    thread: threading.Thread | None = None
    #: Set to end the current connection: the daemon stops, or the hold was lost.
    ending: threading.Event = field(default_factory=threading.Event)


class StreamLeases:
    """Which daemon holds each account's stream, leased in ``store`` as ``worker``.

    A store that cannot be asked (locked, unreachable) does not stop a stream: at
    worst two daemons stream one account for a while, and each read of the inbox
    is leased on its own (:meth:`MetricsCollector.read_inbox_now`).
    """

    def __init__(
        self, store: Store, worker: str, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.store = store
        self.worker = worker
        self.clock = clock or (lambda: datetime.now(UTC))

    def hold(self, account: str) -> bool:
        """Take or renew this daemon's hold on ``account``'s stream; False when another
        daemon holds it."""
        try:
            taken = claim_accounts(
                self.store, STREAM, [account], self.worker, self.clock(), STREAM_LEASE
            )
        except Exception:
            log.warning("%s: could not lease the notification stream; streaming", account,
                        exc_info=True)  # fmt: skip
            return True
        return taken == [account]

    def let_go(self, account: str) -> None:
        """Give up this daemon's hold on ``account``'s stream (it ended)."""
        try:
            release_accounts(self.store, STREAM, [account], self.worker)
        except Exception:  # the lease runs out by itself
            log.debug("%s: could not give the notification stream back", account,
                      exc_info=True)  # fmt: skip


class InboxStreams:
    """One thread per account whose connector streams its inbox.

    Args:
        wake: reads the account's inbox now (the daemon queues it on its collect thread).
        changed: told when an account's stream goes up (True) or down (False).
        clock: returns the current UTC time.
        leases: who holds each account's stream among daemons on one database; without
            them, every stream this daemon wants is opened.
    """

    def __init__(
        self,
        wake: Callable[[str], None],
        changed: Callable[[str, bool], None],
        clock: Callable[[], datetime] | None = None,
        leases: StreamLeases | None = None,
    ) -> None:
        self.wake = wake
        self.changed = changed
        self.clock = clock or (lambda: datetime.now(UTC))
        self.leases = leases
        self._streams: dict[str, _Stream] = {}
        self._open: set[str] = set()
        self._closed = threading.Event()
        self._keeper: threading.Thread | None = None

    @property
    def accounts(self) -> list[str]:
        """The accounts whose stream thread runs."""
        return sorted(self._streams)

    def follow(self, project: Project) -> None:
        """Stream the accounts of ``project`` that can; stop the streams of the others.

        A stream whose connector is the same object goes on (a reload keeps unchanged
        accounts' connectors); one whose settings changed is opened again.
        """
        wanted = streaming(project)
        for account, stream in list(self._streams.items()):
            if wanted.get(account) is not stream.connector:
                self._end(account)
        for account, connector in wanted.items():
            if account not in self._streams:
                self._start(account, connector)
        if self.leases is not None and self._keeper is None and self._streams:
            self._keeper = threading.Thread(target=self._keep, name="inbox-streams", daemon=True)
            self._keeper.start()

    def close(self) -> None:
        """Stop every stream (their threads end at the stream's next line, or are left)
        and give their holds back, so that another daemon takes them over at once."""
        self._closed.set()
        for account in list(self._streams):
            self._end(account)
            if self.leases is not None:
                self.leases.let_go(account)

    def renew(self) -> None:
        """Renew the holds of the open streams; end one that another daemon holds now
        (this daemon's hold ran out while it could not renew it)."""
        if self.leases is None:
            return
        for account in sorted(self._open):
            stream = self._streams.get(account)
            if stream is not None and not self.leases.hold(account):
                log.info("%s: another daemon holds the notification stream now", account)
                stream.ending.set()

    def _keep(self) -> None:
        while not self._closed.wait(RENEW_EVERY.total_seconds()):
            try:
                self.renew()
            except Exception:  # renewing must never end the daemon's other work
                log.exception("renewing the notification streams' holds failed")

    def _start(self, account: str, connector: Connector) -> None:
        stream = _Stream(connector, threading.Event())
        stream.thread = threading.Thread(
            target=self._watch,
            args=(account, stream),
            name=f"inbox-stream-{account}",
            daemon=True,  # a stream blocked on the network must not hold the process
        )
        self._streams[account] = stream
        stream.thread.start()

    def _end(self, account: str) -> None:
        stream = self._streams.pop(account)
        stream.stop.set()
        stream.ending.set()
        self.changed(account, False)

    def _watch(self, account: str, stream: _Stream) -> None:
        connector, stop = stream.connector, stream.stop
        assert isinstance(connector, InboxStream)
        backoff, opened = FIRST_RETRY, 0
        while not stop.is_set():
            if self.leases is not None and not self.leases.hold(account):
                stop.wait(HELD_ELSEWHERE_RETRY.total_seconds())
                continue
            stream.ending = ending = threading.Event()
            if stop.is_set():  # stopped while the hold was taken: _end set the last one
                break
            connected, asked = self._listen(account, connector, ending, opened)
            if self.leases is not None:
                self.leases.let_go(account)
            opened += connected
            if connected:
                backoff = FIRST_RETRY
            stop.wait((asked or backoff).total_seconds())
            if asked is None and not connected:
                backoff = min(backoff * 2, LONGEST_RETRY)

    def _listen(
        self, account: str, connector: InboxStream, stop: threading.Event, opened: int
    ) -> tuple[bool, timedelta | None]:
        """Hold the stream open until it ends: whether it connected, and how long the
        platform asked to wait before the next try (None: the usual backoff)."""
        connected = False
        try:
            for _word in connector.stream_inbox(stop):
                if stop.is_set():
                    break
                if not connected:
                    connected = True
                    self._open.add(account)
                    self.changed(account, True)
                    log.log(
                        logging.DEBUG if opened else logging.INFO,
                        "%s: notification stream open; mentions are read as they come",
                        account,
                    )
                self.wake(account)
        except RateLimited as exc:
            log.info("%s: notification stream rate limited until %s", account, exc.retry_at)
            return connected, max(exc.retry_at - self.clock(), FIRST_RETRY)
        except (AuthError, Rejected) as exc:  # a token without the scope, a server without it
            log.warning("%s: notification stream refused, polling goes on: %s", account, exc)
            return connected, REFUSED_RETRY
        except ConnectorError as exc:
            log.info("%s: notification stream lost, polling goes on: %s", account, exc)
        except Exception:  # a broken connector must not end the daemon's other work
            log.exception("%s: unexpected error in the notification stream", account)
        finally:
            if connected:  # even when stopped: at worst the account is polled sooner
                self._open.discard(account)
                self.changed(account, False)
        return connected, None


def streaming(project: Project) -> dict[str, Connector]:
    """The accounts of ``project`` whose connector streams its inbox, with the connector."""
    found: dict[str, Connector] = {}
    for account in sorted(project.accounts):
        try:
            connector = project.connector(account)
        except Exception:  # a connector that cannot be built is reported by the round
            continue
        abilities = connector.capabilities
        if Capability.INBOX_STREAM in abilities and Capability.INBOX in abilities:
            if isinstance(connector, InboxStream):
                found[account] = connector
    return found
