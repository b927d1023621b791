"""Reddit connector: the sign-in, what goes where in /api/submit, the envelope, reading back."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pydantic
import pytest
import requests
import responses
from responses import matchers

from connectors.base import (
    AuthError,
    MediaItem,
    MemoryState,
    Poll,
    RateLimited,
    Rejected,
    RenderedPost,
    Unknown,
)
from connectors.http import crosspost_version
from connectors.reddit import RedditConnector
from connectors.reddit.answers import Message, parse_all, things
from crosspost.rendering.markdown_forms import TextFormat, form_of
from tests.contract.harness import fixture
from tests.fakes import run_in

API = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
CLIENT_ID = "p-jcoLKBynTLew"
SECRET = "reddit-app-secret-7Qm2"
PASSWORD = "reddit-password-Lk93"
TOKEN = "2182133-reddit-test-token-Xb9Q"
#: The day of the fixtures' posts: 2025-11-26 10:00 UTC.
NOW = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)
KEY = "crosspost-0123456789abcdef"
SETTINGS: dict[str, Any] = {
    "client_id": CLIENT_ID,
    "client_secret": SECRET,
    "username": "club_bot",
    "password": PASSWORD,
    "subreddit": "pythonclub",
}
BEARER = matchers.header_matcher({"Authorization": f"bearer {TOKEN}"})


def make(state: MemoryState | None = None, **overrides: Any) -> RedditConnector:
    settings = RedditConnector.Settings.model_validate({**SETTINGS, **overrides})
    connector = RedditConnector("club-reddit", settings, state)
    connector.http.clock = lambda: NOW
    return connector


def post(text: str = "We open the doors at 10:00.", **fields: Any) -> RenderedPost:
    values: dict[str, Any] = {"title": "Launch day at the Python club", "content_id": "launch"}
    return RenderedPost(parts=(text,), **{**values, **fields})


def sign_in(rsps: responses.RequestsMock, body: str = "access_token", status: int = 200) -> None:
    rsps.post(TOKEN_URL, json=fixture("reddit", body), status=status)


def submit(rsps: responses.RequestsMock, body: str = "submit", **kwargs: Any) -> None:
    rsps.post(f"{API}/api/submit", json=fixture("reddit", body), **kwargs)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


# --------------------------------------------------------------------------- settings

VALID_SETTINGS = [
    ({}, "pythonclub"),
    ({"subreddit": "r/pythonclub"}, "pythonclub"),
    ({"subreddit": "/r/Python_Club/"}, "Python_Club"),
    ({"username": "/u/club_bot", "kind": "link", "flair_id": "a1b2", "flair_text": "News"}, None),
    ({"subscribers": True, "ignore_media": True, "app_name": "club.bot-2"}, None),
]
INVALID_SETTINGS = [
    ({"client_secret": None}, "client_secret"),
    ({"subreddit": "not a sub!"}, "subreddit"),
    ({"subreddit": "r/" + "x" * 22}, "subreddit"),
    ({"username": "ab"}, "username"),
    ({"password": "   "}, "password"),
    ({"kind": "image"}, "kind"),
    ({"flair_text": "x" * 65}, "flair_text"),
    ({"app_name": "my app"}, "app_name"),
    ({"subredit": "typo"}, "subredit"),
]


@pytest.mark.parametrize(("changes", "subreddit"), VALID_SETTINGS)
def test_valid_settings(changes: dict[str, Any], subreddit: str | None) -> None:
    settings = RedditConnector.Settings.model_validate({**SETTINGS, **changes})
    if subreddit:
        assert settings.subreddit == subreddit
    assert settings.username == "club_bot"


@pytest.mark.parametrize(("changes", "field"), INVALID_SETTINGS)
def test_invalid_settings_name_the_field_and_never_the_password(
    changes: dict[str, Any], field: str
) -> None:
    values = {k: v for k, v in {**SETTINGS, **changes}.items() if v is not None}
    with pytest.raises(pydantic.ValidationError) as caught:
        RedditConnector.Settings.model_validate(values)
    assert field in str(caught.value)
    assert PASSWORD not in str(caught.value) and SECRET not in str(caught.value)


def test_user_agent_is_the_form_reddit_asks_for(rsps: responses.RequestsMock) -> None:
    agent = f"python:crosspost:{crosspost_version()} (by /u/club_bot)"
    rsps.post(TOKEN_URL, json=fixture("reddit", "access_token"), match=[_agent(agent)])
    submit(rsps, match=[_agent(agent), BEARER])
    make().publish(post(), KEY)


def _agent(agent: str) -> Any:
    return matchers.header_matcher({"User-Agent": agent})


def test_markdown_goes_as_written() -> None:
    assert form_of(make()).format is TextFormat.MARKDOWN


# --------------------------------------------------------------------------- the sign-in


def test_sign_in_is_the_password_grant_with_the_app_as_basic_auth(
    rsps: responses.RequestsMock,
) -> None:
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    form = {"grant_type": "password", "username": "club_bot", "password": PASSWORD}
    rsps.post(
        TOKEN_URL,
        json=fixture("reddit", "access_token"),
        match=[
            matchers.urlencoded_params_matcher(form),
            matchers.header_matcher({"Authorization": f"Basic {basic}"}),
        ],
    )
    submit(rsps, match=[BEARER])
    make().publish(post(), KEY)


def test_the_token_is_kept_and_used_by_the_next_run(rsps: responses.RequestsMock) -> None:
    state = MemoryState()
    sign_in(rsps)
    submit(rsps, match=[BEARER])
    make(state).publish(post(), KEY)
    assert state.load()["expires_at"] == (NOW + timedelta(seconds=86400)).isoformat()
    make(state).publish(post(), KEY + "-again")  # no second sign-in
    assert [c.request.url for c in rsps.calls].count(TOKEN_URL) == 1


@pytest.mark.parametrize(
    ("later", "changes"),
    [
        (timedelta(hours=23, minutes=59), {}),  # about to expire: renewed before use
        (timedelta(0), {"password": "a-new-password-99"}),  # saved for another password
    ],
)
def test_a_saved_token_that_will_not_do_is_renewed(
    rsps: responses.RequestsMock, later: timedelta, changes: dict[str, Any]
) -> None:
    state = MemoryState()
    sign_in(rsps)
    submit(rsps)
    make(state).publish(post(), KEY)
    next_run = make(state, **changes)
    next_run.http.clock = lambda: NOW + later
    next_run.publish(post(), KEY + "-later")
    assert [c.request.url for c in rsps.calls].count(TOKEN_URL) == 2


def test_a_refused_token_is_renewed_once_and_the_call_made_again(
    rsps: responses.RequestsMock,
) -> None:
    sign_in(rsps)
    rsps.post(f"{API}/api/submit", json=fixture("reddit", "error_unauthorized"), status=401)
    submit(rsps)
    published = make().publish(post(), KEY)
    assert published.remote_id == "t3_1kh35wk"
    assert [c.request.url for c in rsps.calls].count(TOKEN_URL) == 2


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ("access_token_invalid_grant", 200, ["invalid_grant", "username or password"]),
        ("access_token_not_script", 200, ["Only script apps may use password auth"]),
        ("error_unauthorized", 401, ["client_id or client_secret"]),
    ],
)
def test_a_refused_sign_in_is_an_auth_error(
    rsps: responses.RequestsMock, body: str, status: int, words: list[str]
) -> None:
    sign_in(rsps, body, status)
    with pytest.raises(AuthError) as caught:
        make().publish(post(), KEY)
    for word in words:
        assert word in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_the_token_never_shows_in_logs_or_errors(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sign_in(rsps)
    submit(rsps, body="submit_user_required")
    connector = make()
    with pytest.raises(AuthError) as caught:
        connector.publish(post(), KEY)
    shown = caplog.text + str(caught.value) + repr(connector) + repr(connector.settings)
    for secret in (TOKEN, PASSWORD, SECRET):
        assert secret not in shown


# --------------------------------------------------------------------------- the submission


def _form(**changes: str) -> dict[str, str]:
    form = {
        "api_type": "json",
        "sr": "pythonclub",
        "kind": "self",
        "title": "Launch day at the Python club",
        "text": "We open the doors at 10:00.",
        "sendreplies": "true",
        "nsfw": "false",
        "spoiler": "false",
        "resubmit": "false",
    }
    return {k: v for k, v in {**form, **changes}.items() if v}


@pytest.mark.parametrize(
    ("settings", "rendered", "form"),
    [
        ({}, post(), _form()),
        ({}, post(title="  Launch\n day  "), _form(title="Launch day")),
        ({}, post(""), _form(text="")),
        ({}, post(content_warning="food"), _form(spoiler="true")),
        (
            {"kind": "link", "nsfw": True, "send_replies": False},
            post(link="https://club.example.org/launch?utm_source=reddit"),
            _form(
                kind="link",
                url="https://club.example.org/launch?utm_source=reddit",
                nsfw="true",
                sendreplies="false",
            ),
        ),
        (
            {"flair_id": "a1b2", "flair_text": "News"},
            post(options={"flair_text": "Event", "resubmit": True}),
            _form(flair_id="a1b2", flair_text="Event", resubmit="true"),
        ),
        (
            {"kind": "link"},
            post(options={"kind": "self"}, link="https://club.example.org/"),
            _form(),
        ),
    ],
)
def test_what_goes_in_the_submission(
    rsps: responses.RequestsMock,
    settings: dict[str, Any],
    rendered: RenderedPost,
    form: dict[str, str],
) -> None:
    sign_in(rsps)
    submit(
        rsps,
        match=[
            matchers.urlencoded_params_matcher(form),
            matchers.query_param_matcher({"raw_json": "1"}),
        ],
    )
    published = make(**settings).publish(rendered, KEY)
    assert published.published_at == NOW


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        (
            "submit_already_sub",
            Rejected,
            ["ALREADY_SUB", "already been submitted", "resubmit: true"],
        ),
        ("submit_noexist", Rejected, ["SUBREDDIT_NOEXIST", "check the account's subreddit"]),
        ("submit_no_selfs", Rejected, ["NO_SELFS", "use kind: link"]),
        ("submit_no_links", Rejected, ["NO_LINKS", "use kind: self"]),
        ("submit_too_long", Rejected, ["TOO_LONG", "40000", "(text)"]),
        ("submit_flair_required", Rejected, ["must contain post flair", "set flair_id"]),
        ("submit_user_required", AuthError, ["USER_REQUIRED", "Please log in"]),
    ],
)
def test_reddit_refusals_in_an_http_200(
    rsps: responses.RequestsMock, body: str, error: type[Exception], words: list[str]
) -> None:
    sign_in(rsps)
    submit(rsps, body=body)
    with pytest.raises(error) as caught:
        make().publish(post(), KEY)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("body", "seconds"),
    [("submit_ratelimit", 8 * 60), ("submit_ratelimit_seconds", 7)],
)
def test_ratelimit_comes_back_after_the_time_reddit_names(
    rsps: responses.RequestsMock, body: str, seconds: int
) -> None:
    sign_in(rsps)
    submit(rsps, body=body)
    with pytest.raises(RateLimited) as caught:
        make().publish(post(), KEY)
    assert caught.value.retry_at == NOW + timedelta(seconds=seconds)
    assert "try again in" in str(caught.value).lower()


def test_newer_refusals_name_the_reason_and_the_field(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    submit(rsps, body="error_reason", status=400)
    with pytest.raises(Rejected) as caught:
        make().publish(post(), KEY)
    assert caught.value.reason == "TOO_LONG: this is too long (max: 300) (title)"


@pytest.mark.parametrize(
    "answer",
    [{"json": {"errors": []}}, {"json": {"errors": [], "data": {"drafts_count": 0}}}],
)
def test_an_answer_without_the_post_may_still_have_posted(
    rsps: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    sign_in(rsps)
    rsps.post(f"{API}/api/submit", json=answer)
    with pytest.raises(Unknown):
        make().publish(post(), KEY)


def test_a_cdn_error_page_is_one_line_and_unknown(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    page = "<!doctype html><html><body>Our CDN was unable to reach our servers</body></html>"
    rsps.post(f"{API}/api/submit", body=page, status=503, content_type="text/html")
    with pytest.raises(Unknown) as caught:
        make().publish(post(), KEY)
    assert "HTML page" in str(caught.value) and "<body>" not in str(caught.value)


def test_a_spent_request_budget_refuses_before_sending(rsps: responses.RequestsMock) -> None:
    spent = {"X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "120", "X-Ratelimit-Used": "600"}
    sign_in(rsps)
    submit(rsps, headers=spent)
    connector = make()
    connector.publish(post(), KEY)
    with pytest.raises(RateLimited) as caught:
        connector.publish(post(), KEY + "-2")
    assert caught.value.retry_at == NOW + timedelta(seconds=120)
    assert len(rsps.calls) == 2  # the token and the first submission only
    connector.http.clock = lambda: NOW + timedelta(seconds=121)
    connector.publish(post(), KEY + "-3")


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("rendered", "problem"),
    [
        (post(title=""), "a Reddit post needs a title"),
        (post(title="t" * 301), "title is 301 characters long (at most 300 on reddit)"),
        (post("x" * 40_001), "text is 40001 characters long (at most 40000 on reddit)"),
        (post(media=(MediaItem(Path("cat.png"), "A cat"),)), "reddit takes no media here"),
        (post(poll=Poll(("Yes", "No"))), "reddit has no polls"),
        (post(options={"flare": "x"}), "unknown reddit option 'flare'"),
        (post(options={"nsfw": "yes"}), "nsfw must be true or false"),
        (post(options={"flair_id": 3}), "flair_id must be text"),
        (post(options={"kind": "video"}), "kind must be self or link"),
        (post(options={"kind": "link"}), "a reddit link post needs a link"),
        (RenderedPost(parts=("a", "b"), title="T"), "reddit cannot publish threads"),
    ],
)
def test_what_check_refuses(rendered: RenderedPost, problem: str) -> None:
    problems = make().check(rendered)
    assert any(problem in found for found in problems), problems


def test_what_check_accepts() -> None:
    assert make().check(post("x" * 40_000, title="t" * 300)) == []
    with_media = post(media=(MediaItem(Path("cat.png"), "A cat"),))
    assert make(ignore_media=True).check(with_media) == []


def test_length_is_code_points() -> None:
    connector = make()
    assert connector.measure("👍") == 1
    assert connector.measure("e\u0301") == 2


def test_a_check_failure_sends_nothing(rsps: responses.RequestsMock) -> None:
    with pytest.raises(Rejected):
        make().publish(post(title=""), KEY)
    assert len(rsps.calls) == 0


def test_check_names_the_entry_line_for_content_without_a_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDDIT_SECRET", SECRET)
    monkeypatch.setenv("REDDIT_PASSWORD", PASSWORD)
    (tmp_path / "schedule.yaml").write_text(
        "accounts:\n"
        "  club-reddit:\n"
        "    connector: reddit\n"
        f"    client_id: {CLIENT_ID}\n"
        "    client_secret: ${REDDIT_SECRET}\n"
        "    username: club_bot\n"
        "    password: ${REDDIT_PASSWORD}\n"
        "    subreddit: pythonclub\n"
        "content:\n"
        "  - id: note\n"
        "    body: A **note** without a title.\n"
        "posts:\n"
        "  - id: notes\n"
        "    content: note\n"
        "    to: club-reddit\n"
        "    every: 1d\n",
        encoding="utf-8",
    )
    result = run_in(tmp_path, "check")
    assert result.exit_code != 0
    assert "schedule.yaml:13:" in result.output
    assert "a Reddit post needs a title" in result.output


# --------------------------------------------------------------------------- reading back


def test_metrics_are_asked_100_at_a_time(rsps: responses.RequestsMock) -> None:
    names = [f"t3_{n:06d}" for n in range(150)]
    sign_in(rsps)
    for batch in (names[:100], names[100:]):
        query = {"id": ",".join(batch), "raw_json": "1"}
        rsps.get(f"{API}/api/info", json=fixture("reddit", "info"), match=[_query(query)])
    assert make().fetch_metrics(names) == {}


def _query(query: dict[str, str]) -> Any:
    return matchers.query_param_matcher(query)


def test_metrics_under_the_ids_asked_for(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    rsps.get(
        f"{API}/api/info",
        json=fixture("reddit", "info"),
        match=[_query({"id": "t3_1kh35wk,t3_1kh2zzz", "raw_json": "1"})],
    )
    got = make().fetch_metrics(["1kh35wk", "t3_1kh2zzz"])
    assert set(got) == {"1kh35wk", "t3_1kh2zzz"}
    assert got["1kh35wk"].likes == 42 and got["1kh35wk"].views is None
    assert got["1kh35wk"].raw["upvote_ratio"] == 0.96


def test_account_metrics_are_the_users_followers_and_karma(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    rsps.get(f"{API}/api/v1/me", json=fixture("reddit", "me"))
    got = make().account_metrics()
    assert got.followers == 38
    assert got.raw == {
        "link_karma": 1204,
        "comment_karma": 373,
        "total_karma": 1577,
        "profile_followers": 38,
    }


def test_subscribers_of_the_subreddit_as_followers(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    rsps.get(f"{API}/api/v1/me", json=fixture("reddit", "me"))
    rsps.get(f"{API}/r/pythonclub/about", json=fixture("reddit", "about"))
    got = make(subscribers=True).account_metrics()
    assert got.followers == 4821
    assert got.raw["subreddit_subscribers"] == 4821 and got.raw["total_karma"] == 1577


SUBMITTED_TEXT = "We open the doors at 10:00.\n\nhttps://club.example.org/launch"


def test_an_uncertain_submission_is_found_by_title_and_subreddit(
    rsps: responses.RequestsMock,
) -> None:
    sign_in(rsps)
    rsps.post(f"{API}/api/submit", body=requests.ReadTimeout("read timed out"))
    rsps.get(
        f"{API}/user/club_bot/submitted",
        json=fixture("reddit", "submitted"),
        match=[_query({"limit": "25", "sort": "new", "raw_json": "1"})],
    )
    connector = make()
    with pytest.raises(Unknown):
        connector.publish(post(SUBMITTED_TEXT), KEY)
    found = connector.find_recent(KEY, SUBMITTED_TEXT)
    assert found is not None and found.remote_id == "t3_1kh35wk"
    assert found.url == (
        "https://www.reddit.com/r/pythonclub/comments/1kh35wk/launch_day_at_the_python_club/"
    )
    assert found.published_at == datetime(2025, 11, 26, 10, 0, 3, tzinfo=UTC)


def test_a_link_attempt_is_found_by_its_url(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    rsps.post(f"{API}/api/submit", body=requests.ConnectionError("connection reset"))
    rsps.get(f"{API}/user/club_bot/submitted", json=fixture("reddit", "submitted"))
    connector = make(kind="link")
    notes = post("", title="Release notes", link="https://club.example.org/release")
    connector.http.clock = lambda: NOW - timedelta(minutes=1)
    with pytest.raises(Unknown):
        connector.publish(notes, KEY)
    found = connector.find_recent(KEY, "")
    assert found is not None and found.remote_id == "t3_1kh30bb"
    assert found.extra["kind"] == "link"


@pytest.mark.parametrize(
    ("text", "now", "found"),
    [
        (SUBMITTED_TEXT, NOW, "t3_1kh35wk"),
        ("  We open the doors\nat 10:00.  https://club.example.org/launch ", NOW, "t3_1kh35wk"),
        ("Some other text", NOW, None),
        ("", NOW, None),
        (SUBMITTED_TEXT, NOW + timedelta(days=3), None),
    ],
)
def test_without_a_record_of_the_attempt_the_text_must_match(
    rsps: responses.RequestsMock, text: str, now: datetime, found: str | None
) -> None:
    sign_in(rsps)
    rsps.get(f"{API}/user/club_bot/submitted", json=fixture("reddit", "submitted"))
    connector = make()
    connector.http.clock = lambda: now
    result = connector.find_recent("crosspost-from-another-run", text)
    assert (result.remote_id if result else None) == found


def test_the_inbox_holds_replies_and_mentions_by_members(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    rsps.get(
        f"{API}/message/inbox",
        json=fixture("reddit", "inbox"),
        match=[_query({"limit": "100", "mark": "false", "raw_json": "1"})],
    )
    page = make().fetch_inbox(None)
    assert page.cursor == "1764152000"
    got = [(i.remote_id, i.kind, i.author, i.in_reply_to) for i in page.items]
    assert got == [
        ("t1_myngt77", "reply", "u/ann_reader", "t3_1kh35wk"),
        ("t1_mynm218", "reply", "u/bob_dev", "t1_mynaaa1"),
        ("t1_ekftbox", "mention", "u/cara", "t3_1kh00aa"),
    ]
    first = page.items[0]
    assert first.text == "Congratulations, see you there!"
    assert first.created_at == datetime.fromtimestamp(1764152000, UTC)
    assert first.url == (
        "https://www.reddit.com/r/pythonclub/comments/1kh35wk/"
        "launch_day_at_the_python_club/myngt77/?context=3"
    )


def test_the_inbox_from_a_cursor_pages_back_to_it(rsps: responses.RequestsMock) -> None:
    newer = fixture("reddit", "inbox")
    newer["data"]["after"] = "t1_ekftbox"
    sign_in(rsps)
    rsps.get(
        f"{API}/message/inbox",
        json=newer,
        match=[_query({"limit": "100", "mark": "false", "raw_json": "1"})],
    )
    rsps.get(
        f"{API}/message/inbox",
        json=fixture("reddit", "inbox"),
        match=[_query({"limit": "100", "mark": "false", "raw_json": "1", "after": "t1_ekftbox"})],
    )
    page = make().fetch_inbox("1764151000")
    assert page.cursor == "1764152000"
    assert len(page.items) == 6  # both pages; the store keeps each remote id once


def test_the_inbox_stops_at_the_cursor(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    rsps.get(f"{API}/message/inbox", json=fixture("reddit", "inbox"))
    page = make().fetch_inbox("1764151800")
    assert [i.remote_id for i in page.items] == ["t1_myngt77", "t1_mynm218"]
    assert page.cursor == "1764152000"


# --------------------------------------------------------------------------- comment and delete


def expect_comment(rsps: responses.RequestsMock, thing_id: str, text: str) -> None:
    """Sign in, then a comment with exactly this form (Reddit's answer from the fixture)."""
    sign_in(rsps)
    form = {"api_type": "json", "thing_id": thing_id, "text": text}
    rsps.post(
        f"{API}/api/comment",
        json=fixture("reddit", "comment"),
        match=[matchers.urlencoded_params_matcher(form), BEARER],
    )


def test_comment_goes_under_the_post(rsps: responses.RequestsMock) -> None:
    expect_comment(rsps, "t3_1kh35wk", "Links and slides")
    published = make().comment("1kh35wk", "Links and slides")
    assert published.remote_id == "t1_mz0abcd"
    assert published.url == (
        "https://www.reddit.com/r/pythonclub/comments/1kh35wk/launch_day_at_the_python_club/mz0abcd/"
    )
    assert published.extra == {"parent": "t3_1kh35wk"}


@pytest.mark.parametrize(("text", "words"), [("  ", "needs text"), ("x" * 10_001, "at most 10000")])
def test_a_comment_reddit_would_refuse_is_not_sent(
    rsps: responses.RequestsMock, text: str, words: str
) -> None:
    with pytest.raises(Rejected, match=words):
        make().comment("t3_1kh35wk", text)


def test_a_comment_whose_answer_was_lost_may_exist(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    rsps.post(f"{API}/api/comment", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(Unknown):
        make().comment("t3_1kh35wk", "Links and slides")


def test_a_rate_limited_comment(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    rsps.post(f"{API}/api/comment", json=fixture("reddit", "submit_ratelimit"))
    with pytest.raises(RateLimited):
        make().comment("t3_1kh35wk", "Links and slides")


def test_delete_sends_the_fullname(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    rsps.post(
        f"{API}/api/del",
        json=fixture("reddit", "del"),
        match=[matchers.urlencoded_params_matcher({"id": "t3_1kh35wk"}), BEARER],
    )
    make().delete("t3_1kh35wk", {"subreddit": "pythonclub", "kind": "self"})


def test_deleting_someone_elses_post_is_refused(rsps: responses.RequestsMock) -> None:
    sign_in(rsps)
    rsps.post(f"{API}/api/del", json=fixture("reddit", "error_forbidden"), status=403)
    with pytest.raises(AuthError):
        make().delete("t3_1kh35wk")


# --------------------------------------------------------------------------- doctor and replies


def _about(**data: Any) -> dict[str, Any]:
    about = fixture("reddit", "about")
    about["data"].update(data)
    return about


@pytest.mark.parametrize(
    ("settings", "about", "status", "problem"),
    [
        (
            {},
            _about(submission_type="link"),
            200,
            "takes only links, but the account's kind is self",
        ),
        ({"kind": "link"}, _about(submission_type="self"), 200, "takes only text posts"),
        ({}, _about(subreddit_type="restricted", user_is_moderator=False), 200, "is restricted"),
        (
            {},
            {"reason": "private", "message": "Forbidden", "error": 403},
            403,
            "(private, HTTP 403)",
        ),
        ({}, {"message": "Not Found", "error": 404}, 404, "cannot be read (HTTP 404)"),
        ({}, {"kind": "Listing", "data": {"children": []}}, 200, "does not exist"),
    ],
)
def test_doctor_names_what_stops_posting_in_the_subreddit(
    rsps: responses.RequestsMock,
    settings: dict[str, Any],
    about: dict[str, Any],
    status: int,
    problem: str,
) -> None:
    sign_in(rsps)
    rsps.get(f"{API}/api/v1/me", json=fixture("reddit", "me"))
    rsps.get(f"{API}/r/pythonclub/about", json=about, status=status)
    diagnosis = make(**settings).diagnose()
    assert any(problem in found for found in diagnosis.problems), diagnosis.problems


def test_doctor_names_a_suspended_user_and_missing_scopes(rsps: responses.RequestsMock) -> None:
    token = {**fixture("reddit", "access_token"), "scope": "identity submit read"}
    rsps.post(TOKEN_URL, json=token)
    rsps.get(f"{API}/api/v1/me", json={**fixture("reddit", "me"), "is_suspended": True})
    rsps.get(f"{API}/r/pythonclub/about", json=fixture("reddit", "about"))
    diagnosis = make().diagnose()
    assert diagnosis.scopes == ("identity", "read", "submit")
    assert any("suspended" in problem for problem in diagnosis.problems)
    assert any("history scope" in problem for problem in diagnosis.problems)
    assert diagnosis.details["subscribers"] == "4821"


def test_a_reply_is_a_comment_under_the_members_comment(rsps: responses.RequestsMock) -> None:
    expect_comment(rsps, "t1_myngt77", "See you there!")
    connector = make()
    page_item = connector._inbox_item(
        parse_all(Message, things(fixture("reddit", "inbox"), "t1"))[0]
    )
    assert page_item is not None
    answer = RenderedPost(parts=("See you there!",))
    published = connector.reply(page_item, connector.reply_post(page_item, answer), KEY)
    assert published.thread_ids == (published.remote_id,) == ("t1_mz0abcd",)


def test_a_reply_in_parts_is_refused(rsps: responses.RequestsMock) -> None:
    item = make()._inbox_item(parse_all(Message, things(fixture("reddit", "inbox"), "t1"))[0])
    assert item is not None
    with pytest.raises(Rejected, match="one comment"):
        make().reply(item, RenderedPost(parts=("a", "b")), KEY)
