"""Telegram's long polling (``inbox_stream: true``): a member's message wakes the inbox."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from pydantic import ValidationError
from responses import matchers

from connectors.base import AuthError, Capability, InboxStream, RateLimited, Rejected, Transient
from connectors.http import HELD_OPEN_MARGIN
from connectors.records import MemoryRecords
from connectors.telegram import TelegramConnector, streaming
from connectors.telegram.updates import WIDE
from crosspost.store import Store
from tests.connectors.test_telegram import API, CHANNEL, GROUP, TOKEN, make, tg, wide_query
from tests.streaming import listening, seconds_until_stored, stored, wait_until

BOT = tg("get_me")["result"]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "AFTER_OTHERS", 0.0)


def wait_query(offset: int) -> list[Any]:
    """The stream's wait: one update from the stored offset, held open by Telegram."""
    query = {"offset": str(offset), "limit": "1", "timeout": "30", "allowed_updates": WIDE}
    return [matchers.query_param_matcher(query)]


def first_of(name: str) -> dict[str, Any]:
    """A page of ``name`` cut to its first update, as a wait with ``limit=1`` gets it."""
    page = tg(name)
    return {**page, "result": page["result"][:1]}


def streamer(**overrides: Any) -> tuple[TelegramConnector, MemoryRecords]:
    records = MemoryRecords()
    return make(records=records, inbox_stream=True, **overrides), records


@dataclass
class Worded:
    """A stream that connected and gave one word, and what it stored."""

    connector: TelegramConnector
    records: MemoryRecords
    stop: threading.Event
    stream: Iterator[None]


def a_word_after_connecting(rsps: responses.RequestsMock) -> Worded:
    """The bot is known, the wait sees an update, the read finds member messages: the
    stream connected and gave word."""
    rsps.get(f"{API}/getMe", json=tg("get_me"))
    rsps.get(f"{API}/getUpdates", json=first_of("get_updates_inbox"), match=wait_query(0))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_inbox"), match=wide_query(0))
    connector, records = streamer()
    stop = threading.Event()
    stream = connector.stream_inbox(stop)
    next(stream)  # connected
    next(stream)  # the wait saw an update: all pending were read and stored
    return Worded(connector, records, stop, stream)


# -- settings ------------------------------------------------------------------------


def test_the_setting_adds_the_ability() -> None:
    assert Capability.INBOX_STREAM not in make().capabilities
    connector, _ = streamer()
    assert Capability.INBOX_STREAM in connector.capabilities
    assert isinstance(connector, InboxStream)


def test_a_stream_without_the_inbox_is_refused_at_check() -> None:
    values = {"bot_token": TOKEN, "chat_id": CHANNEL, "inbox": False, "inbox_stream": True}
    with pytest.raises(ValidationError, match="needs inbox: true") as refused:
        TelegramConnector.Settings.model_validate(values)
    assert refused.value.errors()[0]["loc"] == ("inbox_stream",)  # check names its line


# -- against responses ---------------------------------------------------------------


def test_connect_then_a_word_when_member_messages_were_read(
    rsps: responses.RequestsMock,
) -> None:
    worded = a_word_after_connecting(rsps)
    worded.stop.set()
    with pytest.raises(StopIteration):
        next(worded.stream)
    assert worded.records.cursor("updates") == "512000209"
    waited, read = (call.request.req_kwargs["timeout"] for call in rsps.calls[1:])  # type: ignore[attr-defined]
    assert waited[1] > streaming.LONG_POLL  # the socket outwaits Telegram
    assert read == worded.connector.http.timeout


def test_while_streaming_the_reads_take_what_the_stream_stored(
    rsps: responses.RequestsMock,
) -> None:
    worded = a_word_after_connecting(rsps)
    connector, asked = worded.connector, len(rsps.calls)
    page = connector.fetch_inbox(None)
    assert [i.remote_id for i in page.items] == [f"{GROUP}:311", f"{GROUP}:312", f"{GROUP}:315"]
    assert page.cursor == "512000209"
    assert connector.fetch_inbox(page.cursor).items == ()  # each item is handed out once
    assert connector.fetch_metrics([f"{CHANNEL}:42"])[f"{CHANNEL}:42"].likes == 9
    assert len(rsps.calls) == asked  # nothing asked of Telegram: the wait goes on alone
    worded.stop.set()
    list(worded.stream)
    # the stream is over: a read asks Telegram again
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=wide_query(512000209))
    assert connector.fetch_inbox(page.cursor).items == ()
    assert len(rsps.calls) == asked + 1


def test_the_messages_kept_for_the_next_read_are_bounded(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon whose account's inbox another daemon reads never takes them."""
    monkeypatch.setattr(streaming, "STREAMED_AT_MOST", 2)
    worded = a_word_after_connecting(rsps)  # three member messages were read
    page = worded.connector.fetch_inbox(None)
    assert [i.remote_id for i in page.items] == [f"{GROUP}:312", f"{GROUP}:315"]  # the newest
    assert set(worded.records.interactions) >= {f"{GROUP}:311", f"{GROUP}:312", f"{GROUP}:315"}


def test_reaction_counts_alone_are_stored_without_a_word(rsps: responses.RequestsMock) -> None:
    stop = threading.Event()
    waits = iter([tg("get_updates_empty"), first_of("get_updates")])
    last = 0

    def wait(request: Any) -> tuple[int, dict[str, str], str]:
        nonlocal last
        last += 1
        if last == 3:  # the third wait: the test has seen enough
            stop.set()
            return 200, {}, json.dumps(tg("get_updates_empty"))
        return 200, {}, json.dumps(next(waits))

    rsps.get(f"{API}/getMe", json=tg("get_me"))
    rsps.add_callback("GET", f"{API}/getUpdates", wait, match=wait_query(0))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates"), match=wide_query(0))
    rsps.add_callback("GET", f"{API}/getUpdates", wait, match=wait_query(512000103))
    connector, records = streamer()
    assert sum(1 for _ in connector.stream_inbox(stop)) == 1  # the connect alone
    assert records.observed([f"{CHANNEL}:42"])[f"{CHANNEL}:42"].likes == 7


def test_a_wait_another_reader_ended_is_waited_again(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/getMe", json=tg("get_me"))
    conflict = tg("error_409_conflict")
    rsps.get(f"{API}/getUpdates", status=409, json=conflict, match=wait_query(0))
    rsps.get(f"{API}/getUpdates", status=409, json=conflict, match=wait_query(0))
    rsps.get(f"{API}/getUpdates", json=first_of("get_updates_inbox"), match=wait_query(0))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_inbox"), match=wide_query(0))
    connector, _ = streamer()
    stream = connector.stream_inbox(threading.Event())
    next(stream), next(stream)  # two ended waits, then the word


@pytest.mark.parametrize(
    ("status", "answer", "times", "error", "says"),
    [
        # another reader ended the wait again and again: the stream breaks
        (409, "error_409_conflict", streaming.ENDED_BY_OTHERS, Transient, "another program"),
        (409, "error_409_webhook", 1, Rejected, "webhook"),
        (429, "error_429", 1, RateLimited, "rate limited"),
    ],
)
def test_a_failed_wait_ends_the_stream_with_its_error(
    rsps: responses.RequestsMock,
    status: int,
    answer: str,
    times: int,
    error: type[Exception],
    says: str,
) -> None:
    rsps.get(f"{API}/getMe", json=tg("get_me"))
    for _ in range(times):
        rsps.get(f"{API}/getUpdates", status=status, json=tg(answer))
    connector, _ = streamer()
    stream = connector.stream_inbox(threading.Event())
    next(stream)
    with pytest.raises(error, match=says):
        next(stream)
    assert connector._streamed is None  # the reads ask Telegram themselves again


def test_a_refused_token_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/getMe", status=401, json=tg("error_401"))
    connector, _ = streamer()
    with pytest.raises(AuthError):
        next(connector.stream_inbox(threading.Event()))


def test_an_account_without_the_inbox_has_no_stream() -> None:
    connector = make(inbox=False)
    with pytest.raises(Rejected, match="has no inbox"):
        next(connector.stream_inbox(threading.Event()))


# -- over a socket, against a Bot API that holds its waits ---------------------------


class FakeBotApi:
    """The Bot API's ``getMe`` and ``getUpdates`` on 127.0.0.1, as Telegram answers them.

    A call with ``timeout`` is held until an update from its ``offset`` exists or the
    time is up; a newer ``getUpdates`` ends a held one with 409, and an ``offset``
    confirms (forgets) the updates before it.
    """

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.calls: list[dict[str, str]] = []
        self._changed = threading.Condition()
        self._generation = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeBotApi:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def waiting(self) -> bool:
        """Whether a call that waits for updates came."""
        return any(call.get("timeout", "0") != "0" for call in self.calls)

    def add(self, message: dict[str, Any]) -> None:
        with self._changed:
            update_id = 700 + len(self.updates)
            self.updates.append({"update_id": update_id, "message": message})
            self._changed.notify_all()

    def get_updates(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
        deadline = time.monotonic() + int(query.get("timeout", 0))
        with self._changed:
            self._generation += 1
            mine = self._generation
            self._changed.notify_all()
            while True:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                if self.updates or time.monotonic() >= deadline:
                    return 200, {"ok": True, "result": self.updates[:limit]}
                if self._generation != mine:
                    description = "Conflict: terminated by other getUpdates request"
                    return 409, {"ok": False, "error_code": 409, "description": description}
                self._changed.wait(deadline - time.monotonic())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                method = parts.path.rsplit("/", 1)[-1]
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                api.calls.append({"method": method, **query})
                if method == "getMe":
                    status, body = 200, {"ok": True, "result": BOT}
                elif method == "getUpdates":
                    status, body = api.get_updates(query)
                else:
                    status, body = 404, {"ok": False, "error_code": 404, "description": "Not Found"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        return Handler


CHAT = {"id": -1009876543210, "title": "Meetup", "username": "meetupchat", "type": "supergroup"}
ALICE = {"id": 111111111, "is_bot": False, "first_name": "Alice", "username": "alice_k"}


def mention(message_id: int, text: str = "when is the next meetup?") -> dict[str, Any]:
    named = f"@{BOT['username']}"
    return {
        "message_id": message_id,
        "from": ALICE,
        "chat": CHAT,
        "date": 1795690900,
        "text": f"{named} {text}",
        "entities": [{"type": "mention", "offset": 0, "length": len(named)}],
    }


def test_a_message_sent_during_a_wait_is_read_at_once_and_stop_ends_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streaming, "LONG_POLL", 1)  # so that stop ends the last wait soon
    with FakeBotApi() as api:
        connector, records = streamer(api_url=api.url, chat_id="@meetupchat")
        with listening(connector) as heard:
            deadline = time.monotonic() + 5
            wait_until(lambda: bool(heard.said) and api.waiting(), deadline)
            sent = time.monotonic()
            api.add(mention(41))
            wait_until(lambda: len(heard.said) == 2, deadline)
        assert len(heard.said) == 2
        assert heard.said[1] - sent < 0.9  # at the update, not at the end of the wait
        assert list(records.interactions) == [f"{CHAT['id']}:41"]
        assert records.cursor("updates") == "701"


def test_the_daemon_stores_a_member_message_as_it_happens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first collection comes 10 s after the start: a message stored within
    seconds of being sent came through the wait."""
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setattr(streaming, "LONG_POLL", 1)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    with FakeBotApi() as api:
        account = (
            f"{{connector: telegram, api_url: '{api.url}', chat_id: '@meetupchat', "
            "bot_token: '${BOT_TOKEN}', inbox_stream: true}"
        )
        seconds = seconds_until_stored(
            tmp_path, store, account, api.waiting, lambda: api.add(mention(42))
        )
    assert stored(store) == [f"{CHAT['id']}:42"]
    assert seconds < 8  # not at a poll: the first one comes 10 s after the start


def test_a_wait_is_awaited_longer_than_telegram_holds_it_and_never_less_than_a_read() -> None:
    connector, _ = streamer()
    connect, read = connector.http.timeout
    assert connector.held_open(30) == (connect, 30 + HELD_OPEN_MARGIN)
    assert connector.held_open(0) == (connect, read)
