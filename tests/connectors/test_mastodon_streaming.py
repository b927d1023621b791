"""Mastodon's notification stream (``inbox_stream: true``): mentions wake the inbox."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from connectors.base import AuthError, Capability, InboxStream, Transient
from connectors.mastodon.streaming import MAX_LINE, STREAM_PATH, server_sent_events
from tests.connectors.test_mastodon import HOST, TOKEN, make, mention, payload
from tests.mockplatform import MockMastodon
from tests.streaming import listening, wait_until


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def instance_naming(rsps: responses.RequestsMock, streaming: object) -> None:
    body = payload("instance")
    body["configuration"]["urls"]["streaming"] = streaming
    rsps.get(f"{HOST}/api/v2/instance", json=body)


def events(*notifications: dict[str, Any]) -> str:
    """A stream as Mastodon's streaming server writes it: ``:)``, heartbeats, events."""
    lines = [":)", ":thump"]
    for notification in notifications:
        lines += ["event: notification", f"data: {json.dumps(notification)}", ""]
    lines += [":thump", "event: delete", "data: 123", ""]
    return "\n".join(lines) + "\n"


def words(connector: InboxStream) -> int:
    return sum(1 for _ in connector.stream_inbox(threading.Event()))


def test_the_setting_adds_the_ability() -> None:
    assert Capability.INBOX_STREAM not in make()[0].capabilities
    connector, _ = make(inbox_stream=True)
    assert Capability.INBOX_STREAM in connector.capabilities
    assert isinstance(connector, InboxStream)


def test_events_are_read_as_the_format_says() -> None:
    lines = [":)", "event: notification", 'data: {"a":', "data: 1}", "", "", "data:x", "id: 7"]
    lines.append("")
    assert list(server_sent_events(lines)) == [("notification", '{"a":\n1}'), ("message", "x")]


def test_connect_and_each_mention_is_a_word_other_notifications_are_not(
    rsps: responses.RequestsMock,
) -> None:
    instance_naming(rsps, "wss://streaming.social.example")
    rsps.get(
        f"https://streaming.social.example{STREAM_PATH}",
        body=events(
            mention("30", "300"), mention("31", "301", kind="favourite"), mention("32", "302")
        ),
        content_type="text/event-stream",
        match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
    )
    connector, _ = make(inbox_stream=True)
    assert words(connector) == 3  # connected, then the two mentions


@pytest.mark.parametrize("named", [None, "", "ws://streaming.social.example", "ftp://x", 42])
def test_without_a_usable_streaming_host_the_instance_streams(
    rsps: responses.RequestsMock, named: object
) -> None:
    instance_naming(rsps, named)  # plain ws:// would send the token in the clear: not used
    rsps.get(f"{HOST}{STREAM_PATH}", body=":)\n", content_type="text/event-stream")
    connector, _ = make(inbox_stream=True)
    assert words(connector) == 1


def test_a_refused_token_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    instance_naming(rsps, "wss://social.example")
    rsps.get(f"{HOST}{STREAM_PATH}", status=401, json=payload("error_unauthorized"))
    connector, _ = make(inbox_stream=True)
    with pytest.raises(AuthError):
        words(connector)


def test_a_stream_that_breaks_is_transient(rsps: responses.RequestsMock) -> None:
    instance_naming(rsps, "wss://social.example")
    rsps.get(f"{HOST}{STREAM_PATH}", body=requests.ConnectionError("connection reset"))
    connector, _ = make(inbox_stream=True)
    with pytest.raises(Transient):
        words(connector)


# -- against the mock server, over a socket ----------------------------------------


def test_a_mention_posted_on_the_server_arrives_on_the_stream_and_stop_ends_it() -> None:
    with MockMastodon(tokens=["us-token", "member-token"]) as server:
        server.stream_heartbeat = 0.05
        connector, _ = make(instance=server.url, access_token="us-token", inbox_stream=True)
        with listening(connector) as heard:
            deadline = time.monotonic() + 5
            wait_until(lambda: bool(heard.said), deadline)
            own = server.acct("us-token")
            server.post_as("member-token", f"hello @{own}")
            server.post_as("member-token", "nobody named")
            wait_until(lambda: len(heard.said) == 2, deadline)
        assert len(heard.said) == 2
        streamed = [r for r in server.requests if r.path == STREAM_PATH]
        assert [r.status for r in streamed] == [200]
        assert connector.fetch_inbox(None).items[0].text.endswith(f"@{own}")


def test_an_endless_line_breaks_the_stream_instead_of_filling_memory(
    rsps: responses.RequestsMock,
) -> None:
    instance_naming(rsps, "wss://social.example")
    endless = ":)\n" + "x" * (MAX_LINE + 10)
    rsps.get(f"{HOST}{STREAM_PATH}", body=endless, content_type="text/event-stream")
    connector, _ = make(inbox_stream=True)
    with pytest.raises(Transient, match="endless line"):
        words(connector)


def test_lines_may_end_in_crlf(rsps: responses.RequestsMock) -> None:
    instance_naming(rsps, "wss://social.example")
    body = events(mention("40", "400")).replace("\n", "\r\n")
    rsps.get(f"{HOST}{STREAM_PATH}", body=body, content_type="text/event-stream")
    connector, _ = make(inbox_stream=True)
    assert words(connector) == 2
