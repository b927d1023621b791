"""Slack connector: what goes where in each Web API call, and how answers map to errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pydantic
import pytest
import requests
import responses
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from responses import matchers

from connectors.base import (
    AuthError,
    MediaItem,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from connectors.slack import SlackConnector, escape
from crosspost.rendering.text import split_text, thread_parts
from tests.contract.harness import fixture

API = "https://slack.com/api"
TOKEN = "test-bot-token"
CHANNEL = "C0123ABCDEF"
TS = "1503435956.000247"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
KEY = "entry-1"


def make(**overrides: Any) -> SlackConnector:
    values: dict[str, Any] = {"bot_token": TOKEN, "channel": CHANNEL, **overrides}
    return SlackConnector("community", SlackConnector.Settings.model_validate(values))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def quiet() -> Iterator[responses.RequestsMock]:
    """A mock with nothing registered: any request at all fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def add_permalink(rsps: responses.RequestsMock, ts: str = TS) -> None:
    rsps.add(
        "GET",
        f"{API}/chat.getPermalink",
        json=fixture("slack", "chat.getPermalink"),
        match=[AUTH, matchers.query_param_matcher({"channel": CHANNEL, "message_ts": ts})],
    )


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# --------------------------------------------------------------------------- settings

VALID_SETTINGS = [
    {"bot_token": TOKEN, "channel": CHANNEL},
    {"bot_token": TOKEN, "channel": "G0123ABCDEF", "unfurl_links": False},
    {"bot_token": TOKEN, "channel": CHANNEL, "username": "Crosspost", "icon_emoji": ":mega:"},
    {"bot_token": TOKEN, "channel": "C01234567", "icon_emoji": ":+1:"},
]
INVALID_SETTINGS = [
    ({"channel": CHANNEL}, "bot_token"),
    ({"bot_token": TOKEN}, "channel"),
    ({"bot_token": "", "channel": CHANNEL}, "bot_token"),
    ({"bot_token": "test bot token", "channel": CHANNEL}, "bot_token"),
    ({"bot_token": TOKEN, "channel": "#general"}, "channel"),
    ({"bot_token": TOKEN, "channel": "c0123abcdef"}, "channel"),
    ({"bot_token": TOKEN, "channel": "C012"}, "channel"),
    ({"bot_token": TOKEN, "channel": CHANNEL, "icon_emoji": "mega"}, "icon_emoji"),
    ({"bot_token": TOKEN, "channel": CHANNEL, "username": ""}, "username"),
    ({"bot_token": TOKEN, "channel": CHANNEL, "unfurl_links": "maybe"}, "unfurl_links"),
    ({"bot_token": TOKEN, "channel": CHANNEL, "token": TOKEN}, "token"),
]


@pytest.mark.parametrize("values", VALID_SETTINGS)
def test_valid_settings(values: dict[str, Any]) -> None:
    parsed = SlackConnector.Settings.model_validate(values)
    assert parsed.channel == values["channel"]
    assert TOKEN not in repr(parsed)


@pytest.mark.parametrize(("values", "field"), INVALID_SETTINGS)
def test_invalid_settings(values: dict[str, Any], field: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        SlackConnector.Settings.model_validate(values)
    assert field in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_building_does_no_network_io(quiet: responses.RequestsMock) -> None:
    connector = make()
    assert connector.check(RenderedPost(parts=("hello",))) == []
    assert len(quiet.calls) == 0
    assert TOKEN not in repr(connector)


# --------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("text", "escaped", "length"),
    [
        ("plain", "plain", 5),
        ("R&D", "R&amp;D", 7),
        ("a < b > c", "a &lt; b &gt; c", 15),
        ("&amp;", "&amp;amp;", 9),
        ("café", "café", 4),
        ("👍🏽", "👍🏽", 2),  # two code points, one grapheme
        ("👨‍👩‍👧", "👨‍👩‍👧", 5),
        ("*bold* _it_", "*bold* _it_", 11),  # mrkdwn is left to the author
    ],
)
def test_escape_and_measure(text: str, escaped: str, length: int) -> None:
    assert escape(text) == escaped
    # texts arrive as mrkdwn, escaped by the renderer: what is measured is what is sent
    assert make().measure(escaped) == length == len(escaped)


def test_limit_is_checked_on_the_escaped_text() -> None:
    connector = make()
    assert connector.check(RenderedPost(parts=("x" * 4000,))) == []
    assert connector.check(RenderedPost(parts=("&amp;" * 800,))) == []
    assert connector.check(RenderedPost(parts=("&amp;" * 801,)))  # 4005 characters


TEXTS = st.lists(
    st.sampled_from(list("ab &<>\n.!é👍") + ["https://example.org/x?a=1&b=2 ", "@team ", "#rsvp "]),
    max_size=200,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, limit=st.integers(min_value=40, max_value=200))
def test_thread_parts_fit_by_slack_count(text: str, limit: int) -> None:
    assume(text.strip())
    connector = make()
    for part in thread_parts(text, limit, connector.measure):
        # Every piece that cannot be cut (URL, mention, hashtag) is shorter than 40.
        assert part.strip()
        assert connector.measure(part) <= limit


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, limit=st.integers(min_value=1, max_value=200))
def test_split_text_rejoins(text: str, limit: int) -> None:
    assert "".join(split_text(text, limit, make().measure)) == text


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=300))
def test_measure_is_additive(text: str) -> None:
    connector = make()
    middle = len(text) // 2
    assert connector.measure(text) == connector.measure(text[:middle]) + connector.measure(
        text[middle:]
    )
    assert connector.measure(text) == len(text)


# --------------------------------------------------------------------------- publishing


def test_publish_sends_the_mrkdwn_text_and_blocks(rsps: responses.RequestsMock) -> None:
    text = "Meetup &amp; talks: bring &lt;your&gt; questions"  # as the renderer escapes it
    body = {
        "channel": CHANNEL,
        "text": "Meetup &amp; talks: bring &lt;your&gt; questions",
        "blocks": [section("Meetup &amp; talks: bring &lt;your&gt; questions")],
        "unfurl_links": False,
        "username": "Crosspost",
        "icon_emoji": ":mega:",
    }
    rsps.add(
        "POST",
        f"{API}/chat.postMessage",
        json=fixture("slack", "chat.postMessage"),
        match=[
            AUTH,
            matchers.header_matcher({"Content-Type": "application/json; charset=utf-8"}),
            matchers.json_params_matcher(body),
        ],
    )
    add_permalink(rsps)
    connector = make(unfurl_links=False, username="Crosspost", icon_emoji=":mega:")
    published = connector.publish(RenderedPost(parts=(text,)), KEY)
    assert published.remote_id == f"{CHANNEL}:{TS}"
    assert published.published_at == datetime.fromtimestamp(float(TS), UTC)
    assert published.thread_ids == (f"{CHANNEL}:{TS}",)


def test_long_part_is_cut_into_section_blocks(rsps: responses.RequestsMock) -> None:
    first, second = "a" * 2000 + ".", "b" * 1500 + "."
    text = f"{first} {second}"
    body = {"channel": CHANNEL, "text": text, "blocks": [section(first), section(second)]}
    rsps.add(
        "POST",
        f"{API}/chat.postMessage",
        json=fixture("slack", "chat.postMessage"),
        match=[matchers.json_params_matcher(body)],
    )
    add_permalink(rsps)
    make().publish(RenderedPost(parts=(text,)), KEY)


def test_unbreakable_piece_over_a_block_is_sent_as_text_only(
    rsps: responses.RequestsMock,
) -> None:
    text = "See https://example.org/" + "x" * 3200
    rsps.add(
        "POST",
        f"{API}/chat.postMessage",
        json=fixture("slack", "chat.postMessage"),
        match=[matchers.json_params_matcher({"channel": CHANNEL, "text": text})],
    )
    add_permalink(rsps)
    make().publish(RenderedPost(parts=(text,)), KEY)


def test_link_missing_from_text_is_added_as_mrkdwn_link(rsps: responses.RequestsMock) -> None:
    link = {"type": "mrkdwn", "text": "<https://example.org/a%7Cb|Q&amp;A night>"}
    body = {
        "channel": CHANNEL,
        "text": "Join us",
        "blocks": [section("Join us"), {"type": "context", "elements": [link]}],
    }
    rsps.add(
        "POST",
        f"{API}/chat.postMessage",
        json=fixture("slack", "chat.postMessage"),
        match=[matchers.json_params_matcher(body)],
    )
    add_permalink(rsps)
    post = RenderedPost(parts=("Join us",), link="https://example.org/a|b", title="Q&A night")
    make().publish(post, KEY)


def test_thread_replies_all_point_at_the_first_message(rsps: responses.RequestsMock) -> None:
    second_ts, third_ts = "1503435957.000300", "1503435958.000400"
    rsps.add(
        "POST",
        f"{API}/chat.postMessage",
        json=fixture("slack", "chat.postMessage"),
        match=[
            matchers.json_params_matcher({"channel": CHANNEL, "text": "one"}, strict_match=False)
        ],
    )
    add_permalink(rsps)
    for text, ts in (("two", second_ts), ("three", third_ts)):
        expected = {"channel": CHANNEL, "text": text, "thread_ts": TS}
        rsps.add(
            "POST",
            f"{API}/chat.postMessage",
            json={**fixture("slack", "chat.postMessage.reply"), "ts": ts},
            match=[matchers.json_params_matcher(expected, strict_match=False)],
        )
        add_permalink(rsps, ts)
    published = make().publish(RenderedPost(parts=("one", "two", "three")), KEY)
    assert published.remote_id == f"{CHANNEL}:{TS}"
    assert published.thread_ids == (
        f"{CHANNEL}:{TS}",
        f"{CHANNEL}:{second_ts}",
        f"{CHANNEL}:{third_ts}",
    )


def test_failed_reply_keeps_what_went_out(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/chat.postMessage", json=fixture("slack", "chat.postMessage"))
    add_permalink(rsps)
    rsps.add("POST", f"{API}/chat.postMessage", json={"ok": False, "error": "is_archived"})
    with pytest.raises(Rejected) as caught:
        make().publish(RenderedPost(parts=("one", "two")), KEY)
    assert caught.value.partial is not None
    assert caught.value.partial.thread_ids == (f"{CHANNEL}:{TS}",)


# --------------------------------------------------------------------------- errors

ERROR_TABLE: list[tuple[str, type[Exception]]] = [
    ("invalid_auth", AuthError),
    ("not_authed", AuthError),
    ("token_revoked", AuthError),
    ("token_expired", AuthError),
    ("account_inactive", AuthError),
    ("missing_scope", AuthError),
    ("ratelimited", RateLimited),
    ("channel_not_found", Rejected),
    ("not_in_channel", Rejected),
    ("is_archived", Rejected),
    ("msg_too_long", Rejected),
    ("no_text", Rejected),
    ("invalid_blocks", Rejected),
    ("msg_blocks_too_long", Rejected),
    ("restricted_action", Rejected),
    ("internal_error", Unknown),
    ("fatal_error", Unknown),
    ("service_unavailable", Unknown),
    ("request_timeout", Unknown),
]


@pytest.mark.parametrize(("code", "expected"), ERROR_TABLE)
def test_error_codes_of_a_publish(
    rsps: responses.RequestsMock, code: str, expected: type[Exception]
) -> None:
    rsps.add("POST", f"{API}/chat.postMessage", json={"ok": False, "error": code})
    with pytest.raises(expected) as caught:
        make().publish(RenderedPost(parts=("hello",)), KEY)
    assert code in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_missing_scope_names_the_scope(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/chat.postMessage", json=fixture("slack", "error.missing_scope"))
    with pytest.raises(AuthError, match="chat:write"):
        make().publish(RenderedPost(parts=("hello",)), KEY)


def test_not_in_channel_says_what_to_do(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/chat.postMessage", json={"ok": False, "error": "not_in_channel"})
    with pytest.raises(Rejected, match="invite the app"):
        make().publish(RenderedPost(parts=("hello",)), KEY)


@pytest.mark.parametrize("status", [200, 429])
def test_ratelimited_uses_retry_after(rsps: responses.RequestsMock, status: int) -> None:
    rsps.add(
        "POST",
        f"{API}/chat.postMessage",
        json=fixture("slack", "error.ratelimited"),
        status=status,
        headers={"Retry-After": "42"},
    )
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        make().publish(RenderedPost(parts=("hello",)), KEY)
    assert before + timedelta(seconds=41) <= caught.value.retry_at
    assert caught.value.retry_at <= datetime.now(UTC) + timedelta(seconds=43)


def test_ratelimited_without_header_waits_a_minute(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/chat.postMessage", json=fixture("slack", "error.ratelimited"))
    with pytest.raises(RateLimited) as caught:
        make().publish(RenderedPost(parts=("hello",)), KEY)
    assert caught.value.retry_at >= datetime.now(UTC) + timedelta(seconds=55)


def test_http_500_on_publish_is_unknown(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/chat.postMessage", body="upstream error", status=500)
    with pytest.raises(Unknown):
        make().publish(RenderedPost(parts=("hello",)), KEY)


def test_unreadable_200_on_publish_is_unknown(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/chat.postMessage", body="<html>oops</html>", status=200)
    with pytest.raises(Unknown):
        make().publish(RenderedPost(parts=("hello",)), KEY)


def test_ok_without_ts_is_unknown(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/chat.postMessage", json={"ok": True, "channel": CHANNEL})
    with pytest.raises(Unknown):
        make().publish(RenderedPost(parts=("hello",)), KEY)


def test_internal_error_on_a_read_is_transient(rsps: responses.RequestsMock) -> None:
    rsps.add("GET", f"{API}/conversations.info", json={"ok": False, "error": "internal_error"})
    with pytest.raises(Transient):
        make().account_metrics()


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"ok": False, "error": "message_not_found"}},
        {"json": {"ok": False, "error": "ratelimited"}, "status": 429},
        {"body": "bad gateway", "status": 500},
        {"body": requests.ConnectionError("reset")},
    ],
)
def test_permalink_failure_keeps_the_publish(
    rsps: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    rsps.add("POST", f"{API}/chat.postMessage", json=fixture("slack", "chat.postMessage"))
    rsps.add("GET", f"{API}/chat.getPermalink", **answer)
    published = make().publish(RenderedPost(parts=("hello",)), KEY)
    assert published.remote_id == f"{CHANNEL}:{TS}"
    assert published.url is None


# --------------------------------------------------------------------------- files


@pytest.fixture
def image(tmp_path: Path) -> MediaItem:
    path = tmp_path / "launch.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return MediaItem(path=path, alt="A rocket on a launch pad", mime_type="image/png")


def add_upload(rsps: responses.RequestsMock, alt: str = "A rocket on a launch pad") -> None:
    form = {"filename": "launch.png", "length": "8"}
    if alt:
        form["alt_txt"] = alt
    rsps.add(
        "POST",
        f"{API}/files.getUploadURLExternal",
        json=fixture("slack", "files.getUploadURLExternal"),
        match=[AUTH, matchers.urlencoded_params_matcher(form)],
    )
    rsps.add(
        "POST",
        fixture("slack", "files.getUploadURLExternal")["upload_url"],
        body="OK - 8",
        match=[matchers.header_matcher({"Content-Type": "image/png"})],
    )


def add_complete(rsps: responses.RequestsMock, answer: dict[str, Any] | None = None) -> None:
    body = {
        "files": [{"id": "F0123FILE01", "title": "launch.png"}],
        "channel_id": CHANNEL,
        "initial_comment": "Launch &amp; party",
    }
    rsps.add(
        "POST",
        f"{API}/files.completeUploadExternal",
        json=answer or fixture("slack", "files.completeUploadExternal"),
        match=[AUTH, matchers.json_params_matcher(body)],
    )


def test_upload_flow_with_alt_text(rsps: responses.RequestsMock, image: MediaItem) -> None:
    add_upload(rsps)
    add_complete(rsps)
    rsps.add(
        "GET",
        f"{API}/files.info",
        json=fixture("slack", "files.info"),
        match=[matchers.query_param_matcher({"file": "F0123FILE01"})],
    )
    add_permalink(rsps, "1503435958.000500")
    published = make().publish(RenderedPost(parts=("Launch &amp; party",), media=(image,)), KEY)
    assert published.remote_id == f"{CHANNEL}:1503435958.000500"
    assert published.url == fixture("slack", "chat.getPermalink")["permalink"]
    upload = rsps.calls[1].request
    assert upload.body == image.path.read_bytes()


def test_upload_uses_shares_from_the_complete_answer(
    rsps: responses.RequestsMock, image: MediaItem
) -> None:
    shared = fixture("slack", "files.info")["file"]
    add_upload(rsps)
    add_complete(rsps, {"ok": True, "files": [shared]})
    add_permalink(rsps, "1503435958.000500")
    published = make().publish(RenderedPost(parts=("Launch &amp; party",), media=(image,)), KEY)
    assert published.extra["ts"] == "1503435958.000500"


def test_upload_without_share_yet_records_the_file(
    rsps: responses.RequestsMock, image: MediaItem
) -> None:
    add_upload(rsps)
    add_complete(rsps)
    rsps.add("GET", f"{API}/files.info", json=fixture("slack", "files.info.unshared"))
    published = make().publish(RenderedPost(parts=("Launch &amp; party",), media=(image,)), KEY)
    assert published.remote_id == f"{CHANNEL}:file:F0123FILE01"
    assert published.extra == {"channel": CHANNEL, "file_id": "F0123FILE01"}


def test_thread_after_unshared_upload_stops_with_partial(
    rsps: responses.RequestsMock, image: MediaItem
) -> None:
    add_upload(rsps)
    add_complete(rsps)
    rsps.add("GET", f"{API}/files.info", json={"ok": False, "error": "missing_scope"})
    post = RenderedPost(parts=("Launch &amp; party", "more"), media=(image,))
    with pytest.raises(Rejected, match="1 remaining part") as caught:
        make().publish(post, KEY)
    assert caught.value.partial is not None
    assert caught.value.partial.remote_id == f"{CHANNEL}:file:F0123FILE01"


def test_upload_url_outside_slack_is_refused(
    rsps: responses.RequestsMock, image: MediaItem
) -> None:
    rsps.add(
        "POST",
        f"{API}/files.getUploadURLExternal",
        json={"ok": True, "upload_url": "https://evil.example/upload", "file_id": "F1"},
    )
    with pytest.raises(Transient, match="outside slack.com"):
        make().publish(RenderedPost(parts=("hi",), media=(image,)), KEY)


def test_timeout_before_sharing_is_transient(
    rsps: responses.RequestsMock, image: MediaItem
) -> None:
    rsps.add(
        "POST", f"{API}/files.getUploadURLExternal", body=requests.ReadTimeout("read timed out")
    )
    with pytest.raises(Transient):
        make().publish(RenderedPost(parts=("hi",), media=(image,)), KEY)


def test_timeout_while_sharing_is_unknown(rsps: responses.RequestsMock, image: MediaItem) -> None:
    add_upload(rsps)
    rsps.add(
        "POST", f"{API}/files.completeUploadExternal", body=requests.ReadTimeout("read timed out")
    )
    with pytest.raises(Unknown):
        make().publish(RenderedPost(parts=("Launch &amp; party",), media=(image,)), KEY)


def test_rejected_file_type(rsps: responses.RequestsMock, image: MediaItem) -> None:
    rsps.add(
        "POST",
        f"{API}/files.getUploadURLExternal",
        json={"ok": False, "error": "file_type_not_allowed"},
    )
    with pytest.raises(Rejected, match="file_type_not_allowed"):
        make().publish(RenderedPost(parts=("hi",), media=(image,)), KEY)


# --------------------------------------------------------------------------- reading back


def test_metrics_sum_reactions(rsps: responses.RequestsMock) -> None:
    quiet = f"{CHANNEL}:1503435999.000100"
    rsps.add(
        "GET",
        f"{API}/reactions.get",
        json=fixture("slack", "reactions.get"),
        match=[
            AUTH,
            matchers.query_param_matcher({"channel": CHANNEL, "timestamp": TS, "full": "true"}),
        ],
    )
    rsps.add("GET", f"{API}/reactions.get", json=fixture("slack", "reactions.get.none"))
    rsps.add("GET", f"{API}/reactions.get", json={"ok": False, "error": "message_not_found"})
    ids = [f"{CHANNEL}:{TS}", quiet, f"{CHANNEL}:1400000000.000001", f"{CHANNEL}:file:F1"]
    got = make().fetch_metrics(ids)
    assert set(got) == {f"{CHANNEL}:{TS}", quiet}
    assert (got[f"{CHANNEL}:{TS}"].likes, got[f"{CHANNEL}:{TS}"].replies) == (4, 2)
    assert got[f"{CHANNEL}:{TS}"].raw["reactions"] == {"tada": 3, "heart": 1}
    assert (got[quiet].likes, got[quiet].replies) == (0, None)


def test_metrics_auth_failure_is_raised(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{API}/reactions.get",
        json={"ok": False, "error": "missing_scope", "needed": "reactions:read"},
    )
    with pytest.raises(AuthError, match="reactions:read"):
        make().fetch_metrics([f"{CHANNEL}:{TS}"])


def test_account_metrics_reads_num_members(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{API}/conversations.info",
        json=fixture("slack", "conversations.info"),
        match=[
            AUTH,
            matchers.query_param_matcher({"channel": CHANNEL, "include_num_members": "true"}),
        ],
    )
    got = make().account_metrics()
    assert got.members == 1287
    assert got.followers is None


def test_delete_message(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        f"{API}/chat.delete",
        json=fixture("slack", "chat.delete"),
        match=[AUTH, matchers.json_params_matcher({"channel": CHANNEL, "ts": TS})],
    )
    make().delete(f"{CHANNEL}:{TS}")


def test_delete_unshared_file(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        f"{API}/files.delete",
        json={"ok": True},
        match=[matchers.json_params_matcher({"file": "F0123FILE01"})],
    )
    make().delete(f"{CHANNEL}:file:F0123FILE01")


def test_delete_of_a_gone_message_is_done(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/chat.delete", json={"ok": False, "error": "message_not_found"})
    make().delete(f"{CHANNEL}:{TS}")


@pytest.mark.parametrize(
    ("code", "expected"), [("cant_delete_message", Rejected), ("token_revoked", AuthError)]
)
def test_delete_errors(rsps: responses.RequestsMock, code: str, expected: type[Exception]) -> None:
    rsps.add("POST", f"{API}/chat.delete", json={"ok": False, "error": code})
    with pytest.raises(expected):
        make().delete(f"{CHANNEL}:{TS}")


@pytest.mark.parametrize("remote_id", ["", "C0123ABCDEF", ":123.4", "C0123ABCDEF:"])
def test_malformed_ids_are_rejected(remote_id: str) -> None:
    with pytest.raises(Rejected):
        make().delete(remote_id)


def test_find_recent_matches_the_escaped_text(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{API}/conversations.history",
        json=fixture("slack", "conversations.history"),
        match=[AUTH, matchers.query_param_matcher({"channel": CHANNEL, "limit": "50"})],
    )
    add_permalink(rsps)
    found = make().find_recent(KEY, "Meetup & talks: bring <your> questions")
    assert found is not None
    assert found.remote_id == f"{CHANNEL}:{TS}"
    assert found.url == fixture("slack", "chat.getPermalink")["permalink"]


def test_find_recent_without_match(rsps: responses.RequestsMock) -> None:
    rsps.add("GET", f"{API}/conversations.history", json=fixture("slack", "conversations.history"))
    assert make().find_recent(KEY, "Never posted") is None


def test_find_recent_needs_history_scope(rsps: responses.RequestsMock) -> None:
    answer = {"ok": False, "error": "missing_scope", "needed": "channels:history"}
    rsps.add("GET", f"{API}/conversations.history", json=answer)
    with pytest.raises(AuthError, match="channels:history"):
        make().find_recent(KEY, "hello")


def test_fixtures_are_json() -> None:
    folder = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
    for path in folder.glob("*.json"):
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict), path.name


def test_section_cut_never_falls_inside_a_link(rsps: responses.RequestsMock) -> None:
    # the link's text has spaces: a cut at one of them would leave "<url|Read" in one
    # block and "the notes>" in the next, both shown as broken markup
    link = "<https://example.org/notes|Read the notes from the meetup>"
    first = "a" * 2960 + " see"
    text = f"{first} {link} " + "b" * 100
    rsps.add(
        "POST",
        f"{API}/chat.postMessage",
        json=fixture("slack", "chat.postMessage"),
        match=[
            matchers.json_params_matcher(
                {
                    "channel": CHANNEL,
                    "text": text,
                    "blocks": [section(first), section(f"{link} " + "b" * 100)],
                }
            )
        ],
    )
    add_permalink(rsps)
    make().publish(RenderedPost(parts=(text,)), KEY)
