"""WordPress connector: auth, terms by name, the featured image, comments as the inbox."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
import requests
import responses
from responses import matchers

from connectors.base import (
    ArticleFields,
    AuthError,
    Cover,
    Rejected,
    RenderedPost,
    Unknown,
)
from connectors.wordpress import WordPressConnector
from tests.contract.harness import fixture

SITE = "https://blog.makerspace.example"
API = f"{SITE}/wp-json/wp/v2"
PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
BASIC = base64.b64encode(f"makerspace:{PASSWORD}".encode()).decode()
AUTH = matchers.header_matcher({"Authorization": f"Basic {BASIC}"})
HTML = "<p>In October our laser cutter stopped cutting.</p>\n<h2>What we did</h2>"


def make(**overrides: Any) -> WordPressConnector:
    values: dict[str, Any] = {
        "url": SITE,
        "username": "makerspace",
        "application_password": PASSWORD,
        **overrides,
    }
    return WordPressConnector("blog", WordPressConnector.Settings.model_validate(values))


def article(tmp_path: Path | None = None, **fields: Any) -> RenderedPost:
    cover = None
    if tmp_path is not None:
        image = tmp_path / "laser-cutter.png"
        image.write_bytes(b"\x89PNG\r\n\x1a\nfake")
        cover = Cover(alt="Lid open", path=image, mime_type="image/png")
    return RenderedPost(
        parts=(HTML,),
        title="How we brought the laser cutter back to life",
        article=ArticleFields(summary="Six weekends.", cover=cover, **fields),
    )


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def body_of(call: Any) -> Any:
    return json.loads(call.request.body)


# --------------------------------------------------------------------------- settings

VALID_SETTINGS = [
    {"url": SITE, "username": "makerspace", "application_password": PASSWORD},
    {"url": f"{SITE}/", "username": "m", "application_password": "abcdEFGH1234", "status": "draft"},
    {
        "url": "https://example.org/blog",
        "username": "m",
        "application_password": PASSWORD,
        "categories": ["News"],
    },
    {"url": "http://127.0.0.1:8080", "username": "m", "application_password": PASSWORD},
]
INVALID_SETTINGS = [
    ({"url": SITE, "username": "m"}, "application_password"),
    ({"url": SITE, "username": "m", "application_password": "short"}, "application_password"),
    ({"url": "http://blog.example.org", "username": "m", "application_password": PASSWORD}, "url"),
    ({"url": SITE, "username": "", "application_password": PASSWORD}, "username"),
    (
        {"url": SITE, "username": "m", "application_password": PASSWORD, "status": "future"},
        "status",
    ),
]


@pytest.mark.parametrize("values", VALID_SETTINGS)
def test_valid_settings(values: dict[str, Any]) -> None:
    WordPressConnector.Settings.model_validate(values)


@pytest.mark.parametrize(("values", "field"), INVALID_SETTINGS)
def test_invalid_settings_name_the_field_and_hide_the_password(
    values: dict[str, Any], field: str
) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        WordPressConnector.Settings.model_validate(values)
    assert field in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_the_basic_credentials_are_masked_in_every_form() -> None:
    connector = make()
    assert connector.http.redact(f"{PASSWORD} {BASIC}") == "*** ***"


# --------------------------------------------------------------------------- publishing


def test_an_article_is_posted_with_terms_by_name_and_an_uploaded_cover(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    # categories: "News" is found, tags: "makerspace" found, "laser cutter" made
    rsps.get(
        f"{API}/categories",
        json=[{"id": 3, "name": "News"}],
        match=[
            AUTH,
            matchers.query_param_matcher(
                {"search": "News", "per_page": "100", "_fields": "id,name"}
            ),
        ],
    )
    rsps.get(f"{API}/tags", json=fixture("wordpress", "tags_search"))
    rsps.get(f"{API}/tags", json=[])
    rsps.post(
        f"{API}/tags",
        json=fixture("wordpress", "tag_created"),
        status=201,
        match=[matchers.json_params_matcher({"name": "laser cutter"})],
    )
    rsps.post(
        f"{API}/media",
        json=fixture("wordpress", "media_created"),
        status=201,
        match=[
            matchers.header_matcher(
                {
                    "Content-Type": "image/png",
                    "Content-Disposition": 'attachment; filename="laser-cutter.png"',
                }
            )
        ],
    )
    rsps.post(
        f"{API}/media/901",
        json=fixture("wordpress", "media_created"),
        match=[matchers.json_params_matcher({"alt_text": "Lid open"})],
    )
    rsps.post(f"{API}/posts", json=fixture("wordpress", "post_created"), status=201)
    post = article(tmp_path, tags=("makerspace", "laser cutter", "makerspace"))
    published = make(categories=["News"]).publish(post, "k1")
    assert published.remote_id == "4711"
    assert body_of(rsps.calls[-1]) == {
        "title": "How we brought the laser cutter back to life",
        "content": HTML,
        "status": "publish",
        "categories": [3],
        "excerpt": "Six weekends.",
        "tags": [12, 13],
        "featured_media": 901,
    }
    (upload,) = [c for c in rsps.calls if c.request.url == f"{API}/media"]
    assert upload.request.body == b"\x89PNG\r\n\x1a\nfake"


def test_a_term_made_meanwhile_is_used_not_refused(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/tags", json=[])
    rsps.post(f"{API}/tags", json=fixture("wordpress", "error_term_exists"), status=400)
    rsps.post(f"{API}/posts", json=fixture("wordpress", "post_created"), status=201)
    make().publish(article(tags=("repair",)), "k1")
    assert body_of(rsps.calls[-1])["tags"] == [14]


def test_options_file_a_scheduled_post(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/categories", json=[{"id": 5, "name": "Events &amp; Workshops"}])
    rsps.post(f"{API}/posts", json=fixture("wordpress", "post_created"), status=201)
    options = {
        "status": "future",
        "date_gmt": "2026-12-01T09:00:00",
        "categories": ["Events & Workshops"],
    }
    post = RenderedPost(parts=("<p>Soon</p>",), title="Soon", options=options)
    make(categories=["ignored"]).publish(post, "k1")
    assert body_of(rsps.calls[-1]) == {
        "title": "Soon",
        "content": "<p>Soon</p>",
        "status": "future",
        "date_gmt": "2026-12-01T09:00:00",
        "categories": [5],
    }


def test_checks_before_sending() -> None:
    connector = make()
    bad = RenderedPost(parts=("x",), title="T", options={"status": "live", "categories": "News"})
    assert connector.check(bad) == [
        "status 'live' is not one of draft, future, pending, private, publish",
        "categories must be a list of names",
    ]
    assert connector.check(RenderedPost(parts=("x",), options={"status": "future"})) == [
        "status future needs date_gmt: the UTC time to publish at"
    ]
    url_cover = RenderedPost(
        parts=("x",), article=ArticleFields(cover=Cover(url="https://example.org/c.png"))
    )
    assert connector.check(url_cover) == [
        "WordPress takes a featured image only as an upload: add cover.path"
    ]


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (401, "error_cannot_create", AuthError, "not allowed to create posts"),
        (400, "error_invalid_param", Rejected, "Invalid parameter(s): status (rest_invalid_param)"),
        (502, None, Unknown, "platform error"),
    ],
)
def test_refusals_say_what_wordpress_said(
    rsps: responses.RequestsMock, status: int, body: str | None, error: type, words: str
) -> None:
    answer = fixture("wordpress", body) if body else "<html><body>Bad gateway</body></html>"
    if isinstance(answer, str):
        rsps.post(f"{API}/posts", body=answer, status=status, content_type="text/html")
    else:
        rsps.post(f"{API}/posts", json=answer, status=status)
    with pytest.raises(error) as caught:
        make().publish(RenderedPost(parts=("<p>x</p>",), title="T"), "k1")
    assert words in str(caught.value)
    assert PASSWORD not in str(caught.value) and BASIC not in str(caught.value)


# --------------------------------------------------------------------------- reading back


def test_a_lost_answer_is_found_again_by_title_and_text(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/posts", body=requests.ReadTimeout("read timed out"))
    rsps.get(
        f"{API}/posts",
        json=fixture("wordpress", "posts_recent"),
        match=[
            matchers.query_param_matcher(
                {
                    "per_page": "20",
                    "status": "publish,future,draft,pending,private",
                    "context": "edit",
                    "orderby": "date",
                    "order": "desc",
                }
            )
        ],
    )
    connector = make()
    with pytest.raises(Unknown):
        connector.publish(article(), "k1")
    found = connector.find_recent("k1", HTML)
    assert found is not None and found.remote_id == "4715"


def test_another_process_matches_the_text_only(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/posts", json=fixture("wordpress", "posts_recent"))
    rsps.get(f"{API}/posts", json=fixture("wordpress", "posts_recent"))
    connector = make()
    assert connector.find_recent("k9", "<p>Coming soon.</p>") is not None
    assert connector.find_recent("k9", "<p>Never sent</p>") is None


def test_comments_are_the_inbox_newest_seen_kept_own_answers_left_out(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(f"{API}/users/me", json=fixture("wordpress", "users_me"))
    rsps.get(
        f"{API}/comments",
        json=fixture("wordpress", "comments"),
        match=[
            matchers.query_param_matcher(
                {"per_page": "100", "orderby": "date_gmt", "order": "desc", "page": "1"}
            )
        ],
    )
    connector = make()
    page = connector.fetch_inbox(None)
    assert [(i.remote_id, i.author, i.in_reply_to, i.kind) for i in page.items] == [
        ("90", "Bo Solder", "4715", "comment"),
        ("91", "Ann Maker", "4715", "comment"),
    ]
    assert page.items[1].text == "Great work & thanks for the write-up!"
    assert page.items[0].author_id == "7" and page.items[1].author_id is None
    assert page.cursor == "2026-11-26T11:40:00|92"

    rsps.get(f"{API}/comments", json=fixture("wordpress", "comments"))
    again = connector.fetch_inbox(page.cursor)
    assert again.items == () and again.cursor == page.cursor  # nothing new


def test_retract_trashes_and_a_gone_post_is_deleted(rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{API}/posts/4711", json={"id": 4711, "status": "trash"})
    rsps.delete(f"{API}/posts/4712", json=fixture("wordpress", "error_already_trashed"), status=410)
    rsps.delete(f"{API}/posts/4713", json=fixture("wordpress", "error_invalid_id"), status=404)
    for remote_id in ("4711", "4712", "4713"):
        make().delete(remote_id)
