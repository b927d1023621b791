"""Mastodon connector: counting, request shapes, media processing, threads, reading back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pydantic
import pytest
import requests
import responses
from hypothesis import given, settings
from hypothesis import strategies as st
from responses import matchers

from connectors.base import (
    AuthError,
    MediaItem,
    Poll,
    Published,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from connectors.mastodon import MastodonConnector, countable_text, status_length
from crosspost.rendering.text import split_text, thread_parts
from tests.contract.harness import fixture

HOST = "https://social.example"
TOKEN = "mastodon-test-token-5f2c9a"
KEY = "crosspost-entry-2026-11-26T10:00-test"
STATUSES = f"{HOST}/api/v1/statuses"


def payload(name: str) -> Any:
    return fixture("mastodon", name)


def make(**overrides: Any) -> tuple[MastodonConnector, list[float]]:
    """A connector whose media waits are recorded instead of slept."""
    slept: list[float] = []
    values = {"instance": HOST, "access_token": TOKEN, **overrides}
    connector = MastodonConnector(
        "test",
        MastodonConnector.Settings.model_validate(values),
        sleep=slept.append,
        poll_attempts=3,
        poll_interval=1.5,
    )
    return connector, slept


def form(expected: list[tuple[str, str]]) -> Any:
    """Match a form-encoded body field by field, repeated keys included."""

    def match(request: requests.PreparedRequest) -> tuple[bool, str]:
        body = request.body or ""
        text = body.decode() if isinstance(body, bytes) else str(body)
        got = sorted(parse_qsl(text, keep_blank_values=True))
        return got == sorted(expected), f"form {got} != {sorted(expected)}"

    return match


def key_is(key: str) -> Any:
    return matchers.header_matcher({"Idempotency-Key": key, "Authorization": f"Bearer {TOKEN}"})


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def instance(rsps: responses.RequestsMock, **statuses: int) -> None:
    body = payload("instance")
    body["configuration"]["statuses"].update(statuses)
    rsps.get(f"{HOST}/api/v2/instance", json=body)


# --------------------------------------------------------------------------- counting

COUNTING = [
    ("plain", "hello", "", 5),
    ("long URL counts 23", "see https://example.org/a/very/long/path/that/goes/on", "", 27),
    ("http URL counts 23 too", "http://x.example.org", "", 23),
    ("two URLs", "two https://a.example.org/x https://b.example.org/y", "", 51),
    # twitter-text needs a delegated TLD; the reserved .example is none.
    ("reserved TLD is text", "http://x.example", "", 16),
    ("no scheme is plain text", "www.example.org", "", 15),
    ("remote mention counts as @user", "hi @ada@other.example!", "", 8),
    ("local mention", "@ada", "", 4),
    ("e-mail address is not a mention", "mail x@y.example", "", 16),
    ("mention inside a URL", "https://example.org/@ada@other.example", "", 23),
    (
        "emoji ZWJ sequence is one",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
        "",
        1,
    ),
    ("flag is one", "\U0001f1e9\U0001f1ea", "", 1),
    ("combining marks join their base", "e\u0301e\u0301e\u0301", "", 3),
    ("content warning counts", "spoiler inside", "CW: food", 22),
    ("CW with URL in text", "https://example.org/x", "cw", 25),
    ("blank text counts nothing", "   ", "x", 1),
]


@pytest.mark.parametrize(
    ("text", "warning", "expected"),
    [case[1:] for case in COUNTING],
    ids=[case[0] for case in COUNTING],
)
def test_status_length(text: str, warning: str, expected: int) -> None:
    assert status_length(text, warning) == expected


def test_measure_is_the_text_part() -> None:
    connector, _ = make()
    assert connector.measure("hi @ada@other.example https://example.org/x") == 3 + 4 + 1 + 23
    assert countable_text("@ada@other.example") == "@ada"


def test_check_counts_the_content_warning() -> None:
    connector, _ = make()
    text = "a" * 490
    assert connector.check(RenderedPost(parts=(text,))) == []
    problems = connector.check(RenderedPost(parts=(text,), content_warning="Spoilers for s02e03"))
    assert problems == [
        "text with its content warning is 509 characters long (at most 500 on mastodon)"
    ]


def test_offline_limit_comes_from_settings() -> None:
    with responses.RequestsMock() as mock:  # any request would fail: nothing is registered
        connector, _ = make(max_characters=1000)
        assert connector.effective_limits.max_length == 1000
        assert connector.check(RenderedPost(parts=("a" * 900,))) == []
        assert len(mock.calls) == 0


def test_limits_come_from_the_instance(rsps: responses.RequestsMock) -> None:
    instance(rsps, max_characters=1000, characters_reserved_per_url=30)
    rsps.post(STATUSES, json=payload("status"))
    connector, _ = make(max_characters=200)
    text = "b" * 960 + " https://example.org/" + "z" * 100
    connector.publish(RenderedPost(parts=(text,)), KEY)
    assert connector.effective_limits.max_length == 1000
    assert connector.measure("https://example.org/") == 30
    assert connector.effective_limits.alt_text_max == 1500
    assert "video/mp4" in connector.effective_limits.media_types


def test_instance_is_read_once(rsps: responses.RequestsMock) -> None:
    instance(rsps)
    rsps.post(STATUSES, json=payload("status"))
    connector, _ = make()
    connector.publish(RenderedPost(parts=("one",)), KEY)
    connector.publish(RenderedPost(parts=("two",)), KEY + "-b")
    assert sum(1 for c in rsps.calls if c.request.url.endswith("/api/v2/instance")) == 1


def test_reported_limits_are_built_once_per_answer(rsps: responses.RequestsMock) -> None:
    instance(rsps, max_characters=1000)
    rsps.post(STATUSES, json=payload("status"))
    connector, _ = make()
    assert connector.reported_limits() is None  # nothing asked yet
    connector.publish(RenderedPost(parts=("one",)), KEY)
    reported = connector.reported_limits()
    assert reported is not None and reported["max_characters"] == 1000
    assert connector.reported_limits() is reported  # asked after every post
    assert connector.instance is not None
    connector.instance = connector.instance.model_copy(update={"max_characters": 600})
    assert connector.reported_limits() == {**reported, "max_characters": 600}


def test_unreadable_instance_is_transient(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{HOST}/api/v2/instance", json={"domain": "social.example"})
    connector, _ = make()
    with pytest.raises(Transient):
        connector.publish(RenderedPost(parts=("hello",)), KEY)


# --------------------------------------------------------------------------- publishing


def test_fields_go_where_mastodon_reads_them(rsps: responses.RequestsMock) -> None:
    instance(rsps)
    rsps.post(
        STATUSES,
        json=payload("status"),
        match=[
            key_is(KEY),
            form(
                [
                    ("status", "Dinner at the club"),
                    ("spoiler_text", "food"),
                    ("visibility", "unlisted"),
                    ("language", "de"),
                ]
            ),
        ],
    )
    connector, _ = make(visibility="private", language="en")
    post = RenderedPost(
        parts=("Dinner at the club",),
        content_warning="food",
        language="de",
        options={"visibility": "unlisted"},
    )
    published = connector.publish(post, KEY)
    assert published.remote_id == "113498765432100001"
    assert published.extra["uri"] == f"{HOST}/users/rivertown/statuses/113498765432100001"
    assert published.published_at.isoformat() == "2026-11-26T10:00:01.482000+00:00"


def test_settings_defaults_fill_visibility_and_language(rsps: responses.RequestsMock) -> None:
    instance(rsps)
    rsps.post(
        STATUSES,
        json=payload("status"),
        match=[form([("status", "hi"), ("visibility", "private"), ("language", "en")])],
    )
    connector, _ = make(visibility="private", language="en")
    connector.publish(RenderedPost(parts=("hi",)), KEY)


def test_unknown_visibility_option_is_rejected(rsps: responses.RequestsMock) -> None:
    instance(rsps)
    connector, _ = make()
    with pytest.raises(Rejected, match="visibility 'followers'"):
        connector.publish(RenderedPost(parts=("hi",), options={"visibility": "followers"}), KEY)


def test_poll_fields(rsps: responses.RequestsMock) -> None:
    instance(rsps)
    rsps.post(
        STATUSES,
        json=payload("status"),
        match=[
            form(
                [
                    ("status", "Which night?"),
                    ("poll[options][]", "Tuesday"),
                    ("poll[options][]", "Thursday"),
                    ("poll[options][]", "Saturday"),
                    ("poll[expires_in]", "3600"),
                    ("poll[multiple]", "true"),
                ]
            )
        ],
    )
    poll = Poll(("Tuesday", "Thursday", "Saturday"), timedelta(hours=1), multiple=True)
    make()[0].publish(RenderedPost(parts=("Which night?",), poll=poll), KEY)


def test_poll_limits_are_checked() -> None:
    connector, _ = make()
    poll = Poll(tuple("abcde"), timedelta(minutes=1))
    problems = connector.check(RenderedPost(parts=("q",), poll=poll))
    assert "poll has 5 options (at most 4)" in problems
    assert any("poll lasts 60 s" in p for p in problems)


def test_thread_chains_replies_with_their_own_keys(rsps: responses.RequestsMock) -> None:
    instance(rsps)
    rsps.post(STATUSES, json=payload("status"), match=[key_is(KEY), form([("status", "one")])])
    rsps.post(
        STATUSES,
        json=payload("status_reply"),
        match=[
            key_is(f"{KEY}-1"),
            form([("status", "two"), ("in_reply_to_id", "113498765432100001")]),
        ],
    )
    published = make()[0].publish(RenderedPost(parts=("one", "two")), KEY)
    assert published.remote_id == "113498765432100001"
    assert published.thread_ids == ("113498765432100001", "113498765432100002")


@pytest.mark.parametrize(("status", "error"), [(500, Transient), (422, Rejected)])
def test_partial_thread_failure_keeps_what_went_out(
    rsps: responses.RequestsMock, status: int, error: type[Exception]
) -> None:
    instance(rsps)
    rsps.post(STATUSES, json=payload("status"), match=[key_is(KEY)])
    rsps.post(STATUSES, json=payload("error_validation"), status=status, match=[key_is(f"{KEY}-1")])
    with pytest.raises(error) as caught:
        make()[0].publish(RenderedPost(parts=("one", "two", "three")), KEY)
    partial = caught.value.partial  # type: ignore[attr-defined]
    assert partial.remote_id == "113498765432100001"
    assert partial.thread_ids == ("113498765432100001",)


def test_answer_without_id_is_unknown(rsps: responses.RequestsMock) -> None:
    instance(rsps)
    rsps.post(STATUSES, json={"created_at": "2026-11-26T10:00:01.482Z"})
    with pytest.raises(Unknown):
        make()[0].publish(RenderedPost(parts=("hi",)), KEY)


# --------------------------------------------------------------------------- media


@pytest.fixture
def picture(tmp_path: Path) -> MediaItem:
    path = tmp_path / "sign.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    return MediaItem(path, alt="A laser cutter engraving a wooden sign", mime_type="image/png")


def upload_matches(item: MediaItem) -> Any:
    return matchers.multipart_matcher(
        {"file": (item.path.name, item.path.read_bytes(), item.mime_type)},
        data={"description": item.alt},
    )


def test_media_ready_at_once(rsps: responses.RequestsMock, picture: MediaItem) -> None:
    instance(rsps)
    rsps.post(f"{HOST}/api/v2/media", json=payload("media_image"), match=[upload_matches(picture)])
    rsps.post(
        STATUSES,
        json=payload("status"),
        match=[form([("status", "New sign!"), ("media_ids[]", "113498765400000011")])],
    )
    connector, slept = make()
    connector.publish(RenderedPost(parts=("New sign!",), media=(picture,)), KEY)
    assert slept == []


def test_media_processing_is_waited_for(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    clip = tmp_path / "printer.mp4"
    clip.write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 64)
    item = MediaItem(clip, alt="Time-lapse of the 3D printer", mime_type="video/mp4")
    instance(rsps)
    rsps.post(
        f"{HOST}/api/v2/media",
        json=payload("media_processing"),
        status=202,
        match=[upload_matches(item)],
    )
    media = f"{HOST}/api/v1/media/113498765400000022"
    rsps.get(media, json=payload("media_processing"), status=206)
    rsps.get(media, json=payload("media_ready"))
    rsps.post(
        STATUSES,
        json=payload("status"),
        match=[form([("status", "Watch"), ("media_ids[]", "113498765400000022")])],
    )
    connector, slept = make()
    connector.publish(RenderedPost(parts=("Watch",), media=(item,)), KEY)
    assert slept == [1.5, 1.5]


def test_media_still_processing_is_transient(
    rsps: responses.RequestsMock, picture: MediaItem
) -> None:
    instance(rsps)
    rsps.post(f"{HOST}/api/v2/media", json=payload("media_processing"), status=202)
    rsps.get(
        f"{HOST}/api/v1/media/113498765400000022", json=payload("media_processing"), status=206
    )
    connector, slept = make()
    with pytest.raises(Transient, match="still processing"):
        connector.publish(RenderedPost(parts=("x",), media=(picture,)), KEY)
    assert len(slept) == 3
    assert not any(c.request.url == STATUSES for c in rsps.calls)


def test_unconfirmed_upload_is_transient(rsps: responses.RequestsMock, picture: MediaItem) -> None:
    instance(rsps)
    rsps.post(f"{HOST}/api/v2/media", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(Transient, match="read timeout"):
        make()[0].publish(RenderedPost(parts=("x",), media=(picture,)), KEY)


def test_poll_and_media_together_are_refused(picture: MediaItem) -> None:
    post = RenderedPost(parts=("x",), media=(picture,), poll=Poll(("a", "b")))
    assert "a Mastodon status cannot carry both a poll and media" in make()[0].check(post)


# --------------------------------------------------------------------------- reading back


def test_metrics_skip_missing_and_quotes_may_be_absent(rsps: responses.RequestsMock) -> None:
    old = payload("status_counts")
    del old["quotes_count"]
    rsps.get(f"{HOST}/api/v1/statuses/1", json=old)
    rsps.get(f"{HOST}/api/v1/statuses/2", json=payload("error_not_found"), status=404)
    got = make()[0].fetch_metrics(["1", "2"])
    assert list(got) == ["1"]
    assert (got["1"].likes, got["1"].reposts, got["1"].replies) == (52, 17, 4)
    assert got["1"].quotes is None
    assert got["1"].views is None


def test_metrics_of_many_statuses_come_back_in_order(rsps: responses.RequestsMock) -> None:
    ids = [str(n) for n in range(1, 13)]
    for remote_id in ids:
        body = {**payload("status_counts"), "id": remote_id, "favourites_count": int(remote_id)}
        rsps.get(f"{HOST}/api/v1/statuses/{remote_id}", json=body)
    got = make()[0].fetch_metrics([*ids, "3"])  # a repeated id is asked once
    assert list(got) == ids
    assert [m.likes for m in got.values()] == list(range(1, 13))


def test_a_rate_limit_while_collecting_ends_the_round(rsps: responses.RequestsMock) -> None:
    rsps.assert_all_requests_are_fired = False
    rsps.get(f"{HOST}/api/v1/statuses/1", json=payload("status_counts"))
    rsps.get(
        f"{HOST}/api/v1/statuses/2",
        json={"error": "Too many requests"},
        status=429,
        headers={"X-RateLimit-Reset": "2030-01-01T00:00:00.000Z"},
    )
    with pytest.raises(RateLimited) as caught:
        make()[0].fetch_metrics(["1", "2"])
    assert caught.value.retry_at.year == 2030


def test_account_metrics(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{HOST}/api/v1/accounts/verify_credentials",
        json=payload("account"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
    )
    got = make()[0].account_metrics()
    assert (got.followers, got.following, got.posts) == (1287, 164, 942)


def test_delete(rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{STATUSES}/113498765432100001", json=payload("status"))
    rsps.delete(f"{STATUSES}/113498765432100009", json=payload("error_not_found"), status=404)
    connector, _ = make()
    connector.delete("113498765432100001")
    connector.delete("113498765432100009")  # already gone: nothing left to do
    assert [c.request.method for c in rsps.calls] == ["DELETE", "DELETE"]


def test_delete_with_revoked_token(rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{STATUSES}/1", json=payload("error_unauthorized"), status=401)
    with pytest.raises(AuthError):
        make()[0].delete("1")


def recent(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{HOST}/api/v1/accounts/verify_credentials", json=payload("account"))
    rsps.get(
        f"{HOST}/api/v1/accounts/110532198417503211/statuses",
        json=payload("account_statuses"),
        match=[matchers.query_param_matcher({"limit": "40"})],
    )


def test_find_recent_matches_the_shown_text(rsps: responses.RequestsMock) -> None:
    recent(rsps)
    text = "Thanks @ada@other.example for the soldering class!\n\nNext one in  #december."
    found = make()[0].find_recent(KEY, text)
    assert isinstance(found, Published)
    assert found.remote_id == "113497123400000777"
    assert found.url == f"{HOST}/@rivertown/113497123400000777"


def test_find_recent_unescapes_entities(rsps: responses.RequestsMock) -> None:
    recent(rsps)
    found = make()[0].find_recent(KEY, "Tool library is open & stocked.")
    assert found is not None and found.remote_id == "113496000011112222"


@pytest.mark.parametrize(
    "text",
    ["Something never posted", "Hello from crosspost! https://example.org/launch"],
    ids=["no match", "boosts are not ours"],
)
def test_find_recent_without_match(rsps: responses.RequestsMock, text: str) -> None:
    recent(rsps)
    assert make()[0].find_recent(KEY, text) is None


# --------------------------------------------------------------------------- settings

VALID = [
    ({"instance": HOST, "access_token": TOKEN}, HOST),
    ({"instance": HOST + "/", "access_token": TOKEN}, HOST),
    ({"instance": "https://social.example:8443", "access_token": TOKEN}, HOST + ":8443"),
    ({"instance": HOST, "access_token": TOKEN, "visibility": "direct", "language": "fr"}, HOST),
    ({"instance": HOST, "access_token": TOKEN, "max_characters": 5000}, HOST),
]
INVALID = [
    ({"access_token": TOKEN}, "instance"),
    ({"instance": HOST}, "access_token"),
    ({"instance": "http://social.example", "access_token": TOKEN}, "https"),
    ({"instance": "social.example", "access_token": TOKEN}, "https"),
    ({"instance": HOST + "/api/v1", "access_token": TOKEN}, "without a path"),
    ({"instance": HOST, "access_token": "  "}, "must not be empty"),
    ({"instance": HOST, "access_token": TOKEN, "visibility": "followers"}, "visibility"),
    ({"instance": HOST, "access_token": TOKEN, "language": "eng"}, "language"),
    ({"instance": HOST, "access_token": TOKEN, "language": "EN"}, "language"),
    ({"instance": HOST, "access_token": TOKEN, "max_characters": 0}, "max_characters"),
    ({"instance": HOST, "access_token": TOKEN, "token": TOKEN}, "token"),
]


@pytest.mark.parametrize(("values", "origin"), VALID)
def test_valid_settings(values: dict[str, Any], origin: str) -> None:
    parsed = MastodonConnector.Settings.model_validate(values)
    assert parsed.instance == origin
    assert TOKEN not in repr(parsed)


@pytest.mark.parametrize(("values", "field"), INVALID)
def test_invalid_settings(values: dict[str, Any], field: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        MastodonConnector.Settings.model_validate(values)
    assert field in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_token_is_masked_everywhere() -> None:
    connector, _ = make()
    assert TOKEN not in repr(connector) + repr(connector.settings) + repr(connector.http)
    assert connector.http.redact(f"Bearer {TOKEN}") == "Bearer ***"


# --------------------------------------------------------------------------- properties

WORDS = st.one_of(
    st.sampled_from(
        [
            "https://example.org/a/long/path?q=1",
            "http://x.example",
            "@ada@other.example",
            "@bob",
            "#makers",
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
            "e\u0301t\u00e9",
            "x@y.example",
            "\U0001f1e9\U0001f1ea",
        ]
    ),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöü@./", min_size=1, max_size=12),
)
TEXTS = st.lists(
    st.tuples(WORDS, st.sampled_from([" ", "\n", "\n\n", ". ", "! "])), min_size=1, max_size=80
).map(lambda pairs: "".join(word + gap for word, gap in pairs))


@settings(max_examples=200, deadline=None)
@given(text=TEXTS, limit=st.integers(min_value=40, max_value=200))
def test_thread_parts_fit_by_mastodon_count(text: str, limit: int) -> None:
    connector, _ = make()
    parts = thread_parts(text, limit, connector.measure)
    assert parts
    assert all(connector.measure(part) <= limit for part in parts)


@settings(max_examples=200, deadline=None)
@given(text=TEXTS, limit=st.integers(min_value=40, max_value=200))
def test_split_text_rejoins(text: str, limit: int) -> None:
    connector, _ = make()
    assert "".join(split_text(text, limit, connector.measure)) == text


# --------------------------------------------------------------------------- inbox, followers

NOTIFICATIONS = f"{HOST}/api/v1/notifications"
VERIFY = f"{HOST}/api/v1/accounts/verify_credentials"


def me(rsps: responses.RequestsMock) -> str:
    """Answer ``verify_credentials`` with the fixture account; return its id."""
    rsps.get(VERIFY, json=payload("account"))
    return str(payload("account")["id"])


def mention(
    notification_id: str,
    status_id: str,
    reply_to: str | None = None,
    kind: str = "mention",
    author_id: str = "9001",
) -> dict[str, Any]:
    """A Notification entity (shape of docs.joinmastodon.org/entities/Notification)."""
    author = {"id": author_id, "username": "ada", "acct": "ada@other.example"}
    return {
        "id": notification_id,
        "type": kind,
        "created_at": "2026-08-01T13:51:43.458Z",
        "group_key": f"ungrouped-{notification_id}",
        "account": author,
        "status": {
            "id": status_id,
            "created_at": "2026-08-01T13:51:42.823Z",
            "in_reply_to_id": reply_to,
            "in_reply_to_account_id": "1" if reply_to else None,
            "visibility": "public",
            "uri": f"https://other.example/users/ada/statuses/{status_id}",
            "url": f"https://other.example/@ada/{status_id}",
            "content": '<p><span class="h-card"><a href="#">@<span>us</span></a></span> nice &amp; '
            "useful</p>",
            "account": author,
        },
    }


def test_inbox_reads_mentions_since_the_cursor_across_link_pages(
    rsps: responses.RequestsMock,
) -> None:
    older = f"{NOTIFICATIONS}?max_id=21&types%5B%5D=mention"
    me(rsps)
    rsps.get(
        NOTIFICATIONS,
        json=[mention("23", "111", reply_to="100"), mention("22", "110")],
        headers={"Link": f'<{older}>; rel="next", <{NOTIFICATIONS}?min_id=23>; rel="prev"'},
        match=[
            matchers.query_param_matcher({"types[]": "mention", "limit": "40", "since_id": "20"}),
            matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"}),
        ],
    )
    rsps.get(
        NOTIFICATIONS,
        json=[mention("21", "109")],
        match=[
            matchers.query_param_matcher(
                {"max_id": "21", "types[]": "mention", "limit": "40", "since_id": "20"}
            )
        ],
    )
    connector, _ = make()
    page = connector.fetch_inbox("20")
    assert page.cursor == "23"
    assert [(i.remote_id, i.kind, i.in_reply_to) for i in page.items] == [
        ("111", "reply", "100"),
        ("110", "mention", None),
        ("109", "mention", None),
    ]
    first = page.items[0]
    assert first.author == "@ada@other.example" and first.author_id == "9001"
    assert first.text == "@us nice & useful"
    assert first.url == "https://other.example/@ada/111"


def test_inbox_with_nothing_new_keeps_the_cursor(rsps: responses.RequestsMock) -> None:
    me(rsps)
    rsps.get(NOTIFICATIONS, json=[])
    connector, _ = make()
    page = connector.fetch_inbox("23")
    assert page.items == () and page.cursor == "23"


def test_inbox_does_not_follow_links_to_other_hosts(rsps: responses.RequestsMock) -> None:
    me(rsps)
    rsps.get(
        NOTIFICATIONS,
        json=[mention("5", "50")],
        headers={"Link": '<https://evil.example/api/v1/notifications?max_id=5>; rel="next"'},
    )
    connector, _ = make()
    assert [i.remote_id for i in connector.fetch_inbox(None).items] == ["50"]


def test_followers_follow_link_pages_up_to_the_limit(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{HOST}/api/v1/accounts/verify_credentials", json=payload("account"))
    account_id = payload("account")["id"]
    followers = f"{HOST}/api/v1/accounts/{account_id}/followers"
    rsps.get(
        followers,
        json=[{"id": "1", "acct": "ann"}, {"id": "2", "acct": "bob@far.example"}],
        headers={"Link": f'<{followers}?max_id=2>; rel="next"'},
        match=[matchers.query_param_matcher({"limit": "80"})],
    )
    rsps.get(
        followers,
        json=[{"id": "3", "acct": "cy"}, {"id": "4", "acct": "dee"}],
        headers={"Link": f'<{followers}?max_id=4>; rel="next"'},
        match=[matchers.query_param_matcher({"max_id": "2", "limit": "80"})],
    )
    connector, _ = make()
    got = connector.followers(3)
    assert [(f.id, f.handle) for f in got] == [
        ("1", "@ann"),
        ("2", "@bob@far.example"),
        ("3", "@cy"),
    ]


def test_inbox_auth_error(rsps: responses.RequestsMock) -> None:
    me(rsps)
    rsps.get(NOTIFICATIONS, status=401, json={"error": "The access token is invalid"})
    connector, _ = make()
    with pytest.raises(AuthError):
        connector.fetch_inbox(None)


def test_inbox_keeps_its_filter_on_every_page_and_stores_only_members_mentions(
    rsps: responses.RequestsMock,
) -> None:
    own = me(rsps)
    # Takahē's next link keeps only the cursor; the server then sends every type.
    rsps.get(
        NOTIFICATIONS,
        json=[mention("30", "300")],
        headers={"Link": f'<{NOTIFICATIONS}?max_id=30>; rel="next"'},
        match=[matchers.query_param_matcher({"types[]": "mention", "limit": "40"})],
    )
    rsps.get(
        NOTIFICATIONS,
        json=[
            mention("29", "290", kind="favourite", author_id="9002"),
            mention("28", "280", kind="reblog", author_id="9002"),
            {"id": "27", "type": "follow", "account": {"id": "9003", "acct": "cy"}},
            mention("26", "260", author_id=own),  # the account mentioning itself
            mention("25", "250", reply_to="200"),
        ],
        match=[matchers.query_param_matcher({"types[]": "mention", "limit": "40", "max_id": "30"})],
    )
    connector, _ = make()
    page = connector.fetch_inbox(None)
    assert [(i.remote_id, i.kind, i.author_id) for i in page.items] == [
        ("300", "mention", "9001"),
        ("250", "reply", "9001"),
    ]
    assert page.cursor == "30"


def test_inbox_names_the_missing_scope(rsps: responses.RequestsMock) -> None:
    me(rsps)
    rsps.get(NOTIFICATIONS, status=403, json={"error": "out_of_scope"})
    connector, _ = make()
    with pytest.raises(AuthError, match="read:notifications"):
        connector.fetch_inbox(None)


def test_inbox_works_without_read_accounts(rsps: responses.RequestsMock) -> None:
    rsps.get(VERIFY, status=403, json={"error": "out_of_scope"})
    rsps.get(NOTIFICATIONS, json=[mention("5", "50")])
    connector, _ = make()
    assert [i.remote_id for i in connector.fetch_inbox(None).items] == ["50"]


def test_account_figures_name_the_missing_scope(rsps: responses.RequestsMock) -> None:
    rsps.get(VERIFY, status=403, json={"error": "out_of_scope"})
    connector, _ = make()
    with pytest.raises(AuthError, match="read:accounts") as caught:
        connector.account_metrics()
    assert caught.value.status == 403


# --------------------------------------------------------------------------- first comment


def test_first_comment_is_a_keyed_reply_to_the_post(rsps: responses.RequestsMock) -> None:
    instance(rsps)
    rsps.post(
        STATUSES,
        json=payload("status_reply"),
        match=[
            key_is(f"{KEY}-comment"),
            form(
                [
                    ("status", "Read more: https://example.org"),
                    ("in_reply_to_id", "113498765432100001"),
                ]
            ),
        ],
    )
    parent = Published("113498765432100001", None, datetime(2026, 11, 26, tzinfo=UTC))
    comment = RenderedPost(parts=("Read more: https://example.org",))
    published = make()[0].publish_comment(comment, parent, f"{KEY}-comment")
    assert published.remote_id == "113498765432100002"


def test_a_first_comment_over_the_limit_is_refused_before_sending(
    rsps: responses.RequestsMock,
) -> None:
    instance(rsps, max_characters=20)
    parent = Published("113498765432100001", None, datetime(2026, 11, 26, tzinfo=UTC))
    with pytest.raises(Rejected, match="text is 30 characters long"):
        make()[0].publish_comment(RenderedPost(parts=("x" * 30,)), parent, KEY)


def test_the_countable_text_of_a_status_is_kept_for_the_next_account() -> None:
    before = countable_text.cache_info().hits
    status = f"Read https://example.org/{id(object())} @ann@example.social"
    assert countable_text(status, 23) == countable_text(status, 23)
    assert countable_text.cache_info().hits == before + 1
