"""Edge cases of the X connector: counting, OAuth, duplicates, limits, media, threads, metrics."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from requests_oauthlib import OAuth1
from responses import matchers
from ruamel.yaml import YAML

from connectors.base import (
    AuthError,
    MediaItem,
    MemoryState,
    Poll,
    Published,
    RateLimited,
    Rejected,
    RenderedPost,
    Unknown,
)
from connectors.x import XConnector
from connectors.x_text import find_x_urls, weighted_length
from crosspost.rendering.text import split_text, thread_parts
from tests.contract.harness import FIXTURES, fixture

API = "https://api.x.com"
TOKEN_URL = f"{API}/2/oauth2/token"
TWEETS = f"{API}/2/tweets"
TOKEN = fixture("x", "token")
OAUTH2 = {"client_id": "cid", "refresh_token": "first-refresh-token"}
OAUTH1 = {"api_key": "ck", "api_secret": "cs", "access_token": "at", "access_token_secret": "ats"}


def _conformance() -> list[tuple[str, str, int, int]]:
    loaded = YAML(typ="safe").load((FIXTURES / "x" / "validate_weighted.yaml").read_text("utf-8"))
    return [
        (
            case["description"],
            case["text"],
            case["expected"]["weightedLength"],
            case["expected"]["displayRangeEnd"],
        )
        for cases in loaded["tests"].values()
        for case in cases
    ]


CONFORMANCE = _conformance()


def make(config: dict[str, str] | None = None, state: MemoryState | None = None) -> XConnector:
    return XConnector("team", XConnector.Settings(**(config or OAUTH2)), state)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def fresh_state(**extra: Any) -> MemoryState:
    """State holding a valid access token, as after an earlier refresh."""
    connector = make()
    seed = connector._seed()
    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    return MemoryState(
        {
            "access_token": "saved-access",
            "refresh_token": "saved-refresh",
            "expires_at": expires,
            "seed": seed,
            **extra,
        }
    )


def bearer(token: str) -> Any:
    return matchers.header_matcher({"Authorization": f"Bearer {token}"})


# --------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("description", "text", "weight", "end"), CONFORMANCE, ids=[c[0][:50] for c in CONFORMANCE]
)
def test_conformance_weighted_length(description: str, text: str, weight: int, end: int) -> None:
    # The UTF-16 length guards against a transcription slip in the fixture.
    assert len(text.encode("utf-16-le")) // 2 == end + 1
    assert make().measure(text) == weight


def test_conformance_table_is_complete() -> None:
    assert len(CONFORMANCE) == 26  # 3 v2-only + 21 v3 + 2 directional


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("hello", 5),
        ("日本語", 6),  # CJK weighs 2
        ("한국어", 6),  # Hangul syllables weigh 2 in v3
        ("café", 4),
        ("cafe\u0301", 4),  # NFC first: e + combining acute is one code point
        ("👍", 2),
        ("👍🏽", 2),  # skin tone modifier stays in the cluster
        ("🏳️‍🌈", 2),
        ("🇫🇷", 2),
        ("1️⃣", 2),
        ("©", 1),  # text-style symbol below U+2000
        ("©️", 2),  # with VS16 it is an emoji
        ("🐦‍🔥", 2),  # Unicode 15.1 ZWJ sequence
        ("a\r\nb", 4),
        ("see https://example.org/a/very/long/path/that/goes/on/and/on", 27),
        ("see example.com now", 31),
        # twitter-text's implementations disagree on a bare name.cc: the longer reading wins.
        ("see foo.jp now", 31),
        ("see foo.jp/x now", 31),
        ("see t.co now", 31),
        ("end https://example.org/page.", 28),  # trailing full stop is not part of the URL
        ("mail me at someone@example.com", 30),
        ("x" * 280, 280),
    ],
)
def test_weights(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


def test_urls_found_with_positions() -> None:
    text = "a https://x.com/b c example.org"
    assert [text[s:e] for s, e in find_x_urls(text)] == ["https://x.com/b", "example.org"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "b", " ", "日", "😷", "\n", ".", " https://example.org/x "]),
        max_size=400,
    ).map("".join)
)
def test_thread_parts_fit_by_x_count(text: str) -> None:
    for part in thread_parts(text, 280, weighted_length):
        assert weighted_length(part) <= 280


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=700))
def test_split_text_rejoins(text: str) -> None:
    assert "".join(split_text(text, 280, weighted_length)) == text


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("config", "valid"),
    [
        (OAUTH2, True),
        ({**OAUTH2, "client_secret": "shh"}, True),
        (OAUTH1, True),
        ({}, False),
        ({"client_id": "cid"}, False),
        ({"refresh_token": "r"}, False),
        ({**OAUTH2, **OAUTH1}, False),
        ({"api_key": "k", "api_secret": "s"}, False),
        ({**OAUTH1, "client_secret": "shh"}, False),
        ({**OAUTH2, "token": "typo"}, False),
    ],
)
def test_settings_table(config: dict[str, str], valid: bool) -> None:
    if valid:
        XConnector.Settings(**config)
    else:
        with pytest.raises(ValidationError):
            XConnector.Settings(**config)


def test_secrets_hidden_from_repr() -> None:
    settings_repr = repr(XConnector.Settings(**{**OAUTH2, "client_secret": "shh-secret"}))
    assert "first-refresh-token" not in settings_repr and "shh-secret" not in settings_repr


def test_construction_is_offline() -> None:
    with responses.RequestsMock():  # any request would fail here
        make()
        make(OAUTH1)


# --------------------------------------------------------------------------- OAuth


def test_expired_token_is_refreshed_saved_then_used(rsps) -> None:
    state = fresh_state(expires_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json=TOKEN,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": "saved-refresh",
                    "client_id": "cid",
                }
            )
        ],
    )
    rsps.add(
        responses.POST,
        TWEETS,
        json=fixture("x", "create_post"),
        status=201,
        match=[bearer(TOKEN["access_token"])],
    )
    make(state=state).publish(RenderedPost(parts=("hi",)), "k")
    saved = state.load()
    assert saved["access_token"] == TOKEN["access_token"]
    assert saved["refresh_token"] == TOKEN["refresh_token"]


def test_confidential_client_uses_basic_auth(rsps) -> None:
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json=TOKEN,
        match=[matchers.header_matcher({"Authorization": "Basic Y2lkOnNoaA=="})],
    )
    rsps.add(responses.GET, f"{API}/2/users/me", json=fixture("x", "users_me_metrics"))
    make({**OAUTH2, "client_secret": "shh"}).account_metrics()


def test_401_refreshes_once_and_retries(rsps) -> None:
    state = fresh_state()
    rsps.add(
        responses.POST,
        TWEETS,
        json=fixture("x", "error_401"),
        status=401,
        match=[bearer("saved-access")],
    )
    rsps.add(responses.POST, TOKEN_URL, json=TOKEN)
    rsps.add(
        responses.POST,
        TWEETS,
        json=fixture("x", "create_post"),
        status=201,
        match=[bearer(TOKEN["access_token"])],
    )
    published = make(state=state).publish(RenderedPost(parts=("hi",)), "k")
    assert published.remote_id == "1445880548472328192"
    assert len([c for c in rsps.calls if c.request.url == TOKEN_URL]) == 1


def test_failed_refresh_asks_to_reauthorise(rsps) -> None:
    rsps.add(responses.POST, TOKEN_URL, json=fixture("x", "token_invalid_grant"), status=400)
    with pytest.raises(AuthError) as caught:
        make().publish(RenderedPost(parts=("hi",)), "k")
    message = str(caught.value)
    assert "'team'" in message and "offline.access" in message
    assert "first-refresh-token" not in message


def test_new_refresh_token_in_settings_wins_over_dead_state(rsps) -> None:
    state = fresh_state()
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json=TOKEN,
        match=[
            matchers.urlencoded_params_matcher(
                {"grant_type": "refresh_token", "refresh_token": "reauthorised", "client_id": "cid"}
            )
        ],
    )
    rsps.add(responses.GET, f"{API}/2/users/me", json=fixture("x", "users_me_metrics"))
    make({**OAUTH2, "refresh_token": "reauthorised"}, state).account_metrics()


def test_oauth1_requests_are_signed(rsps) -> None:
    rsps.add(responses.POST, TWEETS, json=fixture("x", "create_post"), status=201)
    connector = make(OAUTH1)
    assert isinstance(connector.http.session.auth, OAuth1)
    connector.publish(RenderedPost(parts=("hi",)), "k")
    header = rsps.calls[0].request.headers["Authorization"]
    header = header.decode() if isinstance(header, bytes) else header
    assert header.startswith("OAuth ") and 'oauth_consumer_key="ck"' in header
    assert "oauth_signature=" in header and 'oauth_token="at"' in header


# --------------------------------------------------------------------------- errors and limits


def test_duplicate_is_rejected_not_auth(rsps) -> None:
    rsps.add(responses.POST, TWEETS, json=fixture("x", "error_403_duplicate"), status=403)
    with pytest.raises(Rejected) as caught:
        make(OAUTH1).publish(RenderedPost(parts=("hi",)), "k")
    assert "already posted" in str(caught.value)


def test_other_403_is_auth_error(rsps) -> None:
    rsps.add(responses.POST, TWEETS, json=fixture("x", "error_403"), status=403)
    with pytest.raises(AuthError):
        make(OAUTH1).publish(RenderedPost(parts=("hi",)), "k")


def test_429_uses_the_reset_epoch(rsps) -> None:
    reset = int(time.time()) + 600
    rsps.add(
        responses.POST,
        TWEETS,
        json=fixture("x", "error_429"),
        status=429,
        headers={"x-rate-limit-reset": str(reset)},
    )
    with pytest.raises(RateLimited) as caught:
        make(OAUTH1).publish(RenderedPost(parts=("hi",)), "k")
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_24_hour_limit_is_remembered(rsps) -> None:
    state = MemoryState()
    reset = int(time.time()) + 3600
    rsps.add(
        responses.POST,
        TWEETS,
        json=fixture("x", "create_post"),
        status=201,
        headers={"x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": str(reset)},
    )
    connector = make(OAUTH1, state)
    connector.publish(RenderedPost(parts=("first",)), "k1")
    with pytest.raises(RateLimited) as caught:
        connector.publish(RenderedPost(parts=("second",)), "k2")
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert len(rsps.calls) == 1


def test_unreadable_create_answer_is_unknown(rsps) -> None:
    rsps.add(responses.POST, TWEETS, json={"data": {}}, status=201)
    with pytest.raises(Unknown):
        make(OAUTH1).publish(RenderedPost(parts=("hi",)), "k")


# --------------------------------------------------------------------------- payloads


def test_media_upload_alt_text_then_post(rsps, tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG fake")
    media_id = fixture("x", "media_upload")["data"]["id"]
    rsps.add(
        responses.POST,
        f"{API}/2/media/upload",
        json=fixture("x", "media_upload"),
        match=[
            matchers.multipart_matcher(
                {"media": ("cat.png", b"\x89PNG fake", "image/png")},
                data={"media_category": "tweet_image"},
            )
        ],
    )
    rsps.add(
        responses.POST,
        f"{API}/2/media/metadata",
        json=fixture("x", "media_metadata"),
        match=[
            matchers.json_params_matcher(
                {"id": media_id, "metadata": {"alt_text": {"text": "A dancing cat"}}}
            )
        ],
    )
    rsps.add(
        responses.POST,
        TWEETS,
        json=fixture("x", "create_post"),
        status=201,
        match=[matchers.json_params_matcher({"text": "look", "media": {"media_ids": [media_id]}})],
    )
    post = RenderedPost(parts=("look",), media=(MediaItem(image, "A dancing cat", "image/png"),))
    make(state=fresh_state()).publish(post, "k")


def test_poll_payload(rsps) -> None:
    rsps.add(
        responses.POST,
        TWEETS,
        json=fixture("x", "create_post"),
        status=201,
        match=[
            matchers.json_params_matcher(
                {"text": "Which?", "poll": {"options": ["A", "B"], "duration_minutes": 1440}}
            )
        ],
    )
    make(OAUTH1).publish(RenderedPost(parts=("Which?",), poll=Poll(("A", "B"))), "k")


@pytest.mark.parametrize(
    "poll",
    [
        Poll(("A",)),
        Poll(("A", "B"), timedelta(minutes=2)),
        Poll(("A", "B"), timedelta(days=8)),
        Poll(("A", "B"), multiple=True),
        Poll(("A", "B", "C", "D", "E")),
        Poll(("A" * 26, "B")),
    ],
)
def test_bad_polls_are_caught_before_sending(poll: Poll) -> None:
    assert make(OAUTH1).check(RenderedPost(parts=("q",), poll=poll))


def test_thread_chains_by_reply(rsps) -> None:
    ids = ["100", "101", "102"]
    for index, remote_id in enumerate(ids):
        body: dict[str, Any] = {"text": f"part {index}"}
        if index:
            body["reply"] = {"in_reply_to_tweet_id": ids[index - 1]}
        rsps.add(
            responses.POST,
            TWEETS,
            json={"data": {"id": remote_id, "text": body["text"]}},
            status=201,
            match=[matchers.json_params_matcher(body)],
        )
    published = make(OAUTH1).publish(RenderedPost(parts=("part 0", "part 1", "part 2")), "k")
    assert published.remote_id == "100" and published.thread_ids == tuple(ids)


# --------------------------------------------------------------------------- reading back


def test_metrics_are_batched_by_100(rsps) -> None:
    ids = [str(1000 + n) for n in range(150)]
    for batch in (ids[:100], ids[100:]):
        data = [
            {
                "id": i,
                "text": "t",
                "public_metrics": {
                    "like_count": 1,
                    "retweet_count": 2,
                    "reply_count": 3,
                    "quote_count": 4,
                    "bookmark_count": 5,
                    "impression_count": 6,
                },
            }
            for i in batch
        ]
        rsps.add(
            responses.GET,
            TWEETS,
            json={"data": data},
            match=[
                matchers.query_param_matcher(
                    {"ids": ",".join(batch), "tweet.fields": "public_metrics"}
                )
            ],
        )
    got = make(OAUTH1).fetch_metrics(ids)
    assert len(rsps.calls) == 2 and len(got) == 150
    assert got["1149"].views == 6 and got["1000"].reposts == 2 and got["1000"].bookmarks == 5


def test_find_recent_matches_text_without_urls(rsps) -> None:
    rsps.add(responses.GET, f"{API}/2/users/me", json=fixture("x", "users_me"))
    rsps.add(
        responses.GET,
        f"{API}/2/users/2244994945/tweets",
        json=fixture("x", "user_tweets"),
        match=[matchers.query_param_matcher({"max_results": "20", "tweet.fields": "created_at"})],
    )
    found = make(OAUTH1).find_recent("k", "Hello from  crosspost!\nhttps://example.org/launch")
    assert found is not None and found.remote_id == "1445880548472328192"
    assert found.published_at == datetime(2026, 11, 26, 10, 0, 3, tzinfo=UTC)


def test_find_recent_unescapes_and_misses(rsps) -> None:
    rsps.add(responses.GET, f"{API}/2/users/me", json=fixture("x", "users_me"))
    rsps.add(responses.GET, f"{API}/2/users/2244994945/tweets", json=fixture("x", "user_tweets"))
    connector = make(OAUTH1)
    assert connector.find_recent("k", "Meetup tonight & tomorrow, see you there") is not None
    assert connector.find_recent("k", "Something never posted") is None


def test_delete(rsps) -> None:
    rsps.add(responses.DELETE, f"{TWEETS}/100", json=fixture("x", "delete"))
    make(OAUTH1).delete("100")
    assert rsps.calls[0].request.method == "DELETE"


def test_delete_not_done_is_rejected(rsps) -> None:
    rsps.add(responses.DELETE, f"{TWEETS}/100", json={"data": {"deleted": False}})
    with pytest.raises(Rejected):
        make(OAUTH1).delete("100")


# --------------------------------------------------------------------------- first comment


def test_first_comment_is_a_reply_to_the_post(rsps) -> None:
    body = {"text": "Sign up: https://example.org", "reply": {"in_reply_to_tweet_id": "100"}}
    rsps.add(
        responses.POST,
        TWEETS,
        json={"data": {"id": "101", "text": body["text"]}},
        status=201,
        match=[matchers.json_params_matcher(body)],
    )
    parent = Published("100", "https://x.com/i/web/status/100", datetime.now(UTC), ("100",))
    published = make(OAUTH1).publish_comment(
        RenderedPost(parts=("Sign up: https://example.org",)), parent, "k-comment"
    )
    assert (published.remote_id, published.url) == ("101", "https://x.com/i/web/status/101")


def test_first_comment_waits_for_the_daily_limit_like_a_post() -> None:
    until = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    connector = make(OAUTH1, MemoryState({"daily_limit_until": until}))
    parent = Published("100", None, datetime.now(UTC))
    with pytest.raises(RateLimited):
        connector.publish_comment(RenderedPost(parts=("later",)), parent, "k")
