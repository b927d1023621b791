"""The webhook connector against a real HTTP receiver on 127.0.0.1 (the standard library's).

The receiver does what docs/connectors/webhook.md asks of one: it verifies each request
with the Standard Webhooks reference library, answers 401 when that fails, and answers a
``webhook-id`` it has seen with what it answered the first time. Some paths misbehave on
purpose (a failure first, a redirect, a slow answer, a rate limit).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from connectors.base import AuthError, RateLimited, Rejected, RenderedPost, Transient, Unknown
from connectors.webhook import WebhookConnector
from tests.fakes import run_in

pytestmark = pytest.mark.realserver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#: How long /slow keeps the connector waiting; its read timeout is far shorter.
SLOW_SECONDS = 2.0


@dataclass
class Delivery:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool


@dataclass
class Receiver:
    """What the receiver saw and remembers."""

    base: str
    deliveries: list[Delivery] = field(default_factory=list)
    handled: dict[str, dict[str, str]] = field(default_factory=dict)
    failed_once: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib's name)
            """Quiet: the tests read ``receiver.deliveries`` instead."""

        def do_POST(self) -> None:  # noqa: N802 (stdlib's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = dict(self.headers.items())
            try:
                Webhook(SECRET).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
            with receiver.lock:
                receiver.deliveries.append(Delivery(self.path, headers, body, verified))
            if not verified:
                return self._answer(401, {"error": "bad signature"})
            self._route(headers["webhook-id"])

        def _route(self, message_id: str) -> None:
            if self.path == "/moved":
                return self._answer(307, {}, {"Location": f"{receiver.base}/ok"})
            if self.path == "/busy":
                return self._answer(429, {"error": "slow down"}, {"Retry-After": "30"})
            if self.path == "/slow":
                time.sleep(SLOW_SECONDS)
            with receiver.lock:
                fail = self.path == "/flaky" and message_id not in receiver.failed_once
                receiver.failed_once.add(message_id)
                seen = receiver.handled.get(message_id)
                if not fail and seen is None:
                    number = len(receiver.handled) + 1
                    seen = receiver.handled[message_id] = {
                        "id": f"run-{number}",
                        "url": f"{receiver.base}/runs/{number}",
                    }
            if fail:
                return self._answer(503, {"error": "try later"})
            assert seen is not None
            self._answer(200, seen)

        def _answer(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # /slow: the connector gave up waiting, as it should

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    found = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(found)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def connector(url: str, **settings: object) -> WebhookConnector:
    values = {"url": url, "secret": SECRET, **settings}
    return WebhookConnector("automation", WebhookConnector.Settings.model_validate(values))


POST = RenderedPost(parts=("Doors open at **10:00** ✓",), content_id="launch", title="Launch")


def test_a_signed_post_is_received_verified_and_recorded(receiver: Receiver) -> None:
    published = connector(f"{receiver.base}/ok").publish(POST, "crosspost-real-1")
    assert (published.remote_id, published.url) == ("run-1", f"{receiver.base}/runs/1")
    [delivery] = receiver.deliveries
    assert delivery.verified
    assert json.loads(delivery.body)["data"]["text"] == "Doors open at **10:00** ✓"
    assert delivery.headers["Idempotency-Key"] == "crosspost-real-1"


def test_a_failed_attempt_is_sent_again_under_the_same_id(receiver: Receiver) -> None:
    hook = connector(f"{receiver.base}/flaky")
    with pytest.raises(Transient):
        hook.publish(POST, "crosspost-real-2")
    published = hook.publish(POST, "crosspost-real-2")
    assert published.remote_id == "run-1"
    ids = [d.headers["webhook-id"] for d in receiver.deliveries]
    assert ids == ["crosspost-real-2", "crosspost-real-2"]
    assert all(d.verified for d in receiver.deliveries)


def test_a_receiver_that_dedups_answers_a_resend_as_before(receiver: Receiver) -> None:
    first = connector(f"{receiver.base}/ok").publish(POST, "crosspost-real-3")
    again = connector(f"{receiver.base}/ok").publish(POST, "crosspost-real-3")
    assert again.remote_id == first.remote_id
    assert len(receiver.handled) == 1


def test_a_wrong_secret_is_refused_by_the_receiver(receiver: Receiver) -> None:
    other = "whsec_" + "A" * 43 + "="
    with pytest.raises(AuthError):
        connector(f"{receiver.base}/ok", secret=other).publish(POST, "crosspost-real-4")
    assert receiver.deliveries[0].verified is False


def test_a_redirect_is_refused_and_not_followed(receiver: Receiver) -> None:
    with pytest.raises(Rejected, match="redirect"):
        connector(f"{receiver.base}/moved").publish(POST, "crosspost-real-5")
    assert [d.path for d in receiver.deliveries] == ["/moved"]


def test_a_rate_limit_says_when_to_come_back(receiver: Receiver) -> None:
    with pytest.raises(RateLimited) as caught:
        connector(f"{receiver.base}/busy").publish(POST, "crosspost-real-6")
    assert caught.value.retry_at is not None


def test_an_answer_that_never_comes_is_unknown(receiver: Receiver) -> None:
    with pytest.raises(Unknown):
        connector(f"{receiver.base}/slow", timeout=0.3).publish(POST, "crosspost-real-7")
    assert len(receiver.deliveries) == 1  # it arrived: only the answer was lost


def test_nobody_listening_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(Transient):
        connector(f"http://127.0.0.1:{port}/ok").publish(POST, "crosspost-real-8")


def test_crosspost_publish_reaches_the_receiver(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    (tmp_path / "schedule.yaml").write_text(
        "accounts:\n"
        "  automation:\n"
        "    connector: webhook\n"
        f"    url: {receiver.base}/ok\n"
        "    secret: ${HOOK_SECRET}\n"
        "content:\n"
        "  - id: launch\n"
        "    title: Launch day\n"
        "    body: We open the doors at **10:00**.\n"
        "    tags: [python]\n",
        encoding="utf-8",
    )
    result = run_in(tmp_path, "publish", "launch", "--to", "automation", "--json")
    assert result.exit_code == 0, result.output
    [delivery] = receiver.deliveries
    assert delivery.verified
    data = json.loads(delivery.body)["data"]
    assert (data["title"], data["tags"]) == ("Launch day", ["python"])
    again = run_in(tmp_path, "publish", "launch", "--to", "automation")
    assert again.exit_code == 0, again.output
    assert len(receiver.deliveries) == 1  # recorded: the same post is not sent twice
