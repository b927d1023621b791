"""Bluesky connector: sessions, counting, facets, embeds, threads, idempotency, metrics."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pydantic
import pytest
import requests
import responses
from hypothesis import given, settings
from hypothesis import strategies as st
from responses import matchers

from connectors.base import (
    AuthError,
    InboxPage,
    MediaItem,
    MemoryState,
    Published,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
)
from connectors.bluesky import BlueskyConnector, rkey_for
from connectors.images import image_size as _image_size
from crosspost.rendering.text import grapheme_length, split_text, thread_parts, utf8_length
from tests.contract.harness import fixture

PDS = "https://bsky.social/xrpc"
APPVIEW = "https://public.api.bsky.app/xrpc"
PASSWORD = "abcd-efgh-ijkl-mnop"
HANDLE = "crosspost.bsky.social"
KEY = "entry-launch-2026-11-26T10:00-bsky"
SESSION = fixture("bluesky", "create_session")
REFRESHED = fixture("bluesky", "refresh_session")
DID = SESSION["did"]
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 25 bytes, 1 grapheme


def load(name: str) -> Any:
    return fixture("bluesky", name)


def make(state: MemoryState | None = None, **overrides: Any) -> BlueskyConnector:
    values = {"handle": HANDLE, "app_password": PASSWORD, **overrides}
    return BlueskyConnector("community", BlueskyConnector.Settings(**values), state)


def saved(access: str = "stale-access", refresh: str = "stale-refresh") -> MemoryState:
    """A state holding a session from an earlier run."""
    session = {
        "accessJwt": access,
        "refreshJwt": refresh,
        "did": DID,
        "handle": HANDLE,
        "identifier": HANDLE,
        "service": "https://bsky.social",
    }
    return MemoryState({"session": session})


def bearer(token: str) -> Any:
    return matchers.header_matcher({"Authorization": f"Bearer {token}"})


def created(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    """createRecord echo: the URI carries the record key that was sent, as the PDS does."""
    body = json.loads(request.body or b"{}")
    answer = dict(load("create_record"))
    answer["uri"] = f"at://{body['repo']}/{body['collection']}/{body['rkey']}"
    answer["cid"] = f"bafyrei{body['rkey']}"
    return 200, {}, json.dumps(answer)


def record_of(call: Any) -> dict[str, Any]:
    return json.loads(call.request.body)["record"]  # type: ignore[no-any-return]


def creates(rsps: responses.RequestsMock) -> list[Any]:
    return [c for c in rsps.calls if c.request.url == f"{PDS}/com.atproto.repo.createRecord"]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def login(rsps: responses.RequestsMock, times: int = 1) -> None:
    for _ in range(times):
        rsps.add(
            "POST",
            f"{PDS}/com.atproto.server.createSession",
            json=SESSION,
            match=[matchers.json_params_matcher({"identifier": HANDLE, "password": PASSWORD})],
        )


def accept_creates(rsps: responses.RequestsMock, token: str = SESSION["accessJwt"]) -> None:
    rsps.add_callback(
        "POST", f"{PDS}/com.atproto.repo.createRecord", callback=created, match=[bearer(token)]
    )


def post(*parts: str, **fields: Any) -> RenderedPost:
    return RenderedPost(parts=parts or ("Hello",), content_id="launch", **fields)


# --------------------------------------------------------------------------- settings

VALID = [
    ({}, {"handle": HANDLE, "service": "https://bsky.social", "appview": None}),
    ({"handle": "@CrossPost.BSKY.social"}, {"handle": HANDLE}),
    (
        {"handle": "did:plc:w4xbfzo7kqfes5zb7r6qv3rw"},
        {"handle": "did:plc:w4xbfzo7kqfes5zb7r6qv3rw"},
    ),
    ({"service": "https://pds.example.org/"}, {"service": "https://pds.example.org"}),
    ({"service": "http://localhost:2583"}, {"service": "http://localhost:2583"}),
    ({"appview": "https://public.api.bsky.app"}, {"appview": "https://public.api.bsky.app"}),
]
INVALID = [
    ({"handle": "crosspost"}, "handle"),
    ({"handle": "crosspost@bsky.social"}, "handle"),
    ({"app_password": "hunter2-my-real-password"}, "app password"),
    ({"service": "http://bsky.social"}, "https://"),
    ({"service": "bsky.social"}, "https://"),
    ({"appview": "https://public.api.bsky.app/xrpc"}, "https://"),
    ({"password": PASSWORD}, "Extra inputs"),
]


@pytest.mark.parametrize(("overrides", "expected"), VALID)
def test_valid_settings(overrides: dict[str, Any], expected: dict[str, Any]) -> None:
    parsed = BlueskyConnector.Settings(**{"handle": HANDLE, "app_password": PASSWORD, **overrides})
    for field, value in expected.items():
        assert getattr(parsed, field) == value
    assert PASSWORD not in repr(parsed)


@pytest.mark.parametrize(("overrides", "message"), INVALID)
def test_invalid_settings(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        BlueskyConnector.Settings(**{"handle": HANDLE, "app_password": PASSWORD, **overrides})
    assert message in str(caught.value)


def test_missing_app_password_is_invalid() -> None:
    with pytest.raises(pydantic.ValidationError, match="app_password"):
        BlueskyConnector.Settings(handle=HANDLE)  # type: ignore[call-arg]


def test_building_makes_no_request(rsps: responses.RequestsMock) -> None:
    connector = make()
    assert "community" in repr(connector)
    assert PASSWORD not in repr(connector)
    assert len(rsps.calls) == 0


# --------------------------------------------------------------------------- counting

COUNTING = [
    # text, graphemes, UTF-8 bytes, measure, accepted
    ("नमस्ते", 3, 18, 3, True),
    ("Привіт, світе!", 14, 25, 14, True),
    ("\U0001f642" * 300, 300, 1200, 300, True),
    ("a" * 300, 300, 300, 300, True),
    ("a" * 301, 301, 301, 301, False),
    (FAMILY * 120, 120, 3000, 300, True),
    (FAMILY * 121, 121, 3025, 303, False),
    (FAMILY * 300, 300, 7500, 750, False),
    ("🇺🇦" * 300, 300, 2400, 300, True),
]


@pytest.mark.parametrize(("text", "graphemes", "size", "measured", "accepted"), COUNTING)
def test_counting_rules(
    text: str, graphemes: int, size: int, measured: int, accepted: bool
) -> None:
    connector = make()
    assert grapheme_length(text) == graphemes
    assert utf8_length(text) == size
    assert connector.measure(text) == measured
    assert (connector.check(post(text)) == []) is accepted


def test_byte_rule_is_reported_in_bytes() -> None:
    problems = make().check(post(FAMILY * 300))
    assert problems == ["text is 7500 UTF-8 bytes long (at most 3000 on bluesky)"]


def test_both_rules_are_reported_per_part() -> None:
    problems = make().check(post("ok", FAMILY * 301))
    assert problems == [
        "part 2 text is 301 graphemes long (at most 300 on bluesky)",
        "part 2 text is 7525 UTF-8 bytes long (at most 3000 on bluesky)",
    ]


def test_links_count_in_full() -> None:
    url = "https://example.org/" + "x" * 60
    text = "a" * 220 + " " + url
    assert grapheme_length(text) == 301
    assert make().check(post(text)) == ["text is 301 graphemes long (at most 300 on bluesky)"]


def test_free_text_content_warning_is_refused_but_self_labels_pass() -> None:
    connector = make()
    assert "content warnings" in connector.check(post("x", content_warning="spoilers"))[0]
    assert connector.check(post("x", content_warning="graphic-media")) == []


# --------------------------------------------------------------------------- sessions


def test_many_publishes_make_one_create_session(rsps: responses.RequestsMock) -> None:
    login(rsps)
    accept_creates(rsps)
    state = MemoryState()
    connector = make(state)
    for number in range(5):
        connector.publish(post(f"post {number}"), f"{KEY}-{number}")
    logins = [c for c in rsps.calls if c.request.url.endswith("createSession")]
    assert len(logins) == 1
    assert len(creates(rsps)) == 5
    # the next run (a new connector on the same state) logs in no more
    make(state).publish(post("again"), f"{KEY}-again")
    assert len([c for c in rsps.calls if c.request.url.endswith("createSession")]) == 1
    assert state.load()["session"]["accessJwt"] == SESSION["accessJwt"]


def test_saved_session_of_another_account_is_not_used(rsps: responses.RequestsMock) -> None:
    login(rsps)
    accept_creates(rsps)
    state = saved()
    state.save({"session": {**state.load()["session"], "identifier": "someone.else.social"}})
    make(state).publish(post("hello"), KEY)
    assert state.load()["session"]["identifier"] == HANDLE


def test_expired_token_is_refreshed_and_the_call_repeated_once(
    rsps: responses.RequestsMock,
) -> None:
    state = saved(SESSION["accessJwt"], SESSION["refreshJwt"])
    rsps.add(
        "POST",
        f"{PDS}/com.atproto.repo.createRecord",
        status=400,
        json=load("error_expired_token"),
        match=[bearer(SESSION["accessJwt"])],
    )
    rsps.add(
        "POST",
        f"{PDS}/com.atproto.server.refreshSession",
        json=REFRESHED,
        match=[bearer(SESSION["refreshJwt"])],
    )
    accept_creates(rsps, REFRESHED["accessJwt"])
    published = make(state).publish(post("hello"), KEY)
    assert published.remote_id == f"at://{DID}/app.bsky.feed.post/{rkey_for(KEY)}"
    assert len(creates(rsps)) == 2
    assert state.load()["session"]["refreshJwt"] == REFRESHED["refreshJwt"]


def test_appview_style_401_expired_token_is_refreshed_too(rsps: responses.RequestsMock) -> None:
    state = saved(SESSION["accessJwt"], SESSION["refreshJwt"])
    rsps.add(
        "POST",
        f"{PDS}/com.atproto.repo.createRecord",
        status=401,
        json=load("error_expired_token"),
        match=[bearer(SESSION["accessJwt"])],
    )
    rsps.add("POST", f"{PDS}/com.atproto.server.refreshSession", json=REFRESHED)
    accept_creates(rsps, REFRESHED["accessJwt"])
    assert make(state).publish(post("hello"), KEY).remote_id


def test_refused_refresh_makes_a_new_session(rsps: responses.RequestsMock) -> None:
    state = saved()
    rsps.add(
        "POST",
        f"{PDS}/com.atproto.repo.createRecord",
        status=400,
        json=load("error_expired_token"),
        match=[bearer("stale-access")],
    )
    rsps.add(
        "POST",
        f"{PDS}/com.atproto.server.refreshSession",
        status=400,
        json=load("error_revoked_refresh"),
        match=[bearer("stale-refresh")],
    )
    login(rsps)
    accept_creates(rsps)
    assert make(state).publish(post("hello"), KEY).remote_id
    assert state.load()["session"]["accessJwt"] == SESSION["accessJwt"]


def test_all_failing_gives_an_auth_error_that_says_what_to_do(
    rsps: responses.RequestsMock,
) -> None:
    rsps.add(
        "POST", f"{PDS}/com.atproto.repo.createRecord", status=400, json=load("error_expired_token")
    )
    rsps.add(
        "POST",
        f"{PDS}/com.atproto.server.refreshSession",
        status=400,
        json=load("error_revoked_refresh"),
    )
    rsps.add(
        "POST", f"{PDS}/com.atproto.server.createSession", status=401, json=load("error_login")
    )
    with pytest.raises(AuthError) as caught:
        make(saved()).publish(post("hello"), KEY)
    message = str(caught.value)
    assert message.startswith("bluesky/community: cannot sign in as crosspost.bsky.social")
    assert "Invalid identifier or password" in message
    assert "Create a new app password" in message and "'community'" in message
    assert PASSWORD not in message and "stale-refresh" not in message


def test_tokens_are_registered_as_secrets(rsps: responses.RequestsMock) -> None:
    login(rsps)
    accept_creates(rsps)
    connector = make()
    connector.publish(post("hello"), KEY)
    shown = f"{SESSION['accessJwt']} {SESSION['refreshJwt']} {PASSWORD}"
    assert connector.http.redact(shown) == "*** *** ***"


def test_login_rate_limit_is_rate_limited(rsps: responses.RequestsMock) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 300
    rsps.add(
        "POST",
        f"{PDS}/com.atproto.server.createSession",
        status=429,
        json=load("error_rate_limit"),
        headers={
            "RateLimit-Limit": "30",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": "30;w=300",
        },
    )
    with pytest.raises(RateLimited) as caught:
        make().publish(post("hello"), KEY)
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_login_timeout_is_transient(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        f"{PDS}/com.atproto.server.createSession",
        body=requests.ReadTimeout("read timed out"),
    )
    with pytest.raises(Transient):
        make().publish(post("hello"), KEY)


@pytest.mark.parametrize(
    "headers",
    [
        {
            "RateLimit-Limit": "5000",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": "EPOCH",
            "RateLimit-Policy": "5000;w=3600",
        },
        {"Retry-After": "120"},
    ],
)
def test_rate_limit_header_shapes(rsps: responses.RequestsMock, headers: dict[str, str]) -> None:
    target = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=120)
    headers = {k: str(int(target.timestamp())) if v == "EPOCH" else v for k, v in headers.items()}
    rsps.add(
        "POST",
        f"{PDS}/com.atproto.repo.createRecord",
        status=429,
        json=load("error_rate_limit"),
        headers=headers,
    )
    with pytest.raises(RateLimited) as caught:
        make(saved()).publish(post("hello"), KEY)
    assert abs(caught.value.retry_at - target) <= timedelta(seconds=2)


# --------------------------------------------------------------------------- facets


def test_facets_use_utf8_byte_offsets_after_non_ascii_text(rsps: responses.RequestsMock) -> None:
    text = "Привіт 🇺🇦 @alice.bsky.social! Дивіться https://example.org/шлях і #КросПост 🙂"
    rsps.add(
        "GET",
        f"{PDS}/com.atproto.identity.resolveHandle",
        json=load("resolve_handle"),
        match=[matchers.query_param_matcher({"handle": "alice.bsky.social"})],
    )
    accept_creates(rsps)
    make(saved(SESSION["accessJwt"])).publish(post(text), KEY)
    facets = record_of(creates(rsps)[0])["facets"]
    # "Привіт" 12 bytes + space + flag 8 + space = 22; "! Дивіться " = 19 bytes after the
    # mention; the URL's Cyrillic path takes 2 bytes a letter, and so does the tag.
    assert [f["index"] for f in facets] == [
        {"byteStart": 22, "byteEnd": 40},
        {"byteStart": 59, "byteEnd": 87},
        {"byteStart": 91, "byteEnd": 108},
    ]
    assert [f["features"] for f in facets] == [
        [{"$type": "app.bsky.richtext.facet#mention", "did": load("resolve_handle")["did"]}],
        [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/шлях"}],
        [{"$type": "app.bsky.richtext.facet#tag", "tag": "КросПост"}],
    ]
    raw = text.encode("utf-8")
    pieces = [raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets]
    assert pieces == ["@alice.bsky.social", "https://example.org/шлях", "#КросПост"]


def test_unresolvable_handle_stays_plain_text(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{PDS}/com.atproto.identity.resolveHandle",
        status=400,
        json=load("error_unresolvable_handle"),
    )
    accept_creates(rsps)
    text = "Thanks @ghost.example.com and @bob@mastodon.social and @everyone"
    make(saved(SESSION["accessJwt"])).publish(post(text), KEY)
    record = record_of(creates(rsps)[0])
    assert record["text"] == text
    assert "facets" not in record
    resolved = [c for c in rsps.calls if "resolveHandle" in c.request.url]
    assert len(resolved) == 1  # the fediverse address and @everyone are not looked up


# --------------------------------------------------------------------------- embeds


def test_link_card(rsps: responses.RequestsMock) -> None:
    accept_creates(rsps)
    card = post(
        "New release",
        link="https://example.org/r/2",
        title="Release 2.0",
        options={"description": "What is new"},
        language="en",
    )
    make(saved(SESSION["accessJwt"])).publish(card, KEY)
    record = record_of(creates(rsps)[0])
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": "https://example.org/r/2",
            "title": "Release 2.0",
            "description": "What is new",
        },
    }
    assert record["langs"] == ["en"]


def png(path: Path, width: int, height: int) -> Path:
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR"
    path.write_bytes(header + width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\0" * 64)
    return path


def raw_body(data: bytes) -> Any:
    """Match a binary request body exactly (``body_matcher`` decodes it as text)."""

    def match(request: requests.PreparedRequest) -> tuple[bool, str]:
        return request.body == data, "" if request.body == data else "body differs"

    return match


def test_four_images_with_alt_text(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    media = tuple(
        MediaItem(png(tmp_path / f"p{n}.png", 1200, 800), alt=f"photo {n}", mime_type="image/png")
        for n in range(4)
    )
    for item in media:
        rsps.add(
            "POST",
            f"{PDS}/com.atproto.repo.uploadBlob",
            json=load("upload_blob"),
            match=[
                matchers.header_matcher(
                    {"Content-Type": "image/png", "Authorization": f"Bearer {SESSION['accessJwt']}"}
                ),
                raw_body(item.path.read_bytes()),
            ],
        )
    accept_creates(rsps)
    make(saved(SESSION["accessJwt"])).publish(
        post("Photos", media=media, link="https://example.org"), KEY
    )
    embed = record_of(creates(rsps)[0])["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [image["alt"] for image in embed["images"]] == [f"photo {n}" for n in range(4)]
    assert all(image["image"] == load("upload_blob")["blob"] for image in embed["images"])
    assert all(image["aspectRatio"] == {"width": 1200, "height": 800} for image in embed["images"])


def test_five_images_are_rejected_without_sending(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    media = tuple(
        MediaItem(png(tmp_path / f"p{n}.png", 10, 10), alt="x", mime_type="image/png")
        for n in range(5)
    )
    with pytest.raises(Rejected, match="5 media files"):
        make(saved()).publish(post("Photos", media=media), KEY)
    assert len(rsps.calls) == 0


def test_missing_alt_text_is_rejected(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    item = MediaItem(png(tmp_path / "p.png", 10, 10), alt=" ", mime_type="image/png")
    with pytest.raises(Rejected, match="alt text is missing"):
        make(saved()).publish(post("Photo", media=(item,)), KEY)
    assert len(rsps.calls) == 0


def test_image_over_the_lexicon_size_is_rejected(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    with big.open("wb") as handle:
        handle.truncate(2_000_001)
    item = MediaItem(big, alt="big", mime_type="image/jpeg")
    assert make().check(post("x", media=(item,))) == ["big.jpg: 2000001 bytes (at most 2000000)"]


def test_image_sizes_from_headers() -> None:
    gif = b"GIF89a" + (640).to_bytes(2, "little") + (480).to_bytes(2, "little")
    jpeg = (
        b"\xff\xd8\xff\xe0\x00\x10"
        + b"\0" * 14
        + b"\xff\xc0\x00\x11\x08"
        + (300).to_bytes(2, "big")
        + (400).to_bytes(2, "big")
        + b"\0" * 12
    )
    assert _image_size(gif) == (640, 480)
    assert _image_size(jpeg) == (400, 300)
    assert _image_size(b"RIFF....WEBP") is None


# --------------------------------------------------------------------------- threads


def test_thread_reply_refs(rsps: responses.RequestsMock) -> None:
    accept_creates(rsps)
    published = make(saved(SESSION["accessJwt"])).publish(post("one", "two", "three"), KEY)
    records = [record_of(call) for call in creates(rsps)]
    keys = [json.loads(c.request.body)["rkey"] for c in creates(rsps)]
    assert keys == [rkey_for(KEY), rkey_for(f"{KEY}-1"), rkey_for(f"{KEY}-2")]
    uris = [f"at://{DID}/app.bsky.feed.post/{key}" for key in keys]
    refs = [{"uri": uri, "cid": f"bafyrei{key}"} for uri, key in zip(uris, keys, strict=True)]
    assert "reply" not in records[0]
    assert records[1]["reply"] == {"root": refs[0], "parent": refs[0]}
    assert records[2]["reply"] == {"root": refs[0], "parent": refs[1]}
    assert published.thread_ids == tuple(uris)
    assert published.url == f"https://bsky.app/profile/{HANDLE}/post/{keys[0]}"
    assert published.extra["cid"] == refs[0]["cid"]


# --------------------------------------------------------------------------- idempotency


def test_record_keys_are_valid_deterministic_past_tids() -> None:
    keys = [rkey_for(f"{KEY}-{n}") for n in range(200)]
    assert all(TID_RE.match(key) for key in keys)
    assert len(set(keys)) == 200
    assert rkey_for(KEY) == rkey_for(KEY)
    value = 0
    for char in rkey_for(KEY):
        value = value * 32 + "234567abcdefghijklmnopqrstuvwxyz".index(char)
    when = datetime.fromtimestamp((value >> 10) / 1_000_000, UTC)
    assert datetime(2023, 1, 1, tzinfo=UTC) <= when < datetime.now(UTC)


def test_a_repeated_create_returns_the_existing_post(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST", f"{PDS}/com.atproto.repo.createRecord", status=500, json=load("error_internal")
    )
    rsps.add(
        "GET",
        f"{PDS}/com.atproto.repo.getRecord",
        json=load("get_record"),
        match=[
            matchers.query_param_matcher(
                {"repo": DID, "collection": "app.bsky.feed.post", "rkey": rkey_for(KEY)}
            )
        ],
    )
    published = make(saved(SESSION["accessJwt"])).publish(post("hello"), KEY)
    assert published.remote_id == load("get_record")["uri"]
    assert published.published_at == datetime(2026, 11, 26, 10, 0, 1, 123000, tzinfo=UTC)
    assert len(creates(rsps)) == 1


def test_server_error_without_a_record_is_transient(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST", f"{PDS}/com.atproto.repo.createRecord", status=502, json=load("error_internal")
    )
    rsps.add(
        "GET", f"{PDS}/com.atproto.repo.getRecord", status=400, json=load("error_record_not_found")
    )
    with pytest.raises(Transient):
        make(saved(SESSION["accessJwt"])).publish(post("hello"), KEY)


def test_find_recent_reads_the_record_keys(rsps: responses.RequestsMock) -> None:
    found = load("get_record")
    reply = {**found, "uri": found["uri"].replace("3kq5xhuyb2c2p", rkey_for(f"{KEY}-1"))}
    for key, body, status in (
        (KEY, found, 200),
        (f"{KEY}-1", reply, 200),
        (f"{KEY}-2", load("error_record_not_found"), 400),
    ):
        rsps.add(
            "GET",
            f"{PDS}/com.atproto.repo.getRecord",
            json=body,
            status=status,
            match=[
                matchers.query_param_matcher(
                    {"repo": DID, "collection": "app.bsky.feed.post", "rkey": rkey_for(key)}
                )
            ],
        )
    published = make(saved(SESSION["accessJwt"])).find_recent(KEY, "hello")
    assert published is not None
    assert published.thread_ids == (found["uri"], reply["uri"])
    assert published.url == f"https://bsky.app/profile/{HANDLE}/post/3kq5xhuyb2c2p"


def test_find_recent_without_a_record_is_none(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET", f"{PDS}/com.atproto.repo.getRecord", status=400, json=load("error_record_not_found")
    )
    assert make(saved(SESSION["accessJwt"])).find_recent(KEY, "hello") is None


# --------------------------------------------------------------------------- metrics, delete


def test_get_posts_is_batched_by_25(rsps: responses.RequestsMock) -> None:
    template = load("get_posts")["posts"][0]
    ids = [f"at://{DID}/app.bsky.feed.post/{rkey_for(str(n))}" for n in range(30)]
    asked: list[list[str]] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        uris = parse_qs(urlsplit(request.url or "").query)["uris"]
        asked.append(uris)
        return 200, {}, json.dumps({"posts": [{**template, "uri": uri} for uri in uris]})

    rsps.add_callback("GET", f"{APPVIEW}/app.bsky.feed.getPosts", callback=answer)
    got = make(appview="https://public.api.bsky.app").fetch_metrics(ids)
    assert [len(batch) for batch in asked] == [25, 5]
    assert [uri for batch in asked for uri in batch] == ids
    assert set(got) == set(ids)
    assert got[ids[0]].likes == 42 and got[ids[0]].bookmarks == 5 and got[ids[0]].views is None
    assert all("Authorization" not in c.request.headers for c in rsps.calls)


def test_account_metrics_from_the_public_appview(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{APPVIEW}/app.bsky.actor.getProfile",
        json=load("get_profile"),
        match=[matchers.query_param_matcher({"actor": HANDLE})],
    )
    got = make(appview="https://public.api.bsky.app").account_metrics()
    assert (got.followers, got.following, got.posts) == (1532, 211, 987)


def test_delete(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        f"{PDS}/com.atproto.repo.deleteRecord",
        json={
            "commit": {
                "cid": "bafyreibxmbd35wr3xclnqeoxgdrvibgyeuw2xbjqgg3xhpsqojhnplcv4m",
                "rev": "3lf4e",
            }
        },
        match=[
            matchers.json_params_matcher(
                {"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3kq5xhuyb2c2p"}
            ),
            bearer(SESSION["accessJwt"]),
        ],
    )
    make(saved(SESSION["accessJwt"])).delete(f"at://{DID}/app.bsky.feed.post/3kq5xhuyb2c2p")


@pytest.mark.parametrize(
    "uri",
    [
        "https://bsky.app/profile/x/post/3kq5xhuyb2c2p",
        f"at://{DID}/app.bsky.feed.like/3kq5xhuyb2c2p",
        "at://did:plc:someoneelse000000000000/app.bsky.feed.post/3kq5xhuyb2c2p",
    ],
)
def test_delete_refuses_what_is_not_our_post(rsps: responses.RequestsMock, uri: str) -> None:
    with pytest.raises(Rejected):
        make(saved(SESSION["accessJwt"])).delete(uri)
    assert len(rsps.calls) == 0


# --------------------------------------------------------------------------- properties

TOKENS = [
    "word",
    "слово",
    "नमस्ते",
    FAMILY,
    "🇺🇦",
    "🙂",
    " ",
    "\n\n",
    ". ",
    "#тег",
    "@alice.bsky.social",
    "e\u0301",
]
TEXTS = st.lists(st.sampled_from(TOKENS), max_size=700).map("".join)


@settings(max_examples=60, deadline=None)
@given(TEXTS)
def test_thread_parts_fit_both_rules(text: str) -> None:
    connector = make()
    for part in thread_parts(text, connector.effective_limits.max_length, connector.measure):
        assert grapheme_length(part) <= 300
        assert utf8_length(part) <= 3000
        assert connector.check(post(part)) == []


@settings(max_examples=60, deadline=None)
@given(TEXTS)
def test_split_text_rejoins(text: str) -> None:
    assert "".join(split_text(text, 300, make().measure)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400) | TEXTS)
def test_measure_fits_exactly_when_both_rules_hold(text: str) -> None:
    fits = grapheme_length(text) <= 300 and utf8_length(text) <= 3000
    assert (make().measure(text) <= 300) is fits
    assert make().measure(text) >= grapheme_length(text)


# --------------------------------------------------------------------------- inbox, followers

OUR_POST = f"at://{DID}/app.bsky.feed.post/3our"


def notification(rkey: str, reason: str, indexed_at: str, **extra: Any) -> dict[str, Any]:
    """A notification view as ``app.bsky.notification.listNotifications`` returns it."""
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": f"{reason} {rkey}",
        "createdAt": indexed_at,
    }
    if reason == "reply":
        record["reply"] = {"root": {"uri": OUR_POST, "cid": "c0"}, "parent": {"uri": OUR_POST}}
    return {
        "uri": f"at://did:plc:member/app.bsky.feed.post/{rkey}",
        "cid": f"cid-{rkey}",
        "author": {"did": "did:plc:member", "handle": "member.bsky.social"},
        "reason": reason,
        "record": record,
        "isRead": False,
        "indexedAt": indexed_at,
        **extra,
    }


def test_inbox_pages_back_to_the_cursor(rsps: responses.RequestsMock) -> None:
    login(rsps)
    url = f"{PDS}/app.bsky.notification.listNotifications"
    reasons = "reasons=mention&reasons=reply&reasons=quote"
    rsps.get(
        url,
        match=[matchers.query_string_matcher(f"limit=50&{reasons}")],
        json={
            "notifications": [
                notification("3c", "reply", "2026-03-01T12:03:00.000Z", reasonSubject=OUR_POST),
                notification("3b", "quote", "2026-03-01T12:02:00.000Z", reasonSubject=OUR_POST),
            ],
            "cursor": "page2",
        },
    )
    rsps.get(
        url,
        match=[matchers.query_string_matcher(f"limit=50&{reasons}&cursor=page2")],
        json={
            "notifications": [
                notification("3a", "mention", "2026-03-01T12:01:00.000Z"),
                notification("2z", "mention", "2026-03-01T12:00:00.000Z"),
            ],
            "cursor": "page3",
        },
    )
    page = make().fetch_inbox("2026-03-01T12:00:00.000Z|cid-2z")
    assert page.cursor == "2026-03-01T12:03:00.000Z|cid-3c"
    assert [(i.kind, i.in_reply_to) for i in page.items] == [
        ("reply", OUR_POST),
        ("quote", OUR_POST),
        ("mention", None),
    ]
    assert page.items[0].url == "https://bsky.app/profile/member.bsky.social/post/3c"
    assert page.items[0].author == "@member.bsky.social"


def test_inbox_with_nothing_new_keeps_the_cursor(rsps: responses.RequestsMock) -> None:
    login(rsps)
    rsps.get(f"{PDS}/app.bsky.notification.listNotifications", json={"notifications": []})
    assert make().fetch_inbox("t|c") == InboxPage((), "t|c")


def test_inbox_stores_only_members_mentions_replies_and_quotes(
    rsps: responses.RequestsMock,
) -> None:
    login(rsps)
    ours = {"did": DID, "handle": HANDLE}
    rsps.get(
        f"{PDS}/app.bsky.notification.listNotifications",
        json={  # a server that ignored the reasons filter
            "notifications": [
                notification("3f", "like", "2026-03-01T12:05:00.000Z", reasonSubject=OUR_POST),
                notification("3e", "repost", "2026-03-01T12:04:00.000Z", reasonSubject=OUR_POST),
                notification("3d", "follow", "2026-03-01T12:03:30.000Z"),
                notification("3c", "reply", "2026-03-01T12:03:00.000Z", author=ours),
                notification("3b", "reply", "2026-03-01T12:02:00.000Z", reasonSubject=OUR_POST),
            ]
        },
    )
    page = make().fetch_inbox(None)
    assert [(i.remote_id.rsplit("/", 1)[1], i.kind) for i in page.items] == [("3b", "reply")]
    assert page.cursor == "2026-03-01T12:05:00.000Z|cid-3f"


def test_followers_follow_cursors_up_to_the_limit(rsps: responses.RequestsMock) -> None:
    appview = "https://public.api.bsky.app"
    url = f"{appview}/xrpc/app.bsky.graph.getFollowers"
    people = [{"did": f"did:plc:f{n}", "handle": f"f{n}.bsky.social"} for n in range(5)]
    rsps.get(
        url,
        json={"subject": {}, "followers": people[:3], "cursor": "next"},
        match=[matchers.query_param_matcher({"actor": HANDLE, "limit": "100"})],
    )
    rsps.get(
        url,
        json={"subject": {}, "followers": people[3:]},
        match=[matchers.query_param_matcher({"actor": HANDLE, "limit": "100", "cursor": "next"})],
    )
    got = make(appview=appview).followers(1000)
    assert [f.id for f in got] == [p["did"] for p in people]
    assert got[0].handle == "@f0.bsky.social"


# --------------------------------------------------------------------------- first comment


def test_first_comment_replies_to_the_post_by_uri_and_cid(rsps: responses.RequestsMock) -> None:
    accept_creates(rsps)
    root = f"at://{DID}/app.bsky.feed.post/3kq5xhuyb2c2p"
    parent = Published(
        root, None, datetime.now(UTC), (root,), extra={"cid": "bafyroot", "rkey": "3kq5xhuyb2c2p"}
    )
    key = f"{KEY}-comment"
    published = make(saved(SESSION["accessJwt"])).publish_comment(post("More below"), parent, key)
    (call,) = creates(rsps)
    ref = {"uri": root, "cid": "bafyroot"}
    assert record_of(call)["reply"] == {"root": ref, "parent": ref}
    assert "embed" not in record_of(call)  # media stay on the post
    assert json.loads(call.request.body)["rkey"] == rkey_for(key)  # keyed: a resend lands on it
    assert published.remote_id == f"at://{DID}/app.bsky.feed.post/{rkey_for(key)}"
