"""One relay over one WebSocket: send an event and read its ``OK``, or run one ``REQ``.

NIP-01 (https://github.com/nostr-protocol/nips/blob/master/01.md):
``["EVENT", ev]`` → ``["OK", id, true|false, "prefix: message"]``;
``["REQ", sub, filter…]`` → ``["EVENT", sub, ev]``… then ``["EOSE", sub]`` (or
``["CLOSED", sub, message]``), ended with ``["CLOSE", sub]``. NIP-42: a relay that
says ``auth-required:`` after sending ``["AUTH", challenge]`` is answered with a
signed kind-22242 event, then asked again once.

Nothing here picks an error class: a failure is a :class:`RelayFailure` carrying the
:class:`~connectors.http.Verdict` of what happened, and the connector maps it with
the request's ``Kind``. The one line that matters: anything that fails before the
message left is ``NOT_SENT``, anything after it is ``ANSWER_LOST``.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from connectors.http import Kind, Outcome, Verdict, user_agent
from connectors.nostr.events import Event, as_event, sign_event
from connectors.nostr.keys import Keys

__all__ = ["AUTH_KIND", "Accepted", "RelayClient", "RelayFailure", "verdict_of"]

log = logging.getLogger(__name__)

#: NIP-42 authentication event.
AUTH_KIND = 22242
#: Largest message read from a relay (events are small; a REQ answer is many messages).
MAX_MESSAGE = 4 * 1024 * 1024
#: OK/CLOSED prefixes (NIP-01) and what each says happened; others are refusals.
_PREFIXES = {
    "rate-limited": Outcome.RATE_LIMITED,
    "auth-required": Outcome.AUTH,
    "error": Outcome.PLATFORM_FAILED,
}

Filter = Mapping[str, object]
#: A relay message: a JSON array whose first item names it.
Message = list[Any]


class RelayFailure(Exception):
    """A relay did not do what was asked; ``verdict`` says what happened."""

    def __init__(self, relay: str, verdict: Verdict) -> None:
        if not verdict.message.startswith(relay):
            verdict = replace(verdict, message=f"{relay}: {verdict.message}")
        super().__init__(verdict.message)
        self.relay = relay
        self.verdict = verdict


@dataclass(frozen=True)
class Accepted:
    """A relay took the event: its ``OK`` message (``duplicate: …`` when it had it already)."""

    relay: str
    message: str

    @property
    def duplicate(self) -> bool:
        """True when the relay already had this event (a resend of the same event)."""
        return self.message.startswith("duplicate:")


def verdict_of(relay: str, message: str) -> Verdict:
    """What a refusal (``OK false`` or ``CLOSED``) with ``message`` says happened."""
    prefix = message.partition(":")[0].strip().lower()
    outcome = _PREFIXES.get(prefix, Outcome.REJECTED)
    return Verdict(outcome, f"{relay} refused it: {message or 'no reason given'}")


class _Session:
    """One open connection: the messages read so far and the relay's AUTH challenge."""

    def __init__(self, url: str, ws: ClientConnection, deadline: float) -> None:
        self.url = url
        self.ws = ws
        self.deadline = deadline
        self.challenge: str | None = None
        self.authed = False

    def send(self, message: Message) -> None:
        try:
            self.ws.send(json.dumps(message, ensure_ascii=False))
        except (ConnectionClosed, OSError) as error:
            # part of the frame may have left: as uncertain as a lost answer
            reason = f"connection lost while sending ({error})"
            raise RelayFailure(self.url, _lost(reason)) from None

    def receive(self) -> Message:
        """The next JSON array from the relay; NOTICE and AUTH are noted, not returned."""
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise RelayFailure(self.url, _lost("no answer before the timeout"))
            try:
                raw = self.ws.recv(timeout=remaining)
            except TimeoutError:
                raise RelayFailure(self.url, _lost("no answer before the timeout")) from None
            except (ConnectionClosed, OSError) as error:
                raise RelayFailure(self.url, _lost(f"connection closed ({error})")) from None
            message = _parse(raw)
            if not message:
                continue
            if message[0] == "AUTH" and len(message) > 1 and isinstance(message[1], str):
                self.challenge = message[1]
            elif message[0] == "NOTICE":
                log.info("%s says: %s", self.url, str(message[1:])[:200])
            else:
                return message


def _parse(raw: str | bytes) -> Message | None:
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    return (
        message if isinstance(message, list) and message and isinstance(message[0], str) else None
    )


def _lost(message: str) -> Verdict:
    return Verdict(Outcome.ANSWER_LOST, message)


class RelayClient:
    """Talks to one relay for one account; each call opens and closes its own connection.

    Args:
        url: the relay's ``wss://`` URL.
        keys: the account's keys (for NIP-42 AUTH).
        timeout: seconds for the connection to open, then for the answer to arrive.
    """

    #: Called with (relay URL, message type, kind) before each message is sent; tests listen.
    observers: ClassVar[list[Callable[[str, str, Kind], None]]] = []

    def __init__(self, url: str, keys: Keys, timeout: float) -> None:
        self.url = url
        self.keys = keys
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"RelayClient({self.url!r})"

    def publish(self, event: Event, kind: Kind) -> Accepted:
        """Send ``event`` and wait for its ``OK``.

        Raises:
            RelayFailure: refused (its prefix says why), not sent, or no answer.
        """
        with self._session() as session:
            accepted, message = self._send_event(session, event, kind)
            if not accepted and self._authenticate(session, message):
                accepted, message = self._send_event(session, event, kind)
        if not accepted:
            raise RelayFailure(self.url, verdict_of(self.url, message))
        return Accepted(self.url, message)

    def query(self, filters: Sequence[Filter]) -> list[Event]:
        """Every event the relay holds that matches any of ``filters``, up to EOSE.

        Events that are malformed or whose id or signature is wrong are dropped.

        Raises:
            RelayFailure: the relay closed the subscription, failed, or did not finish in time.
        """
        with self._session() as session:
            events, closed = self._ask(session, filters)
            if closed is not None and self._authenticate(session, closed):
                events, closed = self._ask(session, filters)
        if closed is not None:
            raise RelayFailure(self.url, verdict_of(self.url, closed))
        return events

    # -- the conversation -----------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[_Session]:
        try:
            ws = connect(
                self.url,
                open_timeout=self.timeout,
                close_timeout=min(self.timeout, 5.0),
                max_size=MAX_MESSAGE,
                user_agent_header=user_agent(),
            )
        except InvalidStatus as error:
            status = error.response.status_code
            outcome = Outcome.RATE_LIMITED if status == 429 else Outcome.NOT_SENT
            reason = f"connection refused with HTTP {status}"
            raise RelayFailure(self.url, Verdict(outcome, reason, status)) from None
        except (OSError, TimeoutError, WebSocketException) as error:
            reason = f"could not connect ({type(error).__name__})"
            raise RelayFailure(self.url, Verdict(Outcome.NOT_SENT, reason)) from None
        with ws:
            yield _Session(self.url, ws, time.monotonic() + self.timeout)

    def _send_event(self, session: _Session, event: Event, kind: Kind) -> tuple[bool, str]:
        """Whether the relay took ``event`` (a ``duplicate:`` counts) and its message."""
        self._notify("EVENT", kind)
        session.send(["EVENT", event])
        accepted, message = self._ok_for(session, event["id"])
        return accepted or message.startswith("duplicate:"), message

    def _ask(self, session: _Session, filters: Sequence[Filter]) -> tuple[list[Event], str | None]:
        """One subscription: its events up to EOSE, or the ``CLOSED`` message."""
        subscription = "xp" + secrets.token_hex(6)
        self._notify("REQ", Kind.READ)
        session.send(["REQ", subscription, *filters])
        events, closed = self._collect(session, subscription)
        if closed is None:
            try:
                session.send(["CLOSE", subscription])
            except RelayFailure:
                pass  # everything was read; the connection closes anyway
        return events, closed

    def _ok_for(self, session: _Session, event_id: str) -> tuple[bool, str]:
        """The ``OK`` of ``event_id``: accepted and the relay's message."""
        while True:
            message = session.receive()
            # a relay that cannot parse the event answers for id "" (nostr-relay does)
            if message[0] == "OK" and len(message) >= 3 and message[1] in (event_id, ""):
                return message[2] is True, str(message[3]) if len(message) > 3 else ""

    def _collect(self, session: _Session, subscription: str) -> tuple[list[Event], str | None]:
        """Events up to ``EOSE`` (closed None), or those before ``CLOSED`` and its message."""
        events: list[Event] = []
        while True:
            message = session.receive()
            if len(message) < 2 or message[1] != subscription:
                continue
            if message[0] == "EVENT" and len(message) >= 3:
                event = as_event(message[2])
                if event is not None:
                    events.append(event)
            elif message[0] == "EOSE":
                return events, None
            elif message[0] == "CLOSED":
                return events, str(message[2]) if len(message) > 2 else ""

    def _authenticate(self, session: _Session, refusal: str) -> bool:
        """Answer the relay's AUTH challenge (NIP-42) when ``refusal`` asks for it, once."""
        if not refusal.startswith("auth-required:") or not session.challenge or session.authed:
            return False
        session.authed = True
        tags = [["relay", self.url], ["challenge", session.challenge]]
        auth = sign_event(self.keys, int(time.time()), AUTH_KIND, tags, "")
        self._notify("AUTH", Kind.HARMLESS_WRITE)
        session.send(["AUTH", auth])
        accepted, message = self._ok_for(session, auth["id"])
        if not accepted:
            log.info("%s refused our AUTH: %s", self.url, message)
        return accepted

    def _notify(self, what: str, kind: Kind) -> None:
        for observe in self.observers:
            observe(self.url, what, kind)
