"""The daemon's notification streams: a mention is read at once, not at the next poll.

An account whose connector streams word of new mentions (``Capability.INBOX_STREAM``,
for example Mastodon with ``inbox_stream: true``) gets a thread that holds the stream
open. At each word, and each time the stream (re)connects, the daemon reads the inbox
from the stored cursor (``wake``), so nothing is lost while a stream is down and the
stream needs no storage of its own. Polling goes on beside it, at its longest interval
while the stream is up. A stream that breaks is opened again after 5 s, doubling to 5
minutes; one the server refuses (credentials, or no streaming: 404), after an hour; a
rate limit is waited out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
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

__all__ = ["InboxStreams", "streaming"]

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=5)
REFUSED_RETRY = timedelta(hours=1)


@dataclass
class _Stream:
    connector: Connector
    stop: threading.Event
    thread: threading.Thread


class InboxStreams:
    """One thread per account whose connector streams its inbox.

    Args:
        wake: reads the account's inbox now (the daemon queues it on its collect thread).
        changed: told when an account's stream goes up (True) or down (False).
        clock: returns the current UTC time.
    """

    def __init__(
        self,
        wake: Callable[[str], None],
        changed: Callable[[str, bool], None],
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.wake = wake
        self.changed = changed
        self.clock = clock or (lambda: datetime.now(UTC))
        self._streams: dict[str, _Stream] = {}

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

    def close(self) -> None:
        """Stop every stream (their threads end at the stream's next line, or are left)."""
        for account in list(self._streams):
            self._end(account)

    def _start(self, account: str, connector: Connector) -> None:
        stop = threading.Event()
        thread = threading.Thread(
            target=self._watch,
            args=(account, connector, stop),
            name=f"inbox-stream-{account}",
            daemon=True,  # a stream blocked on the network must not hold the process
        )
        self._streams[account] = _Stream(connector, stop, thread)
        thread.start()

    def _end(self, account: str) -> None:
        stream = self._streams.pop(account)
        stream.stop.set()
        self.changed(account, False)

    def _watch(self, account: str, connector: Connector, stop: threading.Event) -> None:
        assert isinstance(connector, InboxStream)
        backoff, opened = FIRST_RETRY, 0
        while not stop.is_set():
            connected, asked = self._listen(account, connector, stop, opened)
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
