"""Matrix's ``/sync`` (``inbox_stream: true``): a member's message wakes the inbox."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from connectors.base import AuthError, Capability, InboxStream, RateLimited, Transient
from connectors.matrix import streaming
from tests.connectors.test_matrix import HS, ROOM, TOKEN, WHOAMI, make, payload

SYNC = f"{HS}/_matrix/client/v3/sync"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(WHOAMI, json=payload("whoami"))
        yield mock


def synced(since: str | None, wait: int) -> list[Any]:
    """The stream's sync: the room's messages only, from ``since``, held ``wait`` seconds."""
    query = {"timeout": str(wait * 1000), "set_presence": "offline"}
    if since is not None:
        query["since"] = since
    return [matchers.query_param_matcher(query, strict_match=False)]


def test_the_setting_adds_the_ability() -> None:
    assert Capability.INBOX_STREAM not in make().capabilities
    connector = make(inbox_stream=True)
    assert Capability.INBOX_STREAM in connector.capabilities
    assert isinstance(connector, InboxStream)


def test_synced_then_a_word_at_each_message_from_someone_else(
    rsps: responses.RequestsMock,
) -> None:
    stop = threading.Event()
    rsps.get(SYNC, json=payload("sync_initial"), match=synced(None, 0))
    rsps.get(SYNC, json=payload("sync_nothing"), match=synced("s72594_4483_1934", 30))
    rsps.get(SYNC, json=payload("sync_messages"), match=synced("s72596_4483_1935", 30))

    def last(_request: Any) -> tuple[int, dict[str, str], str]:
        stop.set()  # the test has seen enough
        return 200, {}, json.dumps(payload("sync_initial"))  # our own message: no word

    rsps.add_callback("GET", SYNC, last, match=synced("s72595_4483_1935", 30))
    connector = make(inbox_stream=True)
    assert sum(1 for _ in connector.stream_inbox(stop)) == 2  # synced, then alice's
    first = rsps.calls[1].request
    wanted = json.loads(first.params["filter"])  # type: ignore[attr-defined]
    assert wanted["room"]["rooms"] == [ROOM]
    assert wanted["room"]["timeline"]["types"] == ["m.room.message"]
    assert wanted["room"]["state"] == wanted["presence"] == {"types": []}
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    first_read, waited = (c.request.req_kwargs["timeout"] for c in rsps.calls[1:3])  # type: ignore[attr-defined]
    assert first_read == connector.http.timeout  # a first sync may take a while
    assert waited[1] > streaming.LONG_POLL  # the socket outwaits the homeserver


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": 401, "json": payload("error_unknown_token")}, AuthError),
        ({"status": 429, "json": payload("error_limit_exceeded")}, RateLimited),
        ({"body": requests.ConnectionError("connection reset")}, Transient),
        ({"status": 200, "json": {"rooms": {}}}, Transient),  # no next_batch: unreadable
    ],
)
def test_a_failed_sync_ends_the_stream_with_its_error(
    rsps: responses.RequestsMock, answer: dict[str, Any], error: type[Exception]
) -> None:
    rsps.get(SYNC, **answer)
    with pytest.raises(error):
        next(make(inbox_stream=True).stream_inbox(threading.Event()))
