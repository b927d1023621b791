"""Nostr keys, event ids, counting rules and account settings, without a relay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.base import Published, RenderedPost, ThreadPart
from connectors.nostr import NostrConnector
from connectors.nostr.counting import count, parent_of
from connectors.nostr.events import as_event, event_id, sign_event
from connectors.nostr.keys import InvalidKey, Keys, bech32_decode, note_id, npub
from connectors.nostr.posts import created_at

# NIP-19's own examples (https://github.com/nostr-protocol/nips/blob/master/19.md)
NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
SECRET = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
NPUB = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
PUBKEY = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"


def test_nip19_examples() -> None:
    assert bech32_decode(NSEC) == ("nsec", bytes.fromhex(SECRET))
    assert Keys(NSEC).pubkey == PUBKEY == Keys(SECRET).pubkey
    assert npub(PUBKEY) == NPUB
    assert note_id("0" * 64).startswith("note1")


@pytest.mark.parametrize(
    ("key", "said"),
    [
        (NPUB, "that is the public key"),
        (NSEC[:-1] + ("q" if NSEC[-1] != "q" else "p"), "checksum"),
        ("abc", "expected an nsec1"),
        ("0" * 64, "out of range"),
        ("zz" * 32, "expected an nsec1"),
    ],
)
def test_bad_keys_say_what_is_wrong(key: str, said: str) -> None:
    with pytest.raises(InvalidKey, match=said):
        Keys(key)


def test_event_id_matches_rust_nostr() -> None:
    # Computed with nostr-sdk 0.45.1 (rust-nostr) for the NIP-19 example key: quotes,
    # backslash, tab, newline, a control character, non-ASCII, emoji and U+2028.
    content = 'Tab\there "quoted" back\\slash\nnew line \u0001 ctl, é, 😀, \u2028 sep'
    tags = [["e", "a" * 64, "", "root"], ["p", "b" * 64]]
    expected = "d905bb1051e6da418e2e48af3fe27883476b31ac6c507232def61cad7a3ac7e7"
    assert event_id(PUBKEY, 1_700_000_000, 1, tags, content) == expected


def test_only_well_signed_events_are_read() -> None:
    event = sign_event(Keys(SECRET), 1_700_000_000, 1, [["t", "x"]], "hi")
    assert as_event(dict(event)) == event
    assert as_event({**event, "content": "changed"}) is None  # id no longer matches
    other = sign_event(Keys("1" * 64), 1_700_000_000, 1, [["t", "x"]], "hi")
    assert as_event({**event, "sig": other["sig"]}) is None
    assert as_event({**event, "tags": [[1]]}) is None
    assert as_event("not an event") is None


def reply(tags: list[list[str]], author: str = "1" * 64) -> Any:
    return sign_event(Keys(author), 1_700_000_000, 1, tags, "re")


@pytest.mark.parametrize(
    ("tags", "parent"),
    [
        ([["e", "r", "", "root"]], "r"),
        ([["e", "r", "", "root"], ["e", "p", "", "reply"]], "p"),
        ([["e", "p", "", "reply"], ["e", "r", "", "root"]], "p"),
        ([["e", "r"], ["e", "p"]], "p"),  # positional (deprecated): the last is the parent
        ([["e", "m", "", "mention"]], None),
        ([["p", "x"]], None),
    ],
)
def test_parent_of_follows_nip10(tags: list[list[str]], parent: str | None) -> None:
    assert parent_of(reply(tags)) == parent


def test_our_own_events_never_count() -> None:
    mine = Keys(SECRET)
    events = [
        sign_event(mine, 1, 7, [["e", "a" * 64]], "+"),
        sign_event(mine, 1, 1, [["e", "a" * 64, "", "root"]], "part two"),
        sign_event(Keys("1" * 64), 1, 1, [["q", "a" * 64]], "quoting"),
    ]
    got = count(events, ["a" * 64], mine.pubkey)["a" * 64]
    assert (got.likes, got.replies, got.quotes) == (0, 0, 1)


def part(index: int) -> ThreadPart:
    root = Published("r", None, datetime(2026, 1, 1, tzinfo=UTC))
    return ThreadPart(index, "x", root if index else None, root if index else None, "k")


def test_created_at_is_the_due_time_a_second_per_part() -> None:
    due = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    post = RenderedPost(parts=("a", "b"), scheduled_at=due)
    fallback = datetime(2030, 1, 1, tzinfo=UTC)
    assert created_at(post, part(0), fallback) == int(due.timestamp())
    assert created_at(post, part(1), fallback) == int(due.timestamp()) + 1
    naive = RenderedPost(parts=("a",), scheduled_at=due.replace(tzinfo=None))
    assert created_at(naive, part(0), fallback) == int(due.timestamp())
    assert created_at(RenderedPost(parts=("a",)), part(0), fallback) == int(fallback.timestamp())


VALID: list[dict[str, Any]] = [
    {"secret_key": NSEC, "relays": ["wss://relay.example"]},
    {"secret_key": SECRET, "relays": ["wss://a.example", "ws://127.0.0.1:7777"], "min_relays": 2},
    {"secret_key": NSEC, "relays": ["wss://a.example"], "long_form": True},
    {"secret_key": NSEC, "relays": ["wss://a.example"], "media_url": "https://cdn.example/m/"},
]
INVALID: list[tuple[dict[str, Any], str]] = [
    ({"secret_key": NPUB, "relays": ["wss://a.example"]}, "public key"),
    ({"secret_key": NSEC, "relays": []}, "at least 1"),
    ({"secret_key": NSEC, "relays": ["https://a.example"]}, "not a relay URL"),
    ({"secret_key": NSEC, "relays": ["wss://a.example", "wss://a.example"]}, "listed twice"),
    ({"secret_key": NSEC, "relays": ["wss://a.example"], "min_relays": 2}, "min_relays is 2"),
    ({"secret_key": NSEC, "relays": ["wss://a.example"], "media_url": "cdn/"}, "http(s)://"),
    ({"secret_key": NSEC, "relays": ["wss://a.example"], "timeout": 0}, "greater than 0"),
    ({"secret_key": NSEC, "relays": ["wss://a.example"], "token": "x"}, "Extra inputs"),
]


@pytest.mark.parametrize("values", VALID)
def test_valid_accounts(values: dict[str, Any]) -> None:
    settings = NostrConnector.Settings.model_validate(values)
    assert NostrConnector("n", settings).keys.pubkey == PUBKEY


@pytest.mark.parametrize(("values", "said"), INVALID)
def test_invalid_accounts_say_why_and_never_echo_the_key(values: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError) as caught:
        NostrConnector.Settings.model_validate(values)
    assert said in str(caught.value)
    assert NSEC not in str(caught.value) and SECRET not in str(caught.value)
