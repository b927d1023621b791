"""A scripted Nostr relay on 127.0.0.1 for unit tests: real WebSockets, chosen answers.

``responses`` mocks HTTP only; a relay speaks NIP-01 over a WebSocket, so the tests
run a tiny server (``websockets.sync.server``) whose answers a test scripts: a
function gets each message the client sends and the connection to answer on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from websockets.sync.server import ServerConnection, serve

Message = list[Any]
Script = Callable[[Message, "Peer"], None]


class Peer:
    """The client's side as the relay sees it: answer, or hang up."""

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws

    def say(self, *message: Any) -> None:
        self.ws.send(json.dumps(list(message)))

    def hang_up(self) -> None:
        self.ws.close()


class FakeRelay:
    """A relay that runs ``script`` on each message and records what it received."""

    def __init__(self, script: Script, greeting: Message | None = None) -> None:
        self.script = script
        self.greeting = greeting
        self.received: list[Message] = []
        self._server = serve(self._handle, "127.0.0.1", 0)
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _handle(self, ws: ServerConnection) -> None:
        peer = Peer(ws)
        if self.greeting is not None:
            peer.say(*self.greeting)
        try:
            for raw in ws:
                message = json.loads(raw)
                self.received.append(message)
                self.script(message, peer)
        except Exception:  # a hang-up in a script ends the connection, as on a real relay
            return

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def sent(self, kind: str) -> list[Message]:
        """The messages of one type (``EVENT``, ``REQ``, ``AUTH``…) the client sent."""
        return [m for m in self.received if m and m[0] == kind]


@contextmanager
def running(script: Script, greeting: Message | None = None) -> Iterator[FakeRelay]:
    relay = FakeRelay(script, greeting)
    try:
        yield relay
    finally:
        relay.stop()


# --------------------------------------------------------------------------- scripts


def answers_ok(accepted: bool = True, reason: str = "") -> Script:
    """Every EVENT gets ``["OK", id, accepted, reason]``; every REQ an empty EOSE."""

    def script(message: Message, peer: Peer) -> None:
        if message[0] == "EVENT":
            peer.say("OK", message[1]["id"], accepted, reason)
        elif message[0] == "REQ":
            peer.say("EOSE", message[1])

    return script


def holding(events: list[dict[str, Any]]) -> Script:
    """A relay that holds ``events``: each REQ gets those matching its ``ids``/``#e``/kinds."""

    def matches(event: dict[str, Any], flt: dict[str, Any]) -> bool:
        if "ids" in flt and event["id"] not in flt["ids"]:
            return False
        if "kinds" in flt and event["kind"] not in flt["kinds"]:
            return False
        if "authors" in flt and event["pubkey"] not in flt["authors"]:
            return False
        for key, wanted in flt.items():
            if key.startswith("#"):
                values = {t[1] for t in event["tags"] if len(t) > 1 and t[0] == key[1:]}
                if not values & set(wanted):
                    return False
        return True

    def script(message: Message, peer: Peer) -> None:
        if message[0] == "REQ":
            subscription, filters = message[1], message[2:]
            for event in events:
                if any(matches(event, f) for f in filters):
                    peer.say("EVENT", subscription, event)
            peer.say("EOSE", subscription)
        elif message[0] == "EVENT":
            peer.say("OK", message[1]["id"], True, "")

    return script
