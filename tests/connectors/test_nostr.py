"""The Nostr connector's own rules, against scripted relays on 127.0.0.1 (fake_relay.py).

The shared contract suite drives connectors through ``responses`` (HTTP); a relay
speaks WebSockets, so the same promises are checked here: every failure maps through
``connectors/http.py``'s one rule, secrets never show, requests say their kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.base import (
    AuthError,
    Capability,
    FollowerList,
    Inbox,
    MediaItem,
    RateLimited,
    Reconcilable,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from connectors.http import Kind
from connectors.nostr import NostrConnector
from connectors.nostr.events import sign_event
from connectors.nostr.keys import Keys, bech32_encode
from connectors.nostr.relay import RelayClient
from tests.connectors.fake_relay import Message, Peer, answers_ok, holding, running
from tests.realserver.conftest import free_ports

SECRET = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
NSEC = bech32_encode("nsec", bytes.fromhex(SECRET))
DUE = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
POST = RenderedPost(parts=("Hello from crosspost!",), content_id="hello", scheduled_at=DUE)


def nostr(*urls: str, **settings: Any) -> NostrConnector:
    values = {"secret_key": NSEC, "relays": urls, "timeout": 2.0, **settings}
    return NostrConnector("nostr", NostrConnector.Settings.model_validate(values))


def refusing(reason: str) -> Any:
    return answers_ok(accepted=False, reason=reason)


@pytest.fixture
def kinds() -> Iterator[list[tuple[str, Kind]]]:
    seen: list[tuple[str, Kind]] = []

    def observe(url: str, what: str, kind: Kind) -> None:
        seen.append((what, kind))

    RelayClient.observers.append(observe)
    yield seen
    RelayClient.observers.remove(observe)


# --------------------------------------------------------------------------- publishing


def test_a_post_is_one_signed_event_at_its_due_time() -> None:
    with running(answers_ok()) as relay:
        published = nostr(relay.url).publish(POST, "key")
    ((_, event),) = relay.sent("EVENT")
    assert event["id"] == published.remote_id
    assert event["created_at"] == int(DUE.timestamp())
    assert event["kind"] == 1 and event["content"] == POST.text
    assert published.url and published.url.startswith("nostr:note1")
    assert published.extra["relays"] == {relay.url: "accepted"}
    assert published.published_at == DUE


def test_every_attempt_is_the_same_event() -> None:
    with running(answers_ok()) as relay:
        first = nostr(relay.url).publish(POST, "key")
        second = nostr(relay.url).publish(POST, "key")
    assert first.remote_id == second.remote_id
    one, two = (m[1] for m in relay.sent("EVENT"))
    assert one["sig"] != two["sig"]  # fresh randomness, same event


@pytest.mark.parametrize("accepted", [True, False])
def test_duplicate_counts_as_accepted_whatever_the_flag(accepted: bool) -> None:
    # NIP-01 says true; nostr-relay 1.14 answers false with "duplicate: exists"
    with running(answers_ok(accepted, "duplicate: exists")) as relay:
        published = nostr(relay.url).publish(POST, "key")
    assert published.extra["relays"] == {relay.url: "duplicate"}


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("rate-limited: slow down", RateLimited),
        ("blocked: you are banned", Rejected),
        ("invalid: bad signature", Rejected),
        ("pow: difficulty 20 needed", Rejected),
        ("restricted: paid relay", Rejected),
        ("rejected: not allowed", Rejected),
        ("auth-required: who are you", AuthError),
        ("error: database is locked", Transient),  # keyed write: a resend is the same event
    ],
)
def test_refusals_map_by_their_prefix(reason: str, error: type[Exception]) -> None:
    with running(refusing(reason)) as relay, pytest.raises(error) as caught:
        nostr(relay.url).publish(POST, "key")
    assert reason in str(caught.value)


def test_a_refused_connection_is_transient() -> None:
    (port,) = free_ports(1)
    with pytest.raises(Transient, match="could not connect"):
        nostr(f"ws://127.0.0.1:{port}").publish(POST, "key")


def hang_up_on_events(message: Message, peer: Peer) -> None:
    if message[0] == "EVENT":
        peer.hang_up()


def silent(message: Message, peer: Peer) -> None:
    return None


@pytest.mark.parametrize("script", [hang_up_on_events, silent], ids=["closed", "no answer"])
def test_an_answer_lost_after_sending_is_unknown(script: Any) -> None:
    with running(script) as relay, pytest.raises(Unknown, match="may exist"):
        nostr(relay.url, timeout=0.5).publish(POST, "key")


def test_enough_relays_is_success_and_each_one_is_recorded() -> None:
    with running(answers_ok()) as good, running(refusing("blocked: no")) as bad:
        published = nostr(good.url, bad.url).publish(POST, "key")
        with pytest.raises(Rejected, match="1 of 2 relays took it, 2 needed"):
            nostr(good.url, bad.url, min_relays=2).publish(POST, "key")
    assert published.extra["relays"] == {
        good.url: "accepted",
        bad.url: "failed: " + (f"{bad.url} refused it: blocked: no"),
    }


def test_a_relay_that_may_still_come_round_makes_the_failure_retryable() -> None:
    (port,) = free_ports(1)
    with running(answers_ok()) as good, running(refusing("blocked: no")) as bad:
        urls = (good.url, f"ws://127.0.0.1:{port}", bad.url)
        with pytest.raises(Transient):  # the down relay may take it next time
            nostr(*urls, min_relays=2).publish(POST, "key")
        with pytest.raises(Rejected):  # even if it did, two are never reached
            nostr(*urls, min_relays=3).publish(POST, "key")


def test_auth_required_is_answered_once_with_nip42() -> None:
    def script(message: Message, peer: Peer) -> None:
        if message[0] == "AUTH":
            peer.say("OK", message[1]["id"], True, "")
        elif message[0] == "EVENT":
            authed = any(m[0] == "AUTH" for m in relay.received)
            peer.say("OK", message[1]["id"], authed, "" if authed else "auth-required: log in")

    with running(script, greeting=["AUTH", "challenge-123"]) as relay:
        nostr(relay.url).publish(POST, "key")
    ((_, auth),) = relay.sent("AUTH")
    assert auth["kind"] == 22242
    assert ["challenge", "challenge-123"] in auth["tags"] and ["relay", relay.url] in auth["tags"]
    assert len(relay.sent("EVENT")) == 2


def test_a_thread_carries_nip10_markers() -> None:
    post = RenderedPost(parts=("one", "two", "three"), content_id="t", scheduled_at=DUE)
    with running(answers_ok()) as relay:
        published = nostr(relay.url).publish(post, "key")
    events = [m[1] for m in relay.sent("EVENT")]
    root, second, third = published.thread_ids
    pubkey = Keys(SECRET).pubkey
    assert [e["created_at"] - events[0]["created_at"] for e in events] == [0, 1, 2]
    assert events[1]["tags"] == [["e", root, relay.url, "root", pubkey], ["p", pubkey]]
    assert ["e", second, relay.url, "reply", pubkey] in events[2]["tags"]
    assert ["e", root, relay.url, "root", pubkey] in events[2]["tags"]


def test_media_need_a_public_url(tmp_path: Path) -> None:
    image = tmp_path / "logo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    media = (MediaItem(image, "Our logo", "image/png"),)
    post = RenderedPost(parts=("With a picture",), media=media, scheduled_at=DUE)
    assert "no standard media upload" in " ".join(nostr("wss://relay.example").check(post))
    with running(answers_ok()) as relay:
        nostr(relay.url, media_url="https://cdn.example/m/").publish(post, "key")
    ((_, event),) = relay.sent("EVENT")
    assert event["content"] == "With a picture\nhttps://cdn.example/m/logo.png"
    meta = ["imeta", "url https://cdn.example/m/logo.png", "m image/png", "alt Our logo"]
    assert meta in event["tags"]


def test_long_form_publishes_titled_content_as_an_article() -> None:
    post = RenderedPost(
        parts=("# Body\n\n" + "word " * 2000,),
        content_id="essay",
        title="An essay",
        options={"summary": "Short"},
        language="en",
        content_warning="long read",
        scheduled_at=DUE,
    )
    connector = nostr("wss://relay.example", long_form=True)
    assert Capability.THREADS not in connector.capabilities
    assert connector.check(post) == []
    assert connector.check(RenderedPost(parts=(post.text,), scheduled_at=DUE))  # a note: too long
    with running(answers_ok()) as relay:
        published = nostr(relay.url, long_form=True).publish(post, "key")
    ((_, event),) = relay.sent("EVENT")
    assert event["kind"] == 30023 and event["content"] == post.text
    assert event["tags"][:4] == [
        ["d", "essay"],
        ["title", "An essay"],
        ["published_at", str(int(DUE.timestamp()))],
        ["summary", "Short"],
    ]
    assert ["content-warning", "long read"] in event["tags"]
    assert ["l", "en", "ISO-639-1"] in event["tags"]
    assert published.extra["d"] == "essay"


def test_unknown_options_are_reported() -> None:
    post = RenderedPost(parts=("x",), options={"visibility": "public"})
    assert nostr("wss://relay.example").check(post) == [
        "unknown nostr option 'visibility' (known: summary)"
    ]


def test_without_a_due_time_the_event_is_dated_now() -> None:
    with running(answers_ok()) as relay:
        nostr(relay.url).publish(RenderedPost(parts=("now",)), "key")
    ((_, event),) = relay.sent("EVENT")
    assert abs(event["created_at"] - datetime.now(UTC).timestamp()) < 3600


# --------------------------------------------------------------------------- reading


def member_events(root: str, me: str) -> list[dict[str, Any]]:
    member, friend = Keys("1" * 64), Keys("2" * 64)
    now = int(DUE.timestamp()) + 60
    return [
        sign_event(member, now, 7, [["e", root], ["p", me]], "+"),
        sign_event(friend, now, 7, [["e", root], ["p", me]], "🤙"),
        sign_event(friend, now + 1, 7, [["e", root], ["p", me]], "+"),  # the same person again
        sign_event(member, now, 6, [["e", root], ["p", me]], ""),
        sign_event(member, now, 1, [["e", root, "", "root"], ["p", me]], "Nice!"),
        sign_event(Keys(SECRET), now, 1, [["e", root, "", "root"], ["p", me]], "our part 2"),
    ]


def test_counts_come_from_every_relay_each_event_once(kinds: list[tuple[str, Kind]]) -> None:
    with running(answers_ok()) as relay:
        root = nostr(relay.url).publish(POST, "key").remote_id
    ours = relay.sent("EVENT")[0][1]
    me = Keys(SECRET).pubkey
    events = member_events(root, me)
    forged = dict(events[0], id="f" * 64)  # a relay cannot make up reactions
    kinds.clear()
    with running(holding([ours, *events[:3], forged])) as a, running(holding([ours, *events])) as b:
        metrics = nostr(a.url, b.url).fetch_metrics([root, "e" * 64])
    assert set(metrics) == {root}
    got = metrics[root]
    assert (got.likes, got.reposts, got.replies, got.quotes) == (2, 1, 1, 0)
    assert set(kinds) == {("REQ", Kind.READ)}


def test_a_read_goes_on_without_a_failing_relay_and_fails_without_any() -> None:
    (port,) = free_ports(1)
    dead = f"ws://127.0.0.1:{port}"
    with running(holding([])) as relay:
        assert nostr(relay.url, dead).account_metrics().followers == 0
    with pytest.raises(Transient):
        nostr(dead).fetch_metrics(["a" * 64])


def closing(reason: str) -> Any:
    def script(message: Message, peer: Peer) -> None:
        if message[0] == "REQ":
            peer.say("CLOSED", message[1], reason)

    return script


@pytest.mark.parametrize(
    ("reason", "error"),
    [("rate-limited: easy", RateLimited), ("unsupported: filter", Rejected)],
)
def test_a_closed_subscription_maps_by_its_prefix(reason: str, error: type[Exception]) -> None:
    with running(closing(reason)) as relay, pytest.raises(error):
        nostr(relay.url).fetch_inbox(None)


def test_the_inbox_holds_members_notes_that_tag_us() -> None:
    me = Keys(SECRET).pubkey
    member = Keys("1" * 64)
    root = "a" * 64
    reply = sign_event(member, 1_800_000_000, 1, [["e", root, "", "root"], ["p", me]], "Yes!")
    mention = sign_event(member, 1_800_000_005, 1, [["p", me]], "Thanks nostr:npub…")
    own = sign_event(Keys(SECRET), 1_800_000_009, 1, [["p", me]], "our own")
    with running(holding([reply, mention, own])) as relay:
        page = nostr(relay.url).fetch_inbox(None)
        later = nostr(relay.url).fetch_inbox(page.cursor)
    assert [(i.kind, i.in_reply_to) for i in page.items] == [("reply", root), ("mention", None)]
    assert page.cursor == "1800000009"
    assert relay.sent("REQ")[1][2]["since"] == 1_800_000_009
    assert later.cursor == page.cursor


def test_delete_sends_a_deletion_request(kinds: list[tuple[str, Kind]]) -> None:
    with running(answers_ok()) as relay:
        nostr(relay.url).delete("a" * 64, {"kind": 30023, "d": "essay"})
    ((_, event),) = relay.sent("EVENT")
    pubkey = Keys(SECRET).pubkey
    assert event["kind"] == 5
    assert event["tags"] == [["e", "a" * 64], ["a", f"30023:{pubkey}:essay"], ["k", "30023"]]
    assert kinds == [("EVENT", Kind.HARMLESS_WRITE)]


def test_publishing_is_a_keyed_write(kinds: list[tuple[str, Kind]]) -> None:
    with running(answers_ok()) as relay:
        connector = nostr(relay.url)
        connector.publish(POST, "key")
    assert kinds == [("EVENT", Kind.KEYED_WRITE)]
    assert Capability.IDEMPOTENCY_KEY in connector.capabilities
    assert connector.idempotency_window and connector.idempotency_window >= timedelta(days=1)


def test_declared_abilities_are_their_protocols() -> None:
    connector = nostr("wss://relay.example")
    for protocol in (Reconcilable, Inbox, FollowerList):
        assert isinstance(connector, protocol)
    assert Capability.MEDIA not in connector.capabilities


def test_the_secret_key_never_shows() -> None:
    with running(refusing(f"blocked: {NSEC} {SECRET}")) as relay:
        connector = nostr(relay.url)
        with pytest.raises(Rejected) as caught:
            connector.publish(POST, "key")
    shown = " ".join([str(caught.value), repr(connector), repr(connector.settings)])
    shown += repr(connector.keys) + repr(connector.pool.clients)
    assert NSEC not in shown and SECRET not in shown
    assert "***" in str(caught.value)


def test_of_two_lists_from_one_second_the_lowest_id_is_kept() -> None:
    """NIP-01: replaceable events with the same created_at keep the one with the lowest id."""
    from connectors.nostr.reading import _newest

    older = {"pubkey": "p", "created_at": 5, "id": "b" * 64}
    same_second_low, same_second_high = (
        {"pubkey": "p", "created_at": 7, "id": "a" * 64},
        {"pubkey": "p", "created_at": 7, "id": "c" * 64},
    )
    for order in ([older, same_second_high, same_second_low], [same_second_low, same_second_high]):
        assert _newest(order)["p"]["id"] == "a" * 64
