"""Edge cases of the Telegram connector beyond the shared contract."""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from responses import matchers

from connectors.base import (
    AuthError,
    Capability,
    ConnectorState,
    InboxPage,
    MediaItem,
    MemoryState,
    Poll,
    RateLimited,
    Reconcilable,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from connectors.records import MemoryRecords
from connectors.telegram import TelegramConnector, escape, message_url
from crosspost.rendering.text import split_text, thread_parts
from tests.contract.harness import fixture

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
API = f"https://api.telegram.org/bot{TOKEN}"
CHANNEL = "-1001234567890"
KEY = "crosspost-entry-2026-11-26T10:00-test"


def tg(name: str) -> Any:
    return fixture("telegram", name)


def make(
    state: ConnectorState | None = None, records: MemoryRecords | None = None, **overrides: Any
) -> TelegramConnector:
    values = {"bot_token": TOKEN, "chat_id": "@crosspostnews", **overrides}
    connector = TelegramConnector("news", TelegramConnector.Settings.model_validate(values), state)
    if records is not None:
        connector.use_records(records)
    return connector


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def photo(tmp_path: Path) -> MediaItem:
    path = tmp_path / "cat.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 cat")
    return MediaItem(path=path, alt="a cat", mime_type="image/jpeg")


def multipart(request: requests.PreparedRequest) -> dict[str, Any]:
    """Field name → text (form fields) or (filename, bytes) (files) of a multipart body."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    body = request.body if isinstance(request.body, bytes) else b""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        filename = part.get_filename()
        fields[str(name)] = (filename, payload) if filename else payload.decode()
    return fields


# --------------------------------------------------------------------------- settings

VALID = [
    ({"chat_id": "@crosspostnews"}, "@crosspostnews"),
    ({"chat_id": "-1001234567890"}, "-1001234567890"),
    ({"chat_id": -1001234567890}, "-1001234567890"),
    ({"chat_id": "123456789", "disable_notification": True, "link_preview": False}, "123456789"),
    ({"chat_id": "@news_room", "api_url": "http://localhost:8081/"}, "@news_room"),
]
INVALID = [
    ({"chat_id": "crosspostnews"}, "chat_id"),
    ({"chat_id": "@abc"}, "chat_id"),
    ({"chat_id": "@1news"}, "chat_id"),
    ({"chat_id": "-100abc"}, "chat_id"),
    ({"chat_id": True}, "chat_id"),
    ({"chat_id": "@crosspostnews", "bot_token": "not-a-token"}, "bot_token"),
    ({"chat_id": "@crosspostnews", "bot_token": None}, "bot_token"),
    ({"chat_id": "@crosspostnews", "api_url": "ftp://example.org"}, "api_url"),
    ({"chat_id": "@crosspostnews", "parse_mode": "MarkdownV2"}, "parse_mode"),
    ({"chat_id": "@crosspostnews", "link_preview": "sometimes"}, "link_preview"),
]


@pytest.mark.parametrize(("values", "chat_id"), VALID)
def test_valid_settings(values: dict[str, Any], chat_id: str) -> None:
    settings = TelegramConnector.Settings.model_validate({"bot_token": TOKEN, **values})
    assert settings.chat_id == chat_id
    assert not settings.api_url.endswith("/")
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(("values", "field"), INVALID)
def test_invalid_settings(values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TelegramConnector.Settings.model_validate({"bot_token": TOKEN, **values})
    assert field in str(caught.value)


def test_a_refused_token_is_not_echoed_by_validation() -> None:
    almost = "123456789:short"
    with pytest.raises(ValidationError) as caught:
        TelegramConnector.Settings.model_validate(
            {"bot_token": almost, "chat_id": "@crosspostnews"}
        )
    assert almost not in str(caught.value)


def test_building_the_connector_does_no_network_io(rsps: responses.RequestsMock) -> None:
    connector = make()
    assert len(rsps.calls) == 0
    assert TOKEN not in repr(connector)
    assert TOKEN not in repr(connector.http)


# --------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("hello", 5),
        ("é", 1),
        ("字", 1),
        ("🎉", 2),
        ("👍🏽", 4),
        ("👨‍👩‍👧‍👦", 11),
        ("&lt;b&gt;&amp;", 4),
        ('<b>bold</b> <a href="https://example.org/?a=1&amp;b=2">link</a>', 9),
    ],
)
def test_measure_counts_utf16_code_units_after_entity_parsing(text: str, units: int) -> None:
    assert make().measure(text) == units


def test_4096_units_fit_and_4097_do_not() -> None:
    connector = make()
    assert connector.check(RenderedPost(parts=("a" * 4094 + "🎉",))) == []
    problems = connector.check(RenderedPost(parts=("a" * 4095 + "🎉",)))
    assert problems == ["text is 4097 UTF-16 code units long (at most 4096 on telegram)"]


def test_the_caption_limit_binds_only_the_first_part(photo: MediaItem) -> None:
    connector = make()
    assert connector.check(RenderedPost(parts=("x" * 1024,), media=(photo,))) == []
    assert connector.check(RenderedPost(parts=("x" * 1024, "y" * 4000), media=(photo,))) == []
    problems = connector.check(RenderedPost(parts=("x" * 1023 + "🎉",), media=(photo,)))
    assert problems == ["caption is 1025 UTF-16 code units long (at most 1024 with media)"]


def test_media_without_alt_text_is_accepted(photo: MediaItem) -> None:
    bare = MediaItem(path=photo.path, mime_type="image/jpeg")
    assert make().check(RenderedPost(parts=("x",), media=(bare,))) == []


def test_unsupported_media_type_and_too_many_photos(photo: MediaItem) -> None:
    gif = MediaItem(path=photo.path, mime_type="image/gif")
    problems = make().check(RenderedPost(parts=("x",), media=(photo,) * 10 + (gif,)))
    assert any("11 media files" in p for p in problems)
    assert any("image/gif" in p for p in problems)


# --------------------------------------------------------------------------- publishing


def test_html_text_is_sent_as_is_with_parse_mode(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/sendMessage",
        json=tg("send_message"),
        match=[
            matchers.json_params_matcher(
                {
                    "chat_id": "@crosspostnews",
                    "text": "<b>bold</b> &lt;b&gt; &amp; Q&amp;A \"quoted\" 'single'",
                    "parse_mode": "HTML",
                    "link_preview_options": {"is_disabled": True},
                    "disable_notification": True,
                }
            )
        ],
    )
    connector = make(disable_notification=True, link_preview=False)
    # the renderer wrote the HTML (crosspost.rendering.markdown); the connector sends it unchanged
    post = RenderedPost(parts=("<b>bold</b> &lt;b&gt; &amp; Q&amp;A \"quoted\" 'single'",))
    published = connector.publish(post, KEY)
    assert published.remote_id == f"{CHANNEL}:42"
    assert published.published_at == datetime.fromtimestamp(1795687200, UTC)


def test_escape_touches_only_the_three_characters() -> None:
    assert escape("a<b>&c\"d'e") == "a&lt;b&gt;&amp;c\"d'e"


def test_thread_parts_reply_to_the_previous_message(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/sendMessage",
        json=tg("send_message"),
        match=[matchers.json_params_matcher({"text": "First part"}, strict_match=False)],
    )
    rsps.post(
        f"{API}/sendMessage",
        json=tg("send_message_reply"),
        match=[
            matchers.json_params_matcher(
                {"text": "Second part", "reply_parameters": {"message_id": 42}},
                strict_match=False,
            )
        ],
    )
    published = make().publish(RenderedPost(parts=("First part", "Second part")), KEY)
    assert published.remote_id == f"{CHANNEL}:42"
    assert published.thread_ids == (f"{CHANNEL}:42", f"{CHANNEL}:43")
    first = json.loads(rsps.calls[0].request.body or b"{}")
    assert "reply_parameters" not in first


def test_a_failing_second_part_carries_the_first(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/sendMessage", json=tg("send_message"))
    rsps.post(f"{API}/sendMessage", json=tg("error_429"), status=429)
    with pytest.raises(RateLimited) as caught:
        make().publish(RenderedPost(parts=("one", "two")), KEY)
    assert caught.value.partial is not None
    assert caught.value.partial.thread_ids == (f"{CHANNEL}:42",)


def test_one_photo_goes_as_multipart_with_a_caption(
    rsps: responses.RequestsMock, photo: MediaItem
) -> None:
    rsps.post(f"{API}/sendPhoto", json=tg("send_photo"))
    published = make().publish(RenderedPost(parts=("Look at &lt;this&gt;",), media=(photo,)), KEY)
    fields = multipart(rsps.calls[0].request)
    assert fields == {
        "chat_id": "@crosspostnews",
        "disable_notification": "false",
        "caption": "Look at &lt;this&gt;",
        "parse_mode": "HTML",
        "photo": ("cat.jpg", b"\xff\xd8\xff\xe0 cat"),
    }
    assert published.url == "https://t.me/crosspostnews/44"


def test_an_album_is_one_media_group_with_attach_names(
    rsps: responses.RequestsMock, tmp_path: Path, photo: MediaItem
) -> None:
    second = tmp_path / "dog.png"
    second.write_bytes(b"\x89PNG dog")
    rsps.post(f"{API}/sendMediaGroup", json=tg("send_media_group"))
    rsps.post(
        f"{API}/deleteMessages",
        json=tg("delete_message"),
        match=[matchers.json_params_matcher({"chat_id": -1001234567890, "message_ids": [45, 46]})],
    )
    connector = make()
    post = RenderedPost(
        parts=("Two photos",), media=(photo, MediaItem(path=second, mime_type="image/png"))
    )
    published = connector.publish(post, KEY)
    fields = multipart(rsps.calls[0].request)
    assert json.loads(fields["media"]) == [
        {
            "type": "photo",
            "media": "attach://photo0",
            "caption": "Two photos",
            "parse_mode": "HTML",
        },
        {"type": "photo", "media": "attach://photo1"},
    ]
    assert fields["photo0"] == ("cat.jpg", b"\xff\xd8\xff\xe0 cat")
    assert fields["photo1"] == ("dog.png", b"\x89PNG dog")
    assert published.remote_id == f"{CHANNEL}:45"
    assert published.extra["album"] == (45, 46)
    connector.delete(published.remote_id, published.extra)


def test_an_album_sent_while_updates_are_read_is_not_lost_by_the_collector(
    rsps: responses.RequestsMock, tmp_path: Path, photo: MediaItem
) -> None:
    """The publisher and the collector threads share one connector and its state.

    Before, the collector saved the state it had loaded before reading updates,
    dropping whatever the publisher recorded meanwhile (an album's photo ids):
    ``delete`` then removed only the first photo.
    """
    second = tmp_path / "dog.png"
    second.write_bytes(b"\x89PNG dog")
    state, records = MemoryState({"session_note": "kept"}), MemoryRecords()
    connector = make(state, records)
    post = RenderedPost(
        parts=("Two photos",), media=(photo, MediaItem(path=second, mime_type="image/png"))
    )
    rsps.post(f"{API}/sendMediaGroup", json=tg("send_media_group"))
    sent: list[Any] = []

    def updates_while_publishing(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append(connector.publish(post, KEY))  # the publisher thread, mid-read
        rotated = state.load()  # and a token rotated meanwhile
        state.save({**rotated, "token": "rotated"})
        return 200, {}, json.dumps(tg("get_updates"))

    rsps.add_callback(responses.GET, f"{API}/getUpdates", callback=updates_while_publishing)
    connector.fetch_metrics([f"{CHANNEL}:42"])
    rsps.post(
        f"{API}/deleteMessages",
        json=tg("delete_message"),
        match=[matchers.json_params_matcher({"chat_id": -1001234567890, "message_ids": [45, 46]})],
    )
    saved = state.load()
    assert saved == {"token": "rotated", "session_note": "kept"}  # tokens only
    assert records.cursor("updates") == "512000103"  # the offset is in the store
    (published,) = sent
    connector.delete(published.remote_id, published.extra)
    assert "albums" not in saved  # album ids live with the publication in the store


def test_a_poll_takes_the_text_as_question(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/sendPoll",
        json=tg("send_poll"),
        match=[
            matchers.json_params_matcher(
                {
                    "chat_id": "@crosspostnews",
                    "question": "Which day suits the meetup?",
                    "options": [{"text": "Friday"}, {"text": "Saturday"}],
                    "is_anonymous": True,
                    "allows_multiple_answers": True,
                    "disable_notification": False,
                    "open_period": 86400,
                }
            )
        ],
    )
    poll = Poll(options=("Friday", "Saturday"), multiple=True)
    post = RenderedPost(parts=("Which day suits the meetup?",), poll=poll)
    assert make().publish(post, KEY).url == "https://t.me/crosspostnews/47"


def test_a_poll_longer_than_open_period_allows_stays_open(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/sendPoll", json=tg("send_poll"))
    poll = Poll(options=("Friday", "Saturday"), duration=timedelta(days=60))
    make().publish(RenderedPost(parts=("When?",), poll=poll), KEY)
    assert "open_period" not in json.loads(rsps.calls[0].request.body or b"{}")


@pytest.mark.parametrize(
    ("question", "options", "expected"),
    [
        ("q" * 301, ("a", "b"), "poll question is 301 long"),
        ("q", ("a",), "poll has 1 options"),
        ("q", tuple(str(n) for n in range(13)), "poll has 13 options"),
        ("q", ("a", "🎉" * 51), "must be 1 to 100 long"),
        ("q", ("a", ""), "must be 1 to 100 long"),
    ],
)
def test_poll_limits(question: str, options: tuple[str, ...], expected: str) -> None:
    problems = make().check(RenderedPost(parts=(question,), poll=Poll(options=options)))
    assert any(expected in problem for problem in problems), problems


def test_twelve_options_are_fine_and_a_poll_cannot_carry_media(photo: MediaItem) -> None:
    twelve = Poll(options=tuple(str(n) for n in range(12)))
    assert make().check(RenderedPost(parts=("q",), poll=twelve)) == []
    problems = make().check(RenderedPost(parts=("q",), poll=twelve, media=(photo,)))
    assert "a Telegram poll cannot carry media" in problems


# --------------------------------------------------------------------------- errors


def test_retry_after_comes_from_the_json_body(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/sendMessage", json=tg("error_429"), status=429, headers={"Retry-After": "999"}
    )
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        make().publish(RenderedPost(parts=("hi",)), KEY)
    assert before + timedelta(seconds=30) <= caught.value.retry_at
    assert caught.value.retry_at <= datetime.now(UTC) + timedelta(seconds=30)


def test_retry_after_falls_back_to_the_header(rsps: responses.RequestsMock) -> None:
    body = {"ok": False, "error_code": 429, "description": "Too Many Requests"}
    rsps.post(f"{API}/sendMessage", json=body, status=429, headers={"Retry-After": "120"})
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        make().publish(RenderedPost(parts=("hi",)), KEY)
    assert caught.value.retry_at >= before + timedelta(seconds=120)


def test_ok_false_in_a_200_body_is_an_error(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/sendMessage", json=tg("error_429"), status=200)
    with pytest.raises(RateLimited):
        make().publish(RenderedPost(parts=("hi",)), KEY)


@pytest.mark.parametrize("name", ["error_403_not_member", "error_400_rights"])
def test_missing_admin_rights_say_what_to_do(rsps: responses.RequestsMock, name: str) -> None:
    body = tg(name)
    rsps.post(f"{API}/sendMessage", json=body, status=body["error_code"])
    with pytest.raises(AuthError) as caught:
        make().publish(RenderedPost(parts=("hi",)), KEY)
    assert "as an administrator" in caught.value.message
    assert "can_post_messages" in caught.value.message
    assert body["description"] in caught.value.message


@pytest.mark.parametrize(("name", "status"), [("error_401", 401), ("error_404", 404)])
def test_an_invalid_token_is_an_auth_error(
    rsps: responses.RequestsMock, name: str, status: int
) -> None:
    rsps.post(f"{API}/sendMessage", json=tg(name), status=status)
    with pytest.raises(AuthError) as caught:
        make().publish(RenderedPost(parts=("hi",)), KEY)
    assert caught.value.status == status
    assert "bot token" in caught.value.message


def test_a_migrated_group_names_the_new_chat_id(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/sendMessage", json=tg("error_migrate"), status=400)
    with pytest.raises(Rejected) as caught:
        make(chat_id="-123456").publish(RenderedPost(parts=("hi",)), KEY)
    assert "-1001987654321" in caught.value.reason


def test_bad_request_is_rejected_with_telegrams_reason(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/sendMessage", json=tg("error_400"), status=400)
    with pytest.raises(Rejected) as caught:
        make().publish(RenderedPost(parts=("hi",)), KEY)
    assert caught.value.reason == "Bad Request: message text is empty"


@pytest.mark.parametrize(
    "answer",
    [
        {"body": "<html>502 Bad Gateway</html>", "status": 502},
        {"body": "not json", "status": 200},
        {"json": {"ok": True}, "status": 200},
        {"json": {"ok": True, "result": {"message_id": 42}}, "status": 200},
    ],
)
def test_unreadable_answers_to_a_send_are_unknown(
    rsps: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    rsps.post(f"{API}/sendMessage", **answer)
    with pytest.raises(Unknown):
        make().publish(RenderedPost(parts=("hi",)), KEY)


def test_the_token_never_shows_in_errors_or_logs(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(f"{API}/sendMessage", json=tg("error_401"), status=401)
    rsps.post(f"{API}/sendMessage", body=requests.ReadTimeout(f"read timed out: {API}"))
    connector = make()
    errors = []
    for _ in range(2):
        with pytest.raises((AuthError, Unknown)) as caught:
            connector.publish(RenderedPost(parts=("hi",)), KEY)
        errors.append(caught.value)
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s', "https", "api.telegram.org", 443, "POST",
        f"/bot{TOKEN}/sendMessage", "HTTP/1.1", 200,
    )  # fmt: skip
    assert "/bot***/sendMessage" in caplog.text
    shown = caplog.text + " ".join(f"{e} {e!r}" for e in errors)
    assert TOKEN not in shown
    assert TOKEN.split(":")[1] not in shown


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize(
    ("chat_id", "username", "url"),
    [
        (-1001234567890, "crosspostnews", "https://t.me/crosspostnews/42"),
        (-1009876543210, None, "https://t.me/c/9876543210/42"),
        (-123456, None, None),
    ],
)
def test_message_urls(chat_id: int, username: str | None, url: str | None) -> None:
    assert message_url(chat_id, 42, username) == url


def test_a_private_channel_gets_a_c_link(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/sendMessage", json=tg("send_message_private"))
    published = make(chat_id="-1009876543210").publish(RenderedPost(parts=("Hi team",)), KEY)
    assert published.remote_id == "-1009876543210:7"
    assert published.url == "https://t.me/c/9876543210/7"


# --------------------------------------------------------------------------- reading


def updates_query(offset: int) -> list[Any]:
    return [
        matchers.query_param_matcher(
            {
                "offset": str(offset),
                "limit": "100",
                "timeout": "0",
                "allowed_updates": '["message_reaction_count"]',
            }
        )
    ]


def test_reaction_updates_fold_into_metrics_across_fetches(
    rsps: responses.RequestsMock,
) -> None:
    state, records = MemoryState(), MemoryRecords()
    rsps.get(f"{API}/getUpdates", json=tg("get_updates"), match=updates_query(0))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_later"), match=updates_query(512000103))
    ids = [f"{CHANNEL}:42", f"{CHANNEL}:44", f"{CHANNEL}:50"]
    first = make(state, records).fetch_metrics(ids)
    assert {k: v.likes for k, v in first.items()} == {f"{CHANNEL}:42": 7, f"{CHANNEL}:44": 4}
    assert first[f"{CHANNEL}:44"].raw["by_type"] == {"custom:5368324170671202286": 1, "paid": 3}
    second = make(state, records).fetch_metrics(ids)
    assert {k: v.likes for k, v in second.items()} == {f"{CHANNEL}:42": 13, f"{CHANNEL}:44": 4}
    assert second[f"{CHANNEL}:42"].views is None
    assert records.cursor("updates") == "512000104"
    assert state.load() == {}  # nothing but tokens in the state file


def test_an_older_snapshot_does_not_replace_a_newer_one(rsps: responses.RequestsMock) -> None:
    later, earlier = tg("get_updates_later"), tg("get_updates")
    rsps.get(f"{API}/getUpdates", json={"ok": True, "result": later["result"] + earlier["result"]})
    got = make().fetch_metrics([f"{CHANNEL}:42"])
    assert got[f"{CHANNEL}:42"].likes == 13


def test_a_webhook_leaves_metrics_empty_and_warns_once(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    rsps.get(f"{API}/getUpdates", json=tg("error_409_webhook"), status=409)
    connector = make()
    assert connector.fetch_metrics([f"{CHANNEL}:42"]) == {}
    assert connector.fetch_metrics([f"{CHANNEL}:42"]) == {}
    warnings = [r for r in caplog.records if "webhook" in r.getMessage()]
    assert len(warnings) == 1


def test_account_metrics_of_a_group_have_no_followers(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/getChatMemberCount", json=tg("get_chat_member_count"))
    rsps.get(f"{API}/getChat", json=tg("get_chat_group"))
    got = make(chat_id="-1001111111111").account_metrics()
    assert (got.members, got.followers) == (1234, None)


# --------------------------------------------------------------------------- deleting


def test_delete_sends_chat_and_message_id(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/deleteMessage",
        json=tg("delete_message"),
        match=[matchers.json_params_matcher({"chat_id": -1001234567890, "message_id": 42})],
    )
    make().delete(f"{CHANNEL}:42")


def test_delete_of_an_old_message_explains_the_48_hours(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/deleteMessage", json=tg("error_delete_too_old"), status=400)
    with pytest.raises(Rejected) as caught:
        make().delete(f"{CHANNEL}:42")
    assert "48 hours" in caught.value.reason
    assert "message can't be deleted" in caught.value.reason


def test_delete_refuses_a_foreign_id() -> None:
    with pytest.raises(Rejected):
        make().delete("at://did:plc:abc/app.bsky.feed.post/3k")


def test_nothing_to_reconcile_with() -> None:
    connector = make()
    assert not isinstance(connector, Reconcilable)
    assert Capability.RECONCILE not in connector.capabilities


# --------------------------------------------------------------------------- properties

PIECES = ["a", "bc", "é", "字", "🎉", "👍🏽", "👨‍👩‍👧‍👦", " ", "\n", "\n\n", ". ", "word "]
texts = st.lists(st.sampled_from(PIECES), max_size=300).map("".join)


@settings(max_examples=80, deadline=None)
@given(text=texts, limit=st.integers(min_value=16, max_value=200))
def test_every_thread_part_fits_by_telegrams_count(text: str, limit: int) -> None:
    measure = make().measure
    for part in thread_parts(text, limit, measure):
        assert measure(part) <= limit


@settings(max_examples=80, deadline=None)
@given(text=texts, limit=st.integers(min_value=16, max_value=200))
def test_split_segments_rejoin_to_the_original(text: str, limit: int) -> None:
    assert "".join(split_text(text, limit, make().measure)) == text


# --------------------------------------------------------------------------- inbox

WIDE = '["message_reaction_count", "message"]'
GROUP = "-1009876543210"


def wide_query(offset: int) -> list[Any]:
    return [
        matchers.query_param_matcher(
            {"offset": str(offset), "limit": "100", "timeout": "0", "allowed_updates": WIDE}
        )
    ]


def test_reactions_and_comments_come_from_one_getupdates_page(
    rsps: responses.RequestsMock,
) -> None:
    records = MemoryRecords()
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_inbox"), match=wide_query(0))
    rsps.get(f"{API}/getMe", json=tg("get_me"))
    connector = make(records=records)
    page = connector.fetch_inbox(None)
    got = [(i.remote_id, i.kind, i.author, i.in_reply_to) for i in page.items]
    assert got == [
        (f"{GROUP}:311", "comment", "@alice_k", f"{CHANNEL}:42"),
        (f"{GROUP}:312", "comment", "@bobby", f"{CHANNEL}:42"),  # answer in the post's thread
        (f"{GROUP}:315", "mention", "Carol", None),  # UTF-16 offset past an emoji
    ]
    assert page.cursor == "512000209"  # the update offset, for show
    assert set(records.interactions) == {i.remote_id for i in page.items}  # stored as read
    alice = page.items[0]
    assert alice.url == "https://t.me/crosspostchat/311"
    assert alice.author_id == "111111111"
    assert alice.text == "Congrats on the launch!"
    assert alice.created_at == datetime.fromtimestamp(1795690900, UTC)
    # The reaction count of the same page was kept for metrics; no second read of it.
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=wide_query(512000209))
    assert connector.fetch_metrics([f"{CHANNEL}:42"])[f"{CHANNEL}:42"].likes == 9
    assert records.cursor("updates") == "512000209"


def test_the_first_inbox_read_widens_the_reader(rsps: responses.RequestsMock) -> None:
    records = MemoryRecords()
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=updates_query(0))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=wide_query(0))
    make(records=records).fetch_metrics([f"{CHANNEL}:42"])  # nobody reads the inbox yet
    make(records=records).fetch_inbox(None)
    make(records=records).fetch_metrics([f"{CHANNEL}:42"])  # same list: no tug of war
    sent = [c.request.url for c in rsps.calls]
    assert "message%22%5D" not in str(sent[0])
    assert all("message%22%5D" in str(url) for url in sent[1:])


def test_inbox_reads_go_on_from_the_stored_offset_without_duplicates(
    rsps: responses.RequestsMock,
) -> None:
    state, records = MemoryState(), MemoryRecords()
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_inbox"), match=wide_query(0))
    rsps.get(f"{API}/getMe", json=tg("get_me"))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_inbox_later"), match=wide_query(512000209))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=wide_query(512000210))
    first = make(state, records).fetch_inbox(None)
    second = make(state, records).fetch_inbox(first.cursor)
    third = make(state, records).fetch_inbox(second.cursor)
    assert [i.remote_id for i in second.items] == [f"{GROUP}:316"]
    assert second.items[0].text == "Saw it live"  # a photo's caption
    assert second.items[0].in_reply_to == f"{CHANNEL}:42"
    assert (third.items, third.cursor) == ((), "512000210")
    assert state.load() == {}  # no queue in the state file: the items are in the store
    ids = [i.remote_id for i in first.items + second.items]
    assert len(ids) == len(set(ids)) == len(records.interactions) == 4


def test_the_inbox_cursor_the_core_keeps_does_not_move_the_reader(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_inbox"), match=wide_query(0))
    rsps.get(f"{API}/getMe", json=tg("get_me"))
    page = make().fetch_inbox("57")  # from an older version, or another database
    assert len(page.items) == 3 and page.cursor == "512000209"


def test_replies_to_the_bot_in_a_group(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_group"))
    rsps.get(f"{API}/getMe", json=tg("get_me"))
    page = make(chat_id="-1001111111111").fetch_inbox(None)
    # The anonymous admin (sender_chat = the group) and a member-to-member reply are not ours.
    assert [(i.remote_id, i.kind, i.in_reply_to, i.url) for i in page.items] == [
        ("-1001111111111:78", "reply", "-1001111111111:77", None)
    ]


def test_a_webhook_gives_an_empty_inbox_and_one_warning(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    rsps.get(f"{API}/getUpdates", json=tg("error_409_webhook"), status=409)
    connector = make()
    assert connector.fetch_inbox("12") == InboxPage((), "12")
    assert connector.fetch_metrics([f"{CHANNEL}:42"]) == {}
    assert len([r for r in caplog.records if "webhook" in r.getMessage()]) == 1


def test_another_update_reader_is_transient(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/getUpdates", json=tg("error_409_conflict"), status=409)
    with pytest.raises(Transient, match="another program"):
        make().fetch_inbox(None)


def test_inbox_false_keeps_the_bot_to_reactions(rsps: responses.RequestsMock) -> None:
    connector = make(inbox=False)
    assert Capability.INBOX not in connector.capabilities
    assert Capability.INBOX in make().capabilities
    with pytest.raises(Rejected):
        connector.fetch_inbox(None)
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=updates_query(0))
    assert connector.fetch_metrics([f"{CHANNEL}:42"]) == {}


def test_an_unreadable_getme_leaves_the_updates_unconfirmed(rsps: responses.RequestsMock) -> None:
    records = MemoryRecords()
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_inbox"), match=wide_query(0))
    rsps.get(f"{API}/getMe", json={"ok": True, "result": {"first_name": "?"}})
    with pytest.raises(Transient):
        make(records=records).fetch_inbox(None)
    assert records.cursor("updates") is None  # read again next time, nothing lost
    assert records.interactions == {}


# --------------------------------------------------------------------------- collector


def collected(tmp_path: Path, account: str, connector_lines: list[str]) -> Any:
    """A project of one account, a store with one published post, and a collector."""
    from crosspost.collecting.metrics import MetricsCollector
    from crosspost.loading.project import load_project
    from crosspost.store import PlannedRow, Store
    from tests.fakes import FakeClock

    lines = ["timezone: UTC", "accounts:", f"  {account}:", *connector_lines]
    lines += ["content:", "  - id: hello", "    title: Hello", "    body: Hello.", "posts: []"]
    path = tmp_path / "schedule.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path / 'collect.db'}")
    clock = FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    collector = MetricsCollector(store, load_project(path), clock, inbox_every=timedelta(0))
    return store, clock, collector, PlannedRow


def publish_row(store: Any, row_cls: Any, account: str, remote_id: str, at: datetime) -> int:
    row = row_cls(
        entry="e",
        occurrence=remote_id,
        account=account,
        content_id="hello",
        due_at=at,
        expires_at=at + timedelta(hours=1),
    )
    publication = store.add_oneoff(row, now=at)
    store.claim(publication.id, "w", timedelta(minutes=5), at)
    from crosspost.store import Sent

    store.finish(publication.id, "w", at, Sent(remote_id, None, at))
    return int(publication.id)


def test_the_collector_stores_comments_once_across_rounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rsps: responses.RequestsMock
) -> None:
    from sqlmodel import Session, select

    from crosspost.store.models import Interaction

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    config = ["    connector: telegram", "    bot_token: ${TELEGRAM_BOT_TOKEN}"]
    config.append('    chat_id: "@crosspostnews"')
    store, clock, collector, row_cls = collected(tmp_path, "tg", config)
    pid = publish_row(store, row_cls, "tg", f"{CHANNEL}:42", clock() - timedelta(minutes=1))
    rsps.get(f"{API}/getChatMemberCount", json=tg("get_chat_member_count"))
    rsps.get(f"{API}/getChat", json=tg("get_chat"))
    rsps.get(f"{API}/getMe", json=tg("get_me"))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_inbox"), match=wide_query(0))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_inbox_later"), match=wide_query(512000209))
    rsps.get(f"{API}/getUpdates", json=tg("get_updates_empty"), match=wide_query(512000210))
    assert collector.run_due().accounts[0].interactions == 4
    clock.advance(timedelta(minutes=6))
    second = collector.run_due()
    assert [a.interactions for a in second.accounts] == [0]
    with Session(store.engine) as session:
        stored = {i.remote_id: i.publication_id for i in session.exec(select(Interaction))}
    assert stored == {
        f"{GROUP}:311": pid,
        f"{GROUP}:312": pid,
        f"{GROUP}:315": None,
        f"{GROUP}:316": pid,
    }
