"""Matrix connector, reading back: members, joins and leaves, the inbox, reconciling, redaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import responses
from responses import matchers

from connectors.base import InboxItem, MemoryState, Rejected, RenderedPost
from connectors.matrix import txn_id
from connectors.matrix.members import membership_changes
from connectors.matrix.replies import reply_relation
from tests.connectors.test_matrix import EVENT, ROOM, ROOM_PATH, WHOAMI, make, payload

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


# -- reading back ----------------------------------------------------------------------


def test_membership_is_read_from_the_content() -> None:
    changes = membership_changes(payload("messages_members")["chunk"])
    # grace joins (then only renames); lin refuses an invite; ada leaves; troll joins, is banned
    assert changes.joins == ("@grace:example.org", "@troll:example.org")
    assert changes.leaves == ("@ada:example.org", "@troll:example.org")


def test_joins_and_leaves_since_the_saved_token(rsps: responses.RequestsMock) -> None:
    state = MemoryState({"members_from": "t6-7_0"})
    rsps.get(f"{ROOM_PATH}/joined_members", json=payload("joined_members"))
    rsps.get(
        f"{ROOM_PATH}/messages",
        json=payload("messages_members"),
        match=[matchers.query_param_matcher({"dir": "f", "from": "t6-7_0"}, strict_match=False)],
    )
    end = payload("messages_members")["end"]
    rsps.get(
        f"{ROOM_PATH}/messages",
        json={"chunk": [], "start": end},
        match=[matchers.query_param_matcher({"from": end}, strict_match=False)],
    )
    figures = make(state).account_metrics()
    assert figures.members == 3
    assert figures.raw["joins"] == ["@grace:example.org", "@troll:example.org"]
    assert state.load()["members_from"] == end


def test_followers_are_the_joined_members(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{ROOM_PATH}/joined_members", json=payload("joined_members"))
    refs = make().followers(10)
    assert [(r.id, r.handle) for r in refs] == [
        ("@ada:example.org", "Ada"),
        ("@grace:example.org", "@grace:example.org"),
        ("@town-bot:example.org", "Town bot"),
    ]


def test_the_inbox_keeps_what_members_wrote(rsps: responses.RequestsMock) -> None:
    rsps.get(WHOAMI, json=payload("whoami"))
    rsps.get(f"{ROOM_PATH}/messages", json=payload("messages_inbox"))
    page = make().fetch_inbox("t6-7_0")
    assert [(i.remote_id, i.kind, i.in_reply_to) for i in page.items] == [
        ("$c1", "comment", None),
        ("$t1", "reply", EVENT),  # a thread reply answers the thread's first message
        ("$r1", "reply", EVENT),
        ("$m1", "mention", None),
    ]
    assert [i.raw["thread_root"] for i in page.items] == [None, EVENT, None, None]
    assert page.cursor == payload("messages_inbox")["end"]
    (read,) = [c.request for c in rsps.calls if "/messages" in str(c.request.url)]
    filter_sent = json.loads(read.params["filter"])
    assert filter_sent == {"types": ["m.room.message"]}


def test_find_recent_matches_the_transaction_ids(rsps: responses.RequestsMock) -> None:
    rsps.get(WHOAMI, json=payload("whoami"))
    rsps.get(f"{ROOM_PATH}/messages", json=payload("messages_recent"))
    found = make().find_recent("k-recent", "one")
    assert found is not None
    assert found.thread_ids == (EVENT, "$part2x")
    assert make().idempotency_window == timedelta(minutes=25)


def test_delete_redacts_the_message_and_its_images(rsps: responses.RequestsMock) -> None:
    for event in (EVENT, "$img"):
        path = f"{ROOM_PATH}/redact/{quote(event, safe='')}/{txn_id(f'redact {event}')}"
        rsps.put(path, json={"event_id": f"$redaction-of-{event[1:]}"})
    make().delete(EVENT, {"room_id": ROOM, "event_id": EVENT, "media_event_ids": ["$img"]})


def test_an_answer_outside_a_thread_is_a_plain_rich_reply() -> None:
    loose = InboxItem("$r1", "reply", "@ada:example.org", "@ada:example.org", "Hi", None, T0)
    assert reply_relation(loose) == {"m.in_reply_to": {"event_id": "$r1"}}
    in_thread = replace(loose, raw={"thread_root": EVENT})
    assert reply_relation(in_thread)["rel_type"] == "m.thread"
    assert reply_relation(in_thread)["event_id"] == EVENT


def test_an_answer_of_two_parts_is_refused_before_sending(rsps: responses.RequestsMock) -> None:
    item = InboxItem("$r1", "reply", "@ada:example.org", "@ada:example.org", "Hi", None, T0)
    two = RenderedPost(parts=("<p>one</p>", "<p>two</p>"), content_id="c")
    with pytest.raises(Rejected, match="one message"):
        make().reply(item, two, "k-two")
    assert not [c for c in rsps.calls if c.request.method == "PUT"]
