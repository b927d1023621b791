"""Discord connector: both modes, payload placement, rate-limit buckets, counting."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from responses import matchers

from connectors.base import (
    AuthError,
    Capability,
    MediaItem,
    Poll,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from connectors.discord import DiscordConnector, nonce_for
from crosspost.rendering.text import split_text, thread_parts
from tests.contract.harness import fixture

API = "https://discord.com/api/v10"
CHANNEL = "1098765432109876543"
GUILD = "197038439483310086"
TOKEN = "MTIwMDAwMDAwMDAwMDAwMDAwMQ.Gx1y2z.fake-bot-token"
HOOK_ID = "1234567890123456789"
HOOK_TOKEN = "a1B2c3-D4e5_F6g7h8i9j0"
HOOK_URL = f"https://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}"
HOOK_API = f"{API}/webhooks/{HOOK_ID}/{HOOK_TOKEN}"
KEY = "entry-2026-11-26-launch"


def bot(**extra: Any) -> DiscordConnector:
    values = {"bot_token": TOKEN, "channel_id": CHANNEL, "guild_id": GUILD, **extra}
    return DiscordConnector("community", DiscordConnector.Settings.model_validate(values))


def webhook(**extra: Any) -> DiscordConnector:
    values = {"webhook_url": HOOK_URL, **extra}
    return DiscordConnector("community", DiscordConnector.Settings.model_validate(values))


def post(*parts: str, **kwargs: Any) -> RenderedPost:
    return RenderedPost(parts=parts or ("Hello from crosspost!",), content_id="c1", **kwargs)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def sent_json(call: Any) -> dict[str, Any]:
    return json.loads(call.request.body)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- settings

SETTINGS_CASES = [
    ({"webhook_url": HOOK_URL}, None),
    ({"webhook_url": HOOK_URL, "guild_id": GUILD}, None),
    ({"webhook_url": f"https://discordapp.com/api/v9/webhooks/{HOOK_ID}/{HOOK_TOKEN}"}, None),
    ({"webhook_url": f"https://canary.discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}"}, None),
    ({"bot_token": TOKEN, "channel_id": CHANNEL}, None),
    ({"bot_token": TOKEN, "channel_id": int(CHANNEL), "guild_id": int(GUILD)}, None),
    ({}, "exactly one of webhook_url"),
    ({"webhook_url": HOOK_URL, "bot_token": TOKEN, "channel_id": CHANNEL}, "exactly one"),
    ({"bot_token": TOKEN}, "needs channel_id"),
    ({"bot_token": " ", "channel_id": CHANNEL}, "bot_token is empty"),
    ({"webhook_url": HOOK_URL, "channel_id": CHANNEL}, "takes no channel_id"),
    ({"webhook_url": "https://example.org/api/webhooks/1/abc"}, "must look like"),
    ({"webhook_url": f"http://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}"}, "must look like"),
    ({"bot_token": TOKEN, "channel_id": "#general"}, "Discord id"),
    ({"bot_token": TOKEN, "channel_id": CHANNEL, "guild_id": "my-server"}, "Discord id"),
    ({"bot_token": TOKEN, "channel_id": CHANNEL, "token": TOKEN}, "Extra inputs"),
]


@pytest.mark.parametrize(("values", "error"), SETTINGS_CASES)
def test_settings_table(values: dict[str, Any], error: str | None) -> None:
    if error is None:
        parsed = DiscordConnector.Settings.model_validate(values)
        assert parsed.channel_id is None or parsed.channel_id.isdigit()
        return
    with pytest.raises(ValidationError) as caught:
        DiscordConnector.Settings.model_validate(values)
    assert error in str(caught.value)


def test_settings_never_show_secrets() -> None:
    shown = repr(webhook().settings) + repr(bot().settings) + repr(webhook()) + repr(bot().http)
    assert HOOK_TOKEN not in shown and TOKEN not in shown


def test_capabilities_depend_on_mode() -> None:
    assert Capability.IDEMPOTENCY_KEY in bot().capabilities
    assert Capability.RECONCILE in bot().capabilities
    assert Capability.IDEMPOTENCY_KEY not in webhook().capabilities
    assert Capability.RECONCILE not in webhook().capabilities
    assert Capability.POLLS in webhook().capabilities


# --------------------------------------------------------------------------- counting

COUNTING = [
    ("", 0),
    ("hello", 5),
    ("😀", 1),  # one code point, two UTF-16 units
    ("👍🏽", 2),  # emoji + skin tone modifier
    ("👨‍👩‍👧", 5),  # three emoji joined by two ZWJ
    ("e\u0301", 2),  # combining accent
    ("🇫🇷", 2),  # flag = two regional indicators
    ("https://example.org/a-very-long-path", 36),  # links count in full
]


@pytest.mark.parametrize(("text", "expected"), COUNTING)
def test_measure_counts_code_points(text: str, expected: int) -> None:
    assert bot().measure(text) == expected


def test_exactly_2000_emoji_fit_and_2001_do_not() -> None:
    connector = bot()
    assert connector.check(post("😀" * 2000)) == []
    assert connector.check(post("😀" * 2001))


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=900), st.integers(min_value=20, max_value=300))
def test_thread_parts_fit_by_discord_count(text: str, limit: int) -> None:
    connector = bot()
    for part in thread_parts(text, limit, connector.measure):
        if connector.measure(part) > limit:
            # Only an unbreakable piece (a URL or grapheme run) may overflow.
            assert len(split_text(part, limit, connector.measure)) == 1
        assert part == part.strip()


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=900), st.integers(min_value=5, max_value=200))
def test_split_text_rejoins(text: str, limit: int) -> None:
    assert "".join(split_text(text, limit, bot().measure)) == text


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="ab 😀👍🏽\n.", min_size=1, max_size=3000))
def test_thread_parts_of_emoji_prose_fit_2000(text: str) -> None:
    connector = bot()
    limit = connector.effective_limits.max_length
    assert all(connector.measure(p) <= limit for p in thread_parts(text, limit, connector.measure))


# --------------------------------------------------------------------------- publishing


def test_bot_publish_sends_nonce_and_no_pings(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        f"{API}/channels/{CHANNEL}/messages",
        json=fixture("discord", "message_bot"),
        match=[
            matchers.header_matcher({"Authorization": f"Bot {TOKEN}"}),
            matchers.json_params_matcher(
                {
                    "content": "@everyone Hello from crosspost!",
                    "allowed_mentions": {"parse": []},
                    "nonce": nonce_for(KEY),
                    "enforce_nonce": True,
                }
            ),
        ],
    )
    published = bot().publish(post("@everyone Hello from crosspost!"), KEY)
    assert published.remote_id == f"{CHANNEL}:1311111111111111111"
    assert published.url == f"https://discord.com/channels/{GUILD}/{CHANNEL}/1311111111111111111"
    assert published.published_at == datetime(2026, 11, 26, 10, 0, 1, 123000, tzinfo=UTC)
    assert rsps.calls[0].request.headers["User-Agent"].startswith("DiscordBot (")


def test_nonce_is_stable_and_short() -> None:
    assert nonce_for(KEY) == nonce_for(KEY)
    assert nonce_for(KEY) != nonce_for(KEY + "-1")
    assert len(nonce_for("x" * 500)) == 25


def test_allowed_mentions_option_is_passed(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        f"{API}/channels/{CHANNEL}/messages",
        json=fixture("discord", "message_bot"),
        match=[
            matchers.json_params_matcher(
                {"allowed_mentions": {"parse": ["roles"]}}, strict_match=False
            )
        ],
    )
    bot().publish(post("<@&123> new release", options={"allowed_mentions": ["roles"]}), KEY)


def test_bad_allowed_mentions_option_is_rejected_before_sending() -> None:
    problems = bot().check(post(options={"allowed_mentions": "everyone"}))
    assert any("allowed_mentions" in p for p in problems)


def test_webhook_publish_waits_for_the_message(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        HOOK_API,
        json=fixture("discord", "message_webhook"),
        match=[
            matchers.query_param_matcher({"wait": "true"}),
            matchers.json_params_matcher(
                {"content": "Hello from crosspost!", "allowed_mentions": {"parse": []}}
            ),
        ],
    )
    published = webhook(guild_id=GUILD).publish(post(), KEY)
    assert published.remote_id == f"{CHANNEL}:1322222222222222222"
    assert published.url == f"https://discord.com/channels/{GUILD}/{CHANNEL}/1322222222222222222"
    assert "Authorization" not in rsps.calls[0].request.headers


def test_webhook_without_guild_links_with_at_me(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", HOOK_API, json=fixture("discord", "message_webhook"))
    published = webhook().publish(post(), KEY)
    assert published.url == f"https://discord.com/channels/@me/{CHANNEL}/1322222222222222222"


def test_webhook_server_error_is_unknown_not_transient(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", HOOK_API, json=fixture("discord", "error_server"), status=500)
    with pytest.raises(Unknown):
        webhook().publish(post(), KEY)


def test_bot_server_error_is_transient_thanks_to_nonce(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", f"{API}/channels/{CHANNEL}/messages", json={}, status=502)
    with pytest.raises(Transient):
        bot().publish(post(), KEY)


def test_bot_thread_replies_to_previous_part(rsps: responses.RequestsMock) -> None:
    first = fixture("discord", "message_bot")
    second = dict(first, id="1311111111111111112")
    url = f"{API}/channels/{CHANNEL}/messages"
    rsps.add(
        "POST",
        url,
        json=first,
        match=[
            matchers.json_params_matcher(
                {
                    "content": "one",
                    "allowed_mentions": {"parse": []},
                    "nonce": nonce_for(KEY),
                    "enforce_nonce": True,
                }
            )
        ],
    )
    rsps.add(
        "POST",
        url,
        json=second,
        match=[
            matchers.json_params_matcher(
                {
                    "content": "two",
                    "allowed_mentions": {"parse": []},
                    "nonce": nonce_for(f"{KEY}-1"),
                    "enforce_nonce": True,
                    "message_reference": {"message_id": first["id"], "fail_if_not_exists": False},
                }
            )
        ],
    )
    published = bot().publish(post("one", "two"), KEY)
    assert published.thread_ids == (f"{CHANNEL}:{first['id']}", f"{CHANNEL}:1311111111111111112")


def test_webhook_thread_is_consecutive_messages(rsps: responses.RequestsMock) -> None:
    message = fixture("discord", "message_webhook")
    for n, text in enumerate(("one", "two")):
        rsps.add(
            "POST",
            HOOK_API,
            json=dict(message, id=f"13222222222222222{n}0"),
            match=[
                matchers.json_params_matcher({"content": text, "allowed_mentions": {"parse": []}})
            ],
        )
    published = webhook().publish(post("one", "two"), KEY)
    assert len(published.thread_ids) == 2


def test_embed_when_asked_with_title_and_link(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        HOOK_API,
        json=fixture("discord", "message_webhook"),
        match=[
            matchers.json_params_matcher(
                {"embeds": [{"title": "Launch", "url": "https://example.org/launch"}]},
                strict_match=False,
            )
        ],
    )
    webhook().publish(
        post(title="Launch", link="https://example.org/launch", options={"embed": True}), KEY
    )


def test_no_embed_by_default(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", HOOK_API, json=fixture("discord", "message_webhook"))
    webhook().publish(post(title="Launch", link="https://example.org/launch"), KEY)
    assert "embeds" not in sent_json(rsps.calls[0])


def test_files_go_multipart_with_alt_descriptions(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    image, chart = tmp_path / "photo.png", tmp_path / "chart.jpg"
    image.write_bytes(b"\x89PNG fake")
    chart.write_bytes(b"\xff\xd8 fake")
    media = (
        MediaItem(image, alt="A cat on a keyboard", mime_type="image/png"),
        MediaItem(chart, alt="Growth chart", mime_type="image/jpeg"),
    )
    rsps.add("POST", f"{API}/channels/{CHANNEL}/messages", json=fixture("discord", "message_bot"))
    bot().publish(post("With pictures", media=media), KEY)
    request = rsps.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    body = request.body
    assert b'name="files[0]"; filename="photo.png"' in body
    assert b'name="files[1]"; filename="chart.jpg"' in body
    assert b"\x89PNG fake" in body
    marker = b'name="payload_json"\r\n\r\n'
    payload = json.loads(body.split(marker, 1)[1].split(b"\r\n--", 1)[0])
    assert payload["attachments"] == [
        {"id": 0, "filename": "photo.png", "description": "A cat on a keyboard"},
        {"id": 1, "filename": "chart.jpg", "description": "Growth chart"},
    ]
    assert payload["nonce"] == nonce_for(KEY) and payload["content"] == "With pictures"


def test_too_many_files_and_long_alt_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(b"x")
    eleven = tuple(MediaItem(path) for _ in range(11))
    assert any("11 media" in p for p in bot().check(post(media=eleven)))
    long_alt = (MediaItem(path, alt="e\u0301" * 600),)  # 600 graphemes, 1200 code points
    assert any("alt text" in p for p in bot().check(post(media=long_alt)))


def test_poll_payload(rsps: responses.RequestsMock) -> None:
    poll = Poll(options=("Yes", "No"), duration=timedelta(hours=36), multiple=True)
    rsps.add(
        "POST",
        HOOK_API,
        json=fixture("discord", "message_webhook"),
        match=[
            matchers.json_params_matcher(
                {
                    "poll": {
                        "question": {"text": "Ship it?"},
                        "answers": [
                            {"poll_media": {"text": "Yes"}},
                            {"poll_media": {"text": "No"}},
                        ],
                        "duration": 36,
                        "allow_multiselect": True,
                    }
                },
                strict_match=False,
            )
        ],
    )
    webhook().publish(post("Vote below", poll=poll, title="Ship it?"), KEY)


def test_poll_limits() -> None:
    connector = bot()
    too_many = Poll(options=tuple(str(n) for n in range(11)))
    assert connector.check(post("q?", poll=too_many))
    long_answer = Poll(options=("x" * 56, "y"))
    assert any("longer than 55" in p for p in connector.check(post("q?", poll=long_answer)))
    long_question = Poll(options=("a", "b"))
    problems = connector.check(post("q" * 301, poll=long_question))
    assert any("poll question" in p for p in problems)
    forever = Poll(options=("a", "b"), duration=timedelta(days=40))
    assert any("hours" in p for p in connector.check(post("q?", poll=forever)))
    ok = Poll(options=("a", "b"), duration=timedelta(days=32))
    assert connector.check(post("q?", poll=ok)) == []


# --------------------------------------------------------------------------- rate limits


def test_empty_bucket_raises_without_a_request(rsps: responses.RequestsMock) -> None:
    url = f"{API}/channels/{CHANNEL}/messages"
    rsps.add(
        "POST",
        url,
        json=fixture("discord", "message_bot"),
        headers={
            "X-RateLimit-Bucket": "abcd1234",
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": "4.5",
        },
    )
    connector = bot()
    connector.publish(post(), KEY)
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        connector.publish(post(), KEY + "-again")
    assert len(rsps.calls) == 1
    assert before < caught.value.retry_at <= datetime.now(UTC) + timedelta(seconds=4.5)


def test_bucket_of_another_channel_is_not_blocked(rsps: responses.RequestsMock) -> None:
    headers = {
        "X-RateLimit-Bucket": "abcd1234",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": "60",
    }
    rsps.add(
        "POST",
        f"{API}/channels/{CHANNEL}/messages",
        json=fixture("discord", "message_bot"),
        headers=headers,
    )
    connector = bot()
    connector.publish(post(), KEY)
    rsps.add("GET", f"{API}/guilds/{GUILD}", json=fixture("discord", "guild"))
    assert connector.account_metrics().members == 1234


def test_429_prefers_the_json_float(rsps: responses.RequestsMock) -> None:
    body = dict(fixture("discord", "rate_limited"), retry_after=2.75)
    rsps.add(
        "POST",
        f"{API}/channels/{CHANNEL}/messages",
        json=body,
        status=429,
        headers={"Retry-After": "3", "X-RateLimit-Scope": "user"},
    )
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        bot().publish(post(), KEY)
    delay = (caught.value.retry_at - before).total_seconds()
    assert 2.7 <= delay < 2.9
    assert "user" in str(caught.value)


def test_global_429_blocks_every_route(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        HOOK_API,
        json=fixture("discord", "rate_limited_global"),
        status=429,
        headers={"Retry-After": "2", "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"},
    )
    connector = webhook()
    with pytest.raises(RateLimited) as caught:
        connector.publish(post(), KEY)
    assert "global" in str(caught.value)
    with pytest.raises(RateLimited):
        connector.fetch_metrics([f"{CHANNEL}:1322222222222222222"])
    assert len(rsps.calls) == 1


# --------------------------------------------------------------------------- errors


def test_deleted_webhook_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", HOOK_API, json=fixture("discord", "error_unknown_webhook"), status=404)
    with pytest.raises(AuthError) as caught:
        webhook().publish(post(), KEY)
    assert "webhook was deleted; create a new one" in str(caught.value)
    assert HOOK_TOKEN not in str(caught.value)


def test_deleted_webhook_on_metrics_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{HOOK_API}/messages/1322222222222222222",
        json=fixture("discord", "error_unknown_webhook"),
        status=404,
    )
    with pytest.raises(AuthError):
        webhook().fetch_metrics([f"{CHANNEL}:1322222222222222222"])


def test_missing_permissions_names_them(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        f"{API}/channels/{CHANNEL}/messages",
        json=fixture("discord", "error_missing_permissions"),
        status=403,
    )
    with pytest.raises(AuthError) as caught:
        bot().publish(post(), KEY)
    assert "Send Messages" in str(caught.value) and "50013" in str(caught.value)


def test_invalid_form_body_is_rejected_with_field(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "POST",
        f"{API}/channels/{CHANNEL}/messages",
        json=fixture("discord", "error_invalid_form_body"),
        status=400,
    )
    with pytest.raises(Rejected) as caught:
        bot().publish(post(), KEY)
    assert "content: Must be 2000 or fewer in length." in caught.value.reason


def test_answer_without_id_is_unknown(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", HOOK_API, json={"content": "no id"})
    with pytest.raises(Unknown):
        webhook().publish(post(), KEY)


def test_answer_not_json_is_unknown(rsps: responses.RequestsMock) -> None:
    rsps.add("POST", HOOK_API, body="<html>oops</html>")
    with pytest.raises(Unknown):
        webhook().publish(post(), KEY)


# --------------------------------------------------------------------------- reading back


def test_reactions_are_summed_with_raw_per_emoji(rsps: responses.RequestsMock) -> None:
    message = fixture("discord", "message_reactions")
    rsps.add("GET", f"{HOOK_API}/messages/{message['id']}", json=message)
    remote_id = f"{CHANNEL}:{message['id']}"
    metrics = webhook().fetch_metrics([remote_id, "not-an-id"])
    assert set(metrics) == {remote_id}
    assert metrics[remote_id].likes == 7
    assert metrics[remote_id].replies is None
    assert metrics[remote_id].raw == {"reactions": {"👍": 5, "LUL:41771983429993937": 2}}


def test_message_without_reactions_has_zero_likes(rsps: responses.RequestsMock) -> None:
    message = fixture("discord", "message_bot")
    rsps.add("GET", f"{API}/channels/{CHANNEL}/messages/{message['id']}", json=message)
    metrics = bot().fetch_metrics([f"{CHANNEL}:{message['id']}"])
    assert metrics[f"{CHANNEL}:{message['id']}"].likes == 0


def test_webhook_has_no_account_metrics() -> None:
    assert webhook(guild_id=GUILD).account_metrics().members is None


def test_bot_without_guild_has_no_account_metrics() -> None:
    connector = DiscordConnector(
        "a", DiscordConnector.Settings(bot_token=TOKEN, channel_id=CHANNEL)
    )  # type: ignore[arg-type]
    assert connector.account_metrics().members is None


def test_account_metrics_raw(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{API}/guilds/{GUILD}",
        json=fixture("discord", "guild"),
        match=[matchers.query_param_matcher({"with_counts": "true"})],
    )
    got = bot().account_metrics()
    assert got.members == 1234 and got.raw["approximate_presence_count"] == 321


@pytest.mark.parametrize("mode", ["bot", "webhook"])
def test_delete_in_both_modes(rsps: responses.RequestsMock, mode: str) -> None:
    base = HOOK_API if mode == "webhook" else f"{API}/channels/{CHANNEL}"
    rsps.add("DELETE", f"{base}/messages/1311111111111111111", status=204)
    connector = webhook() if mode == "webhook" else bot()
    connector.delete(f"{CHANNEL}:1311111111111111111")


def test_delete_of_a_gone_message_succeeds(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "DELETE",
        f"{API}/channels/{CHANNEL}/messages/1311111111111111111",
        json=fixture("discord", "error_unknown_message"),
        status=404,
    )
    bot().delete(f"{CHANNEL}:1311111111111111111")


def test_delete_bad_id_is_rejected() -> None:
    with pytest.raises(Rejected):
        bot().delete("1311111111111111111")


def test_find_recent_by_text_from_the_bot(rsps: responses.RequestsMock) -> None:
    rsps.add(
        "GET",
        f"{API}/channels/{CHANNEL}/messages",
        json=fixture("discord", "messages_list"),
        match=[matchers.query_param_matcher({"limit": "50"})],
    )
    found = bot().find_recent(KEY, "Hello from crosspost! https://example.org/launch\n")
    assert found is not None and found.remote_id == f"{CHANNEL}:1311111111111111111"


def test_find_recent_by_nonce(rsps: responses.RequestsMock) -> None:
    listed = fixture("discord", "messages_list")
    listed[0]["nonce"] = nonce_for(KEY)
    rsps.add("GET", f"{API}/channels/{CHANNEL}/messages", json=listed)
    found = bot().find_recent(KEY, "some other text")
    assert found is not None and found.remote_id == f"{CHANNEL}:1311111111111111199"


def test_find_recent_nothing(rsps: responses.RequestsMock) -> None:
    rsps.add("GET", f"{API}/channels/{CHANNEL}/messages", json=fixture("discord", "messages_list"))
    assert bot().find_recent(KEY, "Someone else talking") is None


def test_find_recent_in_webhook_mode_is_none() -> None:
    assert webhook().find_recent(KEY, "anything") is None


# --------------------------------------------------------------------------- inbox

ME = fixture("discord", "user_me")
NEWEST = "1311111111111111207"


def messages_query(**params: str) -> list[Any]:
    return [matchers.query_param_matcher({"limit": "100", **params})]


def test_inbox_reads_the_latest_page_and_classifies(rsps: responses.RequestsMock) -> None:
    auth = matchers.header_matcher({"Authorization": f"Bot {TOKEN}"})
    rsps.get(f"{API}/users/@me", json=ME, match=[auth])
    rsps.get(
        f"{API}/channels/{CHANNEL}/messages",
        json=fixture("discord", "inbox_messages"),
        match=[*messages_query(), auth],
    )
    page = bot().fetch_inbox(None)
    assert page.cursor == NEWEST
    got = [(i.remote_id.split(":")[1][-3:], i.kind, i.author, i.in_reply_to) for i in page.items]
    assert got == [
        ("199", "comment", "member", None),
        ("202", "mention", "nelly", None),
        ("205", "reply", "member", f"{CHANNEL}:1311111111111111111"),
        ("206", "comment", "nelly", None),  # a reply to another member is not ours
        ("207", "reply", "nelly", f"{CHANNEL}:1311111111111111201"),  # no referenced_message
    ]
    first = page.items[0]
    assert first.remote_id == f"{CHANNEL}:1311111111111111199"
    assert first.url == f"https://discord.com/channels/{GUILD}/{CHANNEL}/1311111111111111199"
    assert first.author_id == "80351110224678912"
    assert first.text == "Love the new logo"
    assert first.created_at == datetime(2026, 11, 26, 9, 59, tzinfo=UTC)


def test_inbox_cursor_moves_and_nothing_comes_twice(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/users/@me", json=ME)  # asked once: assert_all_requests_are_fired + count
    rsps.get(
        f"{API}/channels/{CHANNEL}/messages",
        json=fixture("discord", "inbox_messages"),
        match=messages_query(),
    )
    rsps.get(
        f"{API}/channels/{CHANNEL}/messages",
        json=fixture("discord", "inbox_messages_later"),
        match=messages_query(after=NEWEST),
    )
    rsps.get(
        f"{API}/channels/{CHANNEL}/messages",
        json=[],
        match=messages_query(after="1311111111111111208"),
    )
    connector = bot()
    first = connector.fetch_inbox(None)
    second = connector.fetch_inbox(first.cursor)
    third = connector.fetch_inbox(second.cursor)
    assert [i.remote_id for i in second.items] == [f"{CHANNEL}:1311111111111111208"]
    assert second.cursor == "1311111111111111208"
    assert third == type(third)((), "1311111111111111208")
    ids = [i.remote_id for i in first.items + second.items]
    assert len(ids) == len(set(ids))
    assert len([c for c in rsps.calls if c.request.url.endswith("/users/@me")]) == 1


def test_inbox_catches_up_page_by_page_from_a_cursor(rsps: responses.RequestsMock) -> None:
    def member_message(number: int) -> dict[str, Any]:
        return {
            "id": str(1400000000000000000 + number),
            "type": 0,
            "channel_id": CHANNEL,
            "content": f"message {number}",
            "timestamp": "2026-11-27T10:00:00.000000+00:00",
            "author": {"id": "80351110224678912", "username": "member"},
            "mentions": [],
        }

    full = [member_message(n) for n in range(100, 0, -1)]  # newest first, as Discord sends
    rsps.get(f"{API}/users/@me", json=ME)
    rsps.get(f"{API}/channels/{CHANNEL}/messages", json=full, match=messages_query(after="1399"))
    rsps.get(
        f"{API}/channels/{CHANNEL}/messages",
        json=[member_message(101)],
        match=messages_query(after=str(1400000000000000100)),
    )
    page = bot().fetch_inbox("1399")
    assert len(page.items) == 101
    assert page.items[0].text == "message 1" and page.items[-1].text == "message 101"
    assert page.cursor == str(1400000000000000101)


def test_inbox_of_an_empty_channel_keeps_the_cursor(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/users/@me", json=ME)
    rsps.get(f"{API}/channels/{CHANNEL}/messages", json=[], match=messages_query(after=NEWEST))
    page = bot().fetch_inbox(NEWEST)
    assert page.items == ()
    assert page.cursor == NEWEST


def test_webhook_mode_has_no_inbox() -> None:
    assert Capability.INBOX in bot().capabilities
    assert Capability.INBOX not in webhook().capabilities
    with pytest.raises(Rejected):
        webhook().fetch_inbox(None)


def test_inbox_respects_an_empty_bucket(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/users/@me", json=ME)
    rsps.get(
        f"{API}/channels/{CHANNEL}/messages",
        json=[],
        headers={
            "X-RateLimit-Bucket": "read5678",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": "3",
        },
    )
    connector = bot()
    connector.fetch_inbox(None)
    with pytest.raises(RateLimited):
        connector.fetch_inbox(None)
    assert len(rsps.calls) == 2


def test_inbox_without_read_access_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/users/@me", json=ME)
    rsps.get(
        f"{API}/channels/{CHANNEL}/messages",
        json=fixture("discord", "error_missing_permissions"),
        status=403,
    )
    with pytest.raises(AuthError, match="Read Message History"):
        bot().fetch_inbox(None)


def test_unreadable_users_me_is_transient(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/users/@me", json={"username": "no id"})
    with pytest.raises(Transient):
        bot().fetch_inbox(None)


def test_the_collector_stores_channel_messages_once_across_rounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rsps: responses.RequestsMock
) -> None:
    from sqlmodel import Session, select

    from crosspost.store.models import Interaction
    from tests.connectors.test_telegram import collected, publish_row

    monkeypatch.setenv("DISCORD_BOT_TOKEN", TOKEN)
    config = ["    connector: discord", "    bot_token: ${DISCORD_BOT_TOKEN}"]
    config += [f'    channel_id: "{CHANNEL}"', f'    guild_id: "{GUILD}"']
    store, clock, collector, row_cls = collected(tmp_path, "disc", config)
    ours = f"{CHANNEL}:1311111111111111111"
    pid = publish_row(store, row_cls, "disc", ours, clock() - timedelta(minutes=1))
    rsps.get(f"{API}/guilds/{GUILD}", json=fixture("discord", "guild"))
    rsps.get(f"{API}/users/@me", json=ME)
    url = f"{API}/channels/{CHANNEL}/messages"
    rsps.get(url, json=fixture("discord", "inbox_messages"), match=messages_query())
    # The page after the cursor is empty in round 1 and has one new message in round 2.
    rsps.get(url, json=[], match=messages_query(after=NEWEST))
    later = fixture("discord", "inbox_messages_later")
    rsps.get(url, json=later, match=messages_query(after=NEWEST))
    rsps.get(url, json=[], match=messages_query(after="1311111111111111208"))
    assert collector.run_due().accounts[0].interactions == 5
    clock.advance(timedelta(minutes=6))
    assert [a.interactions for a in collector.run_due().accounts] == [1]
    with Session(store.engine) as session:
        stored = {i.remote_id: i.publication_id for i in session.exec(select(Interaction))}
    assert len(stored) == 6
    assert stored[f"{CHANNEL}:1311111111111111205"] == pid
    assert stored[f"{CHANNEL}:1311111111111111207"] is None  # replies to a post not recorded
