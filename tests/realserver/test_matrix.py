"""The Matrix connector against a real Synapse on 127.0.0.1 (see ``synapse.py``).

Each test gets a fresh room made by the account crosspost posts as; other users
join, react, reply and leave as members would, with plain client-server calls.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from connectors.base import MediaItem, MemoryState, RateLimited, RenderedPost
from connectors.matrix import MatrixConnector, MatrixSettings, streaming, txn_id
from crosspost.collecting.thread_metrics import thread_metrics
from crosspost.rendering.markdown import render_markdown
from crosspost.rendering.markdown_forms import form_of
from crosspost.rendering.markup import unmark
from tests.realserver.synapse import MatrixUser, Synapse
from tests.realserver.test_bluesky import tiny_png
from tests.streaming import listening, wait_until

pytestmark = pytest.mark.realserver


@pytest.fixture(scope="module")
def owner(synapse: Synapse) -> MatrixUser:
    return synapse.register("owner")


@pytest.fixture(scope="module")
def member(synapse: Synapse) -> MatrixUser:
    return synapse.register("member")


@pytest.fixture(scope="module")
def friend(synapse: Synapse) -> MatrixUser:
    return synapse.register("friend")


@pytest.fixture
def room(owner: MatrixUser, member: MatrixUser) -> str:
    room_id = owner.create_room()
    member.join(room_id)
    return room_id


def connect(user: MatrixUser, room: str, state: MemoryState | None = None) -> MatrixConnector:
    """crosspost's connector for ``user`` in ``room``, signing in with the password."""
    settings = MatrixSettings(
        homeserver=user.base, room=room, user=user.localpart, password=user.password
    )
    return MatrixConnector("town", settings, state if state is not None else MemoryState())


def post(*parts: str, media: tuple[MediaItem, ...] = ()) -> RenderedPost:
    return RenderedPost(parts=parts, content_id="c", media=media)


def html(markdown: str) -> str:
    return unmark(render_markdown(markdown, form_of(MatrixConnector))).text


def test_text_goes_out_with_its_html_and_a_plain_body(
    owner: MatrixUser, member: MatrixUser, room: str
) -> None:
    text = html(
        "We open **Friday**. Read [the plan](https://makerspace.example/plan):\n\n- tools\n- tea"
    )
    published = connect(owner, room).publish(post(text), "k-text")

    content = member.event(room, published.remote_id)["content"]
    assert content["msgtype"] == "m.text"
    assert content["format"] == "org.matrix.custom.html"
    assert "<b>Friday</b>" in content["formatted_body"]
    assert '<a href="https://makerspace.example/plan">the plan</a>' in content["formatted_body"]
    assert "<ul><li>tools</li><li>tea</li></ul>" in content["formatted_body"]
    assert content["body"] == (
        "We open Friday. Read the plan (https://makerspace.example/plan):\n\n• tools\n• tea"
    )
    assert published.url and published.remote_id in requests.utils.unquote(published.url)


def test_an_image_goes_out_with_its_alt_text_and_size(
    owner: MatrixUser, member: MatrixUser, room: str, tmp_path: Path
) -> None:
    image = tmp_path / "logo.png"
    image.write_bytes(tiny_png(4, 3))
    alt = "A white square, our logo for now"
    media = (MediaItem(image, alt, "image/png"),)
    published = connect(owner, room).publish(post("<p>Our logo</p>", media=media), "k-image")

    (image_event,) = published.extra["media_event_ids"]
    content = member.event(room, image_event)["content"]
    assert content["msgtype"] == "m.image"
    assert content["body"] == alt
    assert content["info"] == {
        "mimetype": "image/png",
        "size": image.stat().st_size,
        "w": 4,
        "h": 3,
    }
    server, media_id = content["url"].removeprefix("mxc://").split("/")
    download = requests.get(
        f"{member.base}/_matrix/client/v1/media/download/{server}/{media_id}",
        headers={"Authorization": f"Bearer {member.token}"},
        timeout=10,
    )
    assert download.content == image.read_bytes()


def test_a_thread_hangs_from_its_first_message(
    owner: MatrixUser, member: MatrixUser, room: str
) -> None:
    connector = connect(owner, room)
    published = connector.publish(post("<p>one</p>", "<p>two</p>", "<p>three</p>"), "k-thread")
    root, second, third = published.thread_ids

    for part, before in ((second, root), (third, second)):
        relates = member.event(room, part)["content"]["m.relates_to"]
        assert relates == {
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": before},
        }
    member.send(room, _thread_reply(root, third, "Count me in"))
    found = connector.fetch_metrics(published.thread_ids)
    assert found[root].replies == 3  # two of ours, one of the member's
    combined = thread_metrics(published.thread_ids, found)
    assert combined is not None and combined.replies == 1


def _thread_reply(root: str, latest: str, text: str) -> dict[str, object]:
    relates = {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": latest},
    }
    return {"msgtype": "m.text", "body": text, "m.relates_to": relates}


def test_a_resend_with_the_same_key_is_the_same_event(
    owner: MatrixUser, member: MatrixUser, room: str
) -> None:
    first = connect(owner, room).publish(post("<p>once</p>"), "k-resend")
    # A new process: a new login, on the same fixed device.
    again = connect(owner, room).publish(post("<p>once</p>"), "k-resend")

    assert again.remote_id == first.remote_id
    bodies = [e["content"]["body"] for e in member.messages(room)]
    assert bodies.count("once") == 1
    assert connect(owner, room).find_recent("k-resend", "<p>once</p>") is not None


def test_reactions_are_counted_once_per_member_and_key(
    owner: MatrixUser, member: MatrixUser, friend: MatrixUser, room: str
) -> None:
    friend.join(room)
    connector = connect(owner, room)
    published = connector.publish(post("<p>react to me</p>"), "k-react")
    member.react(room, published.remote_id, "👍")
    member.react(room, published.remote_id, "🎉")
    friend.react(room, published.remote_id, "👍")

    metrics = connector.fetch_metrics([published.remote_id, "$gone"])
    assert set(metrics) == {published.remote_id}
    assert metrics[published.remote_id].likes == 3
    assert metrics[published.remote_id].raw["reactions"] == {"👍": 2, "🎉": 1}
    assert metrics[published.remote_id].replies == 0


def test_members_joins_and_leaves(
    synapse: Synapse,
    owner: MatrixUser,
    member: MatrixUser,
    friend: MatrixUser,
    room: str,
) -> None:
    state = MemoryState()
    first = connect(owner, room, state).account_metrics()
    assert first.members == 2
    assert "joins" not in first.raw  # the first read only sets the token

    passer = synapse.register(f"passer{time.monotonic_ns()}")
    friend.join(room)
    passer.join(room)
    member.leave(room)
    passer.leave(room)
    connector = connect(owner, room, state)
    second = connector.account_metrics()

    assert second.members == 2
    assert second.raw["joins"] == [friend.user_id, passer.user_id]
    assert second.raw["leaves"] == [member.user_id, passer.user_id]
    assert {f.id for f in connector.followers(100)} == {owner.user_id, friend.user_id}
    third = connector.account_metrics()
    assert third.raw["joins"] == [] and third.raw["leaves"] == []


def test_members_messages_are_the_inbox(owner: MatrixUser, member: MatrixUser, room: str) -> None:
    connector = connect(owner, room)
    published = connector.publish(post("<p>What do you think?</p>"), "k-inbox")
    member.send(room, {"msgtype": "m.text", "body": "Hello all"})
    first = connector.fetch_inbox(None)
    assert [(i.kind, i.text, i.author) for i in first.items] == [
        ("comment", "Hello all", member.user_id)
    ]

    reply = {
        "msgtype": "m.text",
        "body": "Great idea",
        "m.relates_to": {"m.in_reply_to": {"event_id": published.remote_id}},
    }
    member.send(room, reply)
    mention = {
        "msgtype": "m.text",
        "body": "owner: hi",
        "m.mentions": {"user_ids": [owner.user_id]},
    }
    member.send(room, mention)
    later = connector.fetch_inbox(first.cursor)
    assert [(i.kind, i.in_reply_to) for i in later.items] == [
        ("reply", published.remote_id),
        ("mention", None),
    ]
    assert connector.fetch_inbox(later.cursor).items == ()


def test_a_member_in_a_thread_is_answered_in_it(
    owner: MatrixUser, member: MatrixUser, room: str
) -> None:
    connector = connect(owner, room)
    published = connector.publish(post("<p>Doors at seven?</p>"), "k-ask")
    member.send(room, _thread_reply(published.remote_id, published.remote_id, "Can I come late?"))
    (item,) = connector.fetch_inbox(None).items
    answer = connector.reply_post(item, post("<p>Yes, until <b>nine</b>.</p>"))
    sent = connector.reply(item, answer, "k-answer")
    again = connect(owner, room).reply(item, answer, "k-answer")  # a resend after a crash

    assert again.remote_id == sent.remote_id
    content = member.event(room, sent.remote_id)["content"]
    assert content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": published.remote_id,
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": item.remote_id},
    }
    assert content["m.mentions"] == {"user_ids": [member.user_id]}
    assert content["body"] == "Yes, until nine."
    bodies = [e["content"]["body"] for e in member.messages(room)]
    assert bodies.count("Yes, until nine.") == 1


def test_an_alias_is_resolved_to_its_room(owner: MatrixUser, member: MatrixUser) -> None:
    alias_name = f"town{time.monotonic_ns()}"
    room_id = owner.create_room(alias_name)
    published = connect(owner, f"#{alias_name}:crosspost.test").publish(post("<p>hi</p>"), "k-a")
    assert published.extra["room_id"] == room_id
    member.join(room_id)
    assert member.event(room_id, published.remote_id)["content"]["body"] == "hi"


def test_the_message_rate_limit_is_a_rate_limited_error(
    synapse: Synapse,
    member: MatrixUser,
) -> None:
    hasty = synapse.register(f"hasty{time.monotonic_ns()}", limited=True)
    room = hasty.create_room()
    member.join(room)
    connector = connect(hasty, room)
    sent: list[str] = []
    with pytest.raises(RateLimited) as caught:
        for number in range(30):
            connector.publish(post(f"<p>message {number}</p>"), f"k-rate-{number}")
            sent.append(f"message {number}")
    now = datetime.now(UTC)
    assert 0 < (caught.value.retry_at - now).total_seconds() <= 10
    assert caught.value.status == 429
    # The refused message left no event; after the wait the same key goes through once.
    refused = f"k-rate-{len(sent)}"
    time.sleep(max((caught.value.retry_at - now).total_seconds(), 0) + 0.5)
    connector.publish(post(f"<p>message {len(sent)}</p>"), refused)
    bodies = [e["content"]["body"] for e in member.messages(room)]
    assert bodies == [*sent, f"message {len(sent)}"]
    assert txn_id(refused) != txn_id(f"k-rate-{len(sent) - 1}")


def test_a_members_message_wakes_the_stream_and_ours_does_not(
    owner: MatrixUser, member: MatrixUser, room: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "LONG_POLL", 3)  # so that stop ends the last sync soon
    settings = MatrixSettings(
        homeserver=owner.base,
        room=room,
        user=owner.localpart,
        password=owner.password,
        inbox_stream=True,
    )
    connector = MatrixConnector("town", settings, MemoryState())
    with listening(connector) as heard:
        deadline = time.monotonic() + 10
        wait_until(lambda: bool(heard.said), deadline)  # synced
        connector.publish(post("<p>Our own news</p>"), "k-stream-own")
        time.sleep(1.0)  # ours wakes nothing
        assert len(heard.said) == 1
        sent = time.monotonic()
        member.send(room, {"msgtype": "m.text", "body": "Is it on Thursday?"})
        wait_until(lambda: len(heard.said) == 2, deadline)
    assert len(heard.said) == 2
    assert heard.said[1] - sent < 2.5  # at the message, not at the end of a sync
    texts = [item.text for item in connector.fetch_inbox(None).items]
    assert texts[-1] == "Is it on Thursday?"
