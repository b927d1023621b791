"""Ghost connector: the admin token, where each article field goes, email, reading back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pydantic
import pytest
import requests
import responses
import time_machine
from responses import matchers

from connectors.base import (
    ArticleFields,
    AuthError,
    Cover,
    RateLimited,
    Rejected,
    RenderedPost,
    Unknown,
)
from connectors.ghost import GhostConnector
from tests.contract.harness import fixture

SITE = "https://blog.makerspace.example"
ADMIN = f"{SITE}/ghost/api/admin"
KEY_ID = "6489b0c0ffee0000000a1b2c"
SECRET = "5b2a" * 16
KEY = f"{KEY_ID}:{SECRET}"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
CANONICAL = "https://makerspace.example/blog/laser-cutter"
HTML = "<p>In October our laser cutter stopped cutting.</p>\n<h2>What we did</h2>"
ARTICLE = RenderedPost(
    parts=(HTML,),
    content_id="laser-cutter",
    title="How we brought the laser cutter back to life",
    article=ArticleFields(
        summary="Six weekends, one new tube. " * 15,
        canonical_url=CANONICAL,
        cover=Cover(alt="The cutter", url="https://makerspace.example/laser.jpg"),
        tags=("makerspace", "laser cutter", "makerspace"),
    ),
)


def make(**overrides: Any) -> GhostConnector:
    values: dict[str, Any] = {"url": SITE, "admin_api_key": KEY, **overrides}
    return GhostConnector("blog", GhostConnector.Settings.model_validate(values))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def sent_json(call: Any) -> Any:
    return json.loads(call.request.body)


def token_of(call: Any) -> dict[str, Any]:
    scheme, _, token = call.request.headers["Authorization"].partition(" ")
    assert scheme == "Ghost"
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "kid": KEY_ID, "typ": "JWT"}
    claims: dict[str, Any] = jwt.decode(
        token,
        bytes.fromhex(SECRET),
        algorithms=["HS256"],
        audience="/admin/",
        options={"verify_exp": False},
    )
    return claims


# --------------------------------------------------------------------------- settings

VALID_SETTINGS = [
    {"url": SITE, "admin_api_key": KEY},
    {"url": f"{SITE}/", "admin_api_key": KEY.upper(), "status": "draft"},
    {"url": "https://example.org/blog", "admin_api_key": KEY, "newsletter": "weekly"},
    {"url": "http://localhost:2368", "admin_api_key": KEY, "email_segment": "status:-free"},
]
INVALID_SETTINGS = [
    ({"url": SITE}, "admin_api_key"),
    ({"url": SITE, "admin_api_key": "not-a-key"}, "admin_api_key"),
    ({"url": SITE, "admin_api_key": f"{KEY_ID}:abc"}, "admin_api_key"),
    ({"url": "http://blog.example.org", "admin_api_key": KEY}, "url"),
    ({"url": SITE, "admin_api_key": KEY, "status": "scheduled"}, "status"),
    ({"url": SITE, "admin_api_key": KEY, "newsletter": "Weekly News"}, "newsletter"),
]


@pytest.mark.parametrize("values", VALID_SETTINGS)
def test_valid_settings(values: dict[str, Any]) -> None:
    GhostConnector.Settings.model_validate(values)


@pytest.mark.parametrize(("values", "field"), INVALID_SETTINGS)
def test_invalid_settings_name_the_field_and_hide_the_key(
    values: dict[str, Any], field: str
) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        GhostConnector.Settings.model_validate(values)
    assert field in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_site_under_a_path_keeps_it() -> None:
    connector = make(url="https://example.org/blog/")
    assert connector.http.url("/posts/") == "https://example.org/blog/ghost/api/admin/posts/"


# --------------------------------------------------------------------------- the token


def test_each_request_carries_a_five_minute_admin_token(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{ADMIN}/posts/",
        json=fixture("ghost", "post_created"),
        status=201,
        match=[matchers.header_matcher({"Accept-Version": "v5.0"})],
    )
    with time_machine.travel(NOW, tick=False):
        make().publish(ARTICLE, "k1")
    claims = token_of(rsps.calls[0])
    assert claims == {
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 300,
        "aud": "/admin/",
    }


def test_the_token_is_renewed_before_it_expires_and_never_shown(
    rsps: responses.RequestsMock,
) -> None:
    for _ in range(3):
        rsps.delete(f"{ADMIN}/posts/a1/", status=204)
    connector = make()
    with time_machine.travel(NOW, tick=False):
        connector.delete("a1")
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        connector.delete("a1")
    with time_machine.travel(NOW + timedelta(minutes=4, seconds=1), tick=False):
        connector.delete("a1")
    issued = [token_of(call)["iat"] - int(NOW.timestamp()) for call in rsps.calls]
    assert issued == [0, 0, 241]
    last = rsps.calls[2].request.headers["Authorization"].split()[1]
    first = rsps.calls[0].request.headers["Authorization"].split()[1]
    assert connector.http.redact(f"a {last} b") == "a *** b"
    assert connector.http.redact(first) == first  # an expired token is no longer tracked


# --------------------------------------------------------------------------- publishing


def test_an_article_sends_html_tags_excerpt_cover_and_canonical(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(
        f"{ADMIN}/posts/",
        json=fixture("ghost", "post_created"),
        status=201,
        match=[matchers.query_param_matcher({"source": "html"})],
    )
    make().publish(ARTICLE, "k1")
    (post,) = sent_json(rsps.calls[0])["posts"]
    excerpt = post.pop("custom_excerpt")
    assert post == {
        "title": "How we brought the laser cutter back to life",
        "html": HTML,
        "status": "published",
        "tags": [{"name": "makerspace"}, {"name": "laser cutter"}],
        "canonical_url": CANONICAL,
        "feature_image": "https://makerspace.example/laser.jpg",
        "feature_image_alt": "The cutter",
    }
    assert len(excerpt) == 300 and excerpt.endswith("…")  # Ghost's limit


def test_a_cover_file_is_uploaded_first(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    image = tmp_path / "laser-cutter.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    rsps.post(f"{ADMIN}/images/upload/", json=fixture("ghost", "image_uploaded"), status=201)
    rsps.post(f"{ADMIN}/posts/", json=fixture("ghost", "post_created"), status=201)
    post = RenderedPost(
        parts=("<p>x</p>",),
        title="T",
        article=ArticleFields(cover=Cover(alt="Lid open", path=image, mime_type="image/png")),
    )
    make().publish(post, "k1")
    upload = rsps.calls[0].request
    assert b'name="file"; filename="laser-cutter.png"' in upload.body
    assert b'name="ref"' in upload.body
    (sent,) = sent_json(rsps.calls[1])["posts"]
    assert sent["feature_image"] == (
        "https://blog.makerspace.example/content/images/2026/11/laser-cutter.png"
    )
    assert sent["feature_image_alt"] == "Lid open"


def test_a_newsletter_emails_the_post_to_its_segment(rsps: responses.RequestsMock) -> None:
    query = {"source": "html", "newsletter": "weekly", "email_segment": "status:free"}
    rsps.post(
        f"{ADMIN}/posts/",
        json=fixture("ghost", "post_created"),
        status=201,
        match=[matchers.query_param_matcher(query)],
    )
    make(newsletter="weekly", email_segment="status:free").publish(ARTICLE, "k1")


def test_a_draft_is_never_emailed(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{ADMIN}/posts/",
        json=fixture("ghost", "post_created"),
        status=201,
        match=[matchers.query_param_matcher({"source": "html"})],
    )
    make(newsletter="weekly", status="draft").publish(ARTICLE, "k1")
    assert sent_json(rsps.calls[0])["posts"][0]["status"] == "draft"


def test_options_schedule_a_post_for_members(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{ADMIN}/posts/", json=fixture("ghost", "post_created"), status=201)
    options = {
        "status": "scheduled",
        "published_at": "2026-12-01T09:00:00Z",
        "visibility": "members",
        "newsletter": "weekly",
    }
    post = RenderedPost(parts=("<p>Soon</p>",), title="Soon", options=options)
    make().publish(post, "k1")
    (sent,) = sent_json(rsps.calls[0])["posts"]
    assert (sent["status"], sent["published_at"], sent["visibility"]) == (
        "scheduled",
        "2026-12-01T09:00:00Z",
        "members",
    )
    assert "newsletter=weekly" in rsps.calls[0].request.url


def test_checks_before_sending() -> None:
    connector = make()
    assert connector.check(RenderedPost(parts=("x",), title="t" * 256)) == [
        "title is longer than 255 characters (Ghost's limit)"
    ]
    bad = RenderedPost(parts=("x",), title="T", options={"status": "live", "visibility": "all"})
    assert connector.check(bad) == [
        "status 'live' is not one of draft, published, scheduled",
        "visibility 'all' is not one of members, paid, public, tiers",
    ]
    unscheduled = RenderedPost(parts=("x",), title="T", options={"status": "scheduled"})
    assert connector.check(unscheduled) == ["status scheduled needs published_at: an ISO 8601 time"]


def test_a_post_without_title_is_titled_by_its_first_visible_line(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{ADMIN}/posts/", json=fixture("ghost", "post_created"), status=201)
    make().publish(RenderedPost(parts=("<p><b>Big</b> news</p>\n<p>More</p>",)), "k1")
    assert sent_json(rsps.calls[0])["posts"][0]["title"] == "Big news"


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (401, "error_unauthorized", AuthError, "Authorization failed"),
        (422, "error_validation", Rejected, "exceeds maximum length of 255 characters"),
        (500, None, Unknown, "platform error"),
    ],
)
def test_refusals_say_what_ghost_said(
    rsps: responses.RequestsMock, status: int, body: str | None, error: type, words: str
) -> None:
    answer = fixture("ghost", body) if body else {"errors": [{"message": "Internal"}]}
    rsps.post(f"{ADMIN}/posts/", json=answer, status=status)
    with pytest.raises(error) as caught:
        make().publish(ARTICLE, "k1")
    assert words in str(caught.value)
    assert SECRET not in str(caught.value)


def test_rate_limit_says_when(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{ADMIN}/posts/",
        json=fixture("ghost", "error_too_many"),
        status=429,
        headers={"Retry-After": "60"},
    )
    with pytest.raises(RateLimited):
        make().publish(ARTICLE, "k1")


# --------------------------------------------------------------------------- reading back


def test_a_lost_answer_is_found_again_by_title_and_canonical_url(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{ADMIN}/posts/", body=requests.ReadTimeout("read timed out"))
    rsps.get(f"{ADMIN}/posts/", json=fixture("ghost", "posts_recent"))
    connector = make()
    with pytest.raises(Unknown):
        connector.publish(ARTICLE, "k1")
    found = connector.find_recent("k1", HTML)
    assert found is not None and found.remote_id == "6745a1f3c2b9d80001e4a7c1"
    assert found.url == f"{SITE}/how-we-brought-the-laser-cutter-back-to-life/"


def test_another_process_finds_the_post_by_what_a_reader_sees(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        f"{ADMIN}/posts/",
        json=fixture("ghost", "posts_recent"),
        match=[
            matchers.query_param_matcher(
                {"limit": "25", "order": "created_at desc, id desc", "formats": "html"}
            )
        ],
    )
    rsps.get(f"{ADMIN}/posts/", json=fixture("ghost", "posts_recent"))
    connector = make()
    # Ghost rewrote <b> as <strong> and added heading ids: the words are the same
    html = (
        "<p>In October our laser cutter stopped cutting.</p>\n<h2>What we did</h2>\n"
        "<p>We replaced the <b>tube</b>.</p>"
    )
    found = connector.find_recent("k9", html)
    assert found is not None and found.remote_id == "6745a1f3c2b9d80001e4a7c1"
    assert connector.find_recent("k9", "<p>Never sent</p>") is None


def test_metrics_keep_the_email_figures_and_count_no_reactions(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        f"{ADMIN}/posts/6745a1f3c2b9d80001e4a7c1/",
        json=fixture("ghost", "post_emailed"),
        match=[matchers.query_param_matcher({"include": "email"})],
    )
    (metrics,) = make().fetch_metrics(["6745a1f3c2b9d80001e4a7c1"]).values()
    assert (metrics.likes, metrics.views, metrics.replies) == (None, None, None)
    assert metrics.raw == {
        "email_count": 412,
        "delivered_count": 409,
        "opened_count": 188,
        "failed_count": 3,
    }


def test_members_are_the_audience(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{ADMIN}/members/",
        json=fixture("ghost", "members_page"),
        match=[matchers.query_param_matcher({"limit": "1", "fields": "id"})],
    )
    rsps.get(
        f"{ADMIN}/posts/",
        json=fixture("ghost", "posts_total"),
        match=[
            matchers.query_param_matcher(
                {"limit": "1", "fields": "id", "filter": "status:published"}
            )
        ],
    )
    figures = make().account_metrics()
    assert (figures.followers, figures.members, figures.posts) == (412, 412, 57)


def test_retract_deletes_and_a_gone_post_is_deleted(rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{ADMIN}/posts/a1/", status=204)
    rsps.delete(f"{ADMIN}/posts/a2/", json=fixture("ghost", "error_not_found"), status=404)
    make().delete("a1")
    make().delete("a2")
