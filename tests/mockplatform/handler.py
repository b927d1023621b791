"""The HTTP side of the mock Mastodon server: routing, auth, fault application.

Endpoints follow the Mastodon API pages:

- https://docs.joinmastodon.org/methods/instance/#v2
- https://docs.joinmastodon.org/methods/accounts/#verify_credentials
- https://docs.joinmastodon.org/methods/accounts/#statuses
- https://docs.joinmastodon.org/methods/statuses/ (create with ``Idempotency-Key``, get, delete)
- https://docs.joinmastodon.org/methods/media/ (``POST /api/v2/media``, ``GET /api/v1/media/:id``)
- https://docs.joinmastodon.org/api/rate-limits/ and https://docs.joinmastodon.org/client/token/
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tests.mockplatform.entities import credential_source, instance_json, rate_limit_headers
from tests.mockplatform.faults import Fault
from tests.mockplatform.forms import parse_body
from tests.mockplatform.state import ApiError, MastodonState, RecordedRequest, truthy

if TYPE_CHECKING:
    from tests.mockplatform.server import MockMastodon

__all__ = ["INVALID_TOKEN", "MockServer", "Reply"]

log = logging.getLogger(__name__)

#: Idle keep-alive connections and stalled uploads give up after this many seconds.
SOCKET_TIMEOUT = 10.0
MAX_BODY = 64 * 1024 * 1024
INVALID_TOKEN = "The access token is invalid"
WWW_AUTHENTICATE = (
    f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{INVALID_TOKEN}"'
)

Json = Any
Reply = tuple[int, Json, dict[str, str]]
#: None: the route wrote its answer itself (a stream of events).
Route = Callable[["_Handler", "_Call"], Reply | None]


class _Call:
    """One parsed API request."""

    def __init__(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, Any],
        token: str | None,
        key: str | None,
        match: re.Match[str],
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.form = form
        self.token = token
        self.key = key
        self.match = match

    def arg(self, name: str) -> str | None:
        """A query parameter (last value)."""
        values = self.query.get(name)
        return values[-1] if values else None


class MockServer(ThreadingHTTPServer):
    """Serves one :class:`MockMastodon` on 127.0.0.1; tracks connections so they can be ended."""

    daemon_threads = True
    block_on_close = False
    #: Connections waiting to be accepted: a daemon opening one per account at once (64 in
    #: benchmarks/dispatch.py) must not see its connections dropped by a backlog of 5.
    request_queue_size = 128

    def __init__(self, mock: MockMastodon, port: int) -> None:
        self.mock = mock
        self._live_lock = threading.Lock()
        self._live: dict[threading.Thread, socket.socket] = {}
        self._count = 0
        super().__init__(("127.0.0.1", port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._live_lock:
            self._count += 1
            thread = threading.Thread(
                target=self._serve_one,
                args=(request, client_address),
                name=f"mockmastodon-conn-{self._count}",
                daemon=True,
            )
            self._live[thread] = request
        thread.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._live_lock:
                self._live.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is routine here (timeouts, kills); no traceback.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def end_connections(self, deadline: float) -> None:
        """Shut every open connection and wait (until ``deadline``) for its thread."""
        with self._live_lock:
            live = list(self._live.items())
        for _, sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread, _ in live:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "crosspost-mock-mastodon"
    # Headers and body leave in two writes: without TCP_NODELAY the body waits for
    # the client's delayed ACK, ~40 ms per request, and benchmarks measure that stall.
    disable_nagle_algorithm = True
    timeout = SOCKET_TIMEOUT
    server: MockServer
    _record: RecordedRequest | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    # -- plumbing -------------------------------------------------------------

    def _dispatch(self) -> None:
        mock = self.server.mock
        self._record = None
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            form, unreadable = self._read_form(), None
        except ApiError as exc:
            form, unreadable = {}, exc
        if parts.path.startswith("/_mock/") and unreadable is None:
            self._send(*mock.control(self.command, parts.path, form))
            return
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        record = RecordedRequest(self.command, parts.path, dict(query), headers, form, time.time())
        self._record = record
        mock.state.record(record)
        if unreadable is not None:
            self._send(unreadable.status, {"error": unreadable.message}, {})
            return
        fault = mock.faults.pick(self.command, parts.path)
        record.fault = fault.kind if fault else None
        self._answer(fault, parts.path, query, form)

    def _read_form(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "Request body too large for the mock server")
        body = self.rfile.read(length) if length else b""
        return parse_body(self.headers.get("Content-Type", ""), body)

    def _answer(
        self, fault: Fault | None, path: str, query: dict[str, list[str]], form: dict[str, Any]
    ) -> int | None:
        mock = self.server.mock
        if fault is not None and fault.kind == "slow":
            if mock.stopping.wait(fault.seconds):
                self._drop()
                return None
            fault = None
        if fault is not None and not fault.after:
            return self._fail(fault)
        try:
            reply = self._route(path, query, form)
        except ApiError as exc:
            challenge = {"WWW-Authenticate": WWW_AUTHENTICATE} if exc.status == 401 else {}
            reply = (exc.status, {"error": exc.message}, challenge)
        if fault is not None:
            return self._fail(fault)
        if reply is None:
            return 200
        self._send(*reply)
        return reply[0]

    def _fail(self, fault: Fault) -> int | None:
        if fault.kind == "drop":
            self._drop()
            return None
        if fault.kind == "unauthorized":
            return self._send(401, {"error": INVALID_TOKEN}, {"WWW-Authenticate": WWW_AUTHENTICATE})
        if fault.kind == "rate_limit":
            headers = rate_limit_headers(300, 0, timedelta(seconds=max(fault.retry_after, 1)))
            headers["Retry-After"] = str(fault.retry_after)
            return self._send(429, {"error": "Too many requests"}, headers)
        return self._send(fault.code, {"error": HTTPStatus(fault.code).phrase}, {})

    def _drop(self) -> None:
        # Closing without a status line is what a crashed worker or a cut proxy looks like.
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, status: int, body: Json, headers: dict[str, str]) -> int:
        payload = json.dumps(body).encode()
        if self._record is not None:
            # Set before the answer leaves, so a client that just got it reads its status.
            self._record.status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        extra = dict(headers)
        if not any(k.lower() == "x-ratelimit-limit" for k in extra):
            extra.update(rate_limit_headers(300, 299, timedelta(minutes=5)))
        for name, value in extra.items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            # The client gave up first (read timeout, killed process); the answer is still this.
            self.close_connection = True
        return status

    def _route(self, path: str, query: dict[str, list[str]], form: dict[str, Any]) -> Reply | None:
        for method, pattern, auth, route in ROUTES:
            match = pattern.fullmatch(path)
            if match is None or method != self.command:
                continue
            call = _Call(
                self.command,
                path,
                query,
                form,
                self._token(),
                self.headers.get("Idempotency-Key"),
                match,
            )
            self._check_auth(auth, call.token)
            return route(self, call)
        if _known_path(path) is None:
            raise ApiError(404, "Not Found")
        raise ApiError(405, "Method Not Allowed")

    def _token(self) -> str | None:
        value = self.headers.get("Authorization", "")
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def _check_auth(self, auth: str, token: str | None) -> None:
        state = self.server.mock.state
        valid = state.account_for(token) is not None
        if auth == "required" and not valid or auth == "optional" and token and not valid:
            raise _Unauthorized()

    # -- endpoints ------------------------------------------------------------

    def instance(self, call: _Call) -> Reply:
        mock = self.server.mock
        return 200, instance_json(mock.url, mock.state.max_characters), {}

    def verify_credentials(self, call: _Call) -> Reply:
        state = self.server.mock.state
        account = _owner(state, call)
        return 200, state.account_view(account) | {"source": credential_source()}, {}

    def post_status(self, call: _Call) -> Reply:
        state = self.server.mock.state
        body, _created = state.post_status(_owner(state, call), call.form, call.key)
        return 200, body, _bucket(300, timedelta(hours=3))

    def get_status(self, call: _Call) -> Reply:
        state = self.server.mock.state
        return 200, state.view(state.get_status(call.match["id"])), {}

    def delete_status(self, call: _Call) -> Reply:
        state = self.server.mock.state
        delete_media = truthy(call.arg("delete_media"))
        body = state.delete_status(_owner(state, call), call.match["id"], delete_media)
        return 200, body, _bucket(30, timedelta(minutes=30))

    def account_statuses(self, call: _Call) -> Reply:
        state = self.server.mock.state
        try:
            limit = min(max(int(call.arg("limit") or 20), 1), 40)
        except ValueError:
            limit = 20
        found = state.account_statuses(
            call.match["id"], limit, call.arg("max_id"), call.arg("since_id")
        )
        headers = {}
        if found:
            base = f"{self.server.mock.url}{call.path}?limit={limit}"
            headers["Link"] = (
                f'<{base}&max_id={found[-1]["id"]}>; rel="next", '
                f'<{base}&min_id={found[0]["id"]}>; rel="prev"'
            )
        return 200, found, headers

    def post_media(self, call: _Call) -> Reply:
        state = self.server.mock.state
        body = state.add_media(_owner(state, call), call.form)
        return 200, body, _bucket(30, timedelta(minutes=30))

    def get_media(self, call: _Call) -> Reply:
        state = self.server.mock.state
        return 200, state.get_media(_owner(state, call), call.match["id"]), {}

    def notifications(self, call: _Call) -> Reply:
        state = self.server.mock.state
        limit = min(max(int(call.arg("limit") or 40), 1), 80)
        types = call.query.get("types[]", [])
        found = state.notifications(
            _owner(state, call), types, call.arg("since_id"), call.arg("max_id"), limit
        )
        headers = {}
        if found:
            headers["Link"] = (
                f'<{self.server.mock.url}{call.path}?max_id={found[-1]["id"]}>; rel="next"'
            )
        return 200, found, headers

    def stream_notifications(self, call: _Call) -> None:
        """``GET /api/v1/streaming/user/notification``: server-sent events, as Mastodon's
        streaming server writes them (``:)`` first, ``:thump`` while nothing happens)."""
        mock, state = self.server.mock, self.server.mock.state
        account = _owner(state, call)
        if self._record is not None:
            self._record.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        mark = state.notification_mark()
        try:
            self._chunk(":)\n")
            while not mock.stopping.is_set():
                found, mark = state.wait_notifications(account, mark, mock.stream_heartbeat)
                for note in found:
                    self._chunk(f"event: notification\ndata: {json.dumps(note)}\n\n")
                if not found:
                    self._chunk(":thump\n")
            self._chunk("")
        except OSError:
            pass  # the client hung up

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def app_credentials(self, call: _Call) -> Reply:
        _owner(self.server.mock.state, call)
        return (
            200,
            {"id": "1", "name": "crosspost", "website": None, "scopes": ["read", "write"]},
            {},
        )


class _Unauthorized(ApiError):
    def __init__(self) -> None:
        super().__init__(401, INVALID_TOKEN)


def _owner(state: MastodonState, call: _Call) -> Any:
    account = state.account_for(call.token)
    if account is None:
        raise _Unauthorized()
    return account


def _bucket(limit: int, period: timedelta) -> dict[str, str]:
    return rate_limit_headers(limit, limit - 1, period)


ROUTES: Sequence[tuple[str, re.Pattern[str], str, Route]] = [
    ("GET", re.compile(r"/api/v2/instance/?"), "none", _Handler.instance),
    (
        "GET",
        re.compile(r"/api/v1/accounts/verify_credentials"),
        "required",
        _Handler.verify_credentials,
    ),
    (
        "GET",
        re.compile(r"/api/v1/accounts/(?P<id>\d+)/statuses"),
        "optional",
        _Handler.account_statuses,
    ),
    ("POST", re.compile(r"/api/v1/statuses"), "required", _Handler.post_status),
    ("GET", re.compile(r"/api/v1/statuses/(?P<id>[^/]+)"), "optional", _Handler.get_status),
    ("DELETE", re.compile(r"/api/v1/statuses/(?P<id>[^/]+)"), "required", _Handler.delete_status),
    ("POST", re.compile(r"/api/v2/media"), "required", _Handler.post_media),
    ("GET", re.compile(r"/api/v1/media/(?P<id>[^/]+)"), "required", _Handler.get_media),
    ("GET", re.compile(r"/api/v1/notifications"), "required", _Handler.notifications),
    ("GET", re.compile(r"/api/v1/apps/verify_credentials"), "required", _Handler.app_credentials),
    (
        "GET",
        re.compile(r"/api/v1/streaming/user/notification"),
        "required",
        _Handler.stream_notifications,
    ),
]


def _known_path(path: str) -> str | None:
    return next((m for m, p, _, _ in ROUTES if p.fullmatch(path)), None)
