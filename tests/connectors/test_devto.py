"""dev.to connector: where each article field goes, Forem's refusals, and reading back."""

from __future__ import annotations

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
    FollowerRef,
    RateLimited,
    Rejected,
    RenderedPost,
    Unknown,
)
from connectors.devto import DevtoConnector, forem_tags
from crosspost.loading.content_item import ContentItem
from crosspost.rendering.render import Renderer
from crosspost.rendering.target import Target
from tests.contract.harness import fixture

HOST = "https://dev.to"
KEY = "devto-test-key-8c1f3e"
HEADERS = matchers.header_matcher({"api-key": KEY, "Accept": "application/vnd.forem.api-v1+json"})
CANONICAL = "https://makerspace.example/blog/laser-cutter"
BODY = "In October our laser cutter stopped cutting.\n\nWe replaced the tube."
ARTICLE = RenderedPost(
    parts=(BODY,),
    content_id="laser-cutter",
    title="How we brought the laser cutter back to life",
    article=ArticleFields(
        summary="Six weekends, one new tube and a lot of mirror alignment.",
        canonical_url=CANONICAL,
        cover=Cover(alt="The cutter", url="https://makerspace.example/laser.jpg"),
        tags=("makerspace", "laser cutter", "Repair!", "how-to", "fifth"),
    ),
)


def make(**overrides: Any) -> DevtoConnector:
    values: dict[str, Any] = {"api_key": KEY, **overrides}
    return DevtoConnector("makerspace", DevtoConnector.Settings.model_validate(values))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


# --------------------------------------------------------------------------- settings

VALID_SETTINGS = [
    {"api_key": KEY},
    {"api_key": KEY, "base_url": "https://community.example.org/", "published": False},
    {"api_key": KEY, "organization_id": 4242, "series": "Repairs"},
    {"api_key": KEY, "base_url": "http://127.0.0.1:3000"},
]
INVALID_SETTINGS = [
    ({}, "api_key"),
    ({"api_key": " "}, "api_key"),
    ({"api_key": "two words"}, "api_key"),
    ({"api_key": KEY, "base_url": "http://dev.to"}, "base_url"),
    ({"api_key": KEY, "base_url": "https://dev.to/api"}, "base_url"),
    ({"api_key": KEY, "organization_id": 0}, "organization_id"),
    ({"api_key": KEY, "token": "x"}, "token"),
]


@pytest.mark.parametrize("values", VALID_SETTINGS)
def test_valid_settings(values: dict[str, Any]) -> None:
    DevtoConnector.Settings.model_validate(values)


@pytest.mark.parametrize(("values", "field"), INVALID_SETTINGS)
def test_invalid_settings_name_the_field_and_hide_the_key(
    values: dict[str, Any], field: str
) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        DevtoConnector.Settings.model_validate(values)
    assert field in str(caught.value)
    assert KEY not in str(caught.value)


# --------------------------------------------------------------------------- publishing


def test_an_article_sends_every_field_where_forem_reads_it(rsps: responses.RequestsMock) -> None:
    expected = {
        "article": {
            "title": "How we brought the laser cutter back to life",
            "body_markdown": BODY,
            "published": True,
            "series": "Repairs",
            "organization_id": 4242,
            "tags": ["makerspace", "lasercutter", "repair", "howto"],
            "canonical_url": CANONICAL,
            "description": "Six weekends, one new tube and a lot of mirror alignment.",
            "main_image": "https://makerspace.example/laser.jpg",
        }
    }
    rsps.post(
        f"{HOST}/api/articles",
        json=fixture("devto", "article_created"),
        status=201,
        match=[HEADERS, matchers.json_params_matcher(expected)],
    )
    published = make(organization_id=4242, series="Repairs").publish(ARTICLE, "k1")
    assert published.remote_id == "2105345"
    assert published.published_at.isoformat() == "2026-11-26T10:00:03+00:00"


def test_options_choose_the_series_and_keep_a_draft(rsps: responses.RequestsMock) -> None:
    post = RenderedPost(parts=("Just text.",), title="Notes", options={"series": "Log"})
    draft = {"title": "Notes", "body_markdown": "Just text.", "published": False, "series": "Log"}
    answer = {**fixture("devto", "article_created"), "published_at": None}
    rsps.post(
        f"{HOST}/api/articles",
        json=answer,
        status=201,
        match=[matchers.json_params_matcher({"article": draft})],
    )
    published = make(published=False).publish(post, "k1")
    assert published.published_at.isoformat() == "2026-11-26T10:00:03+00:00"  # created_at


def test_a_post_without_title_is_titled_by_its_first_line(rsps: responses.RequestsMock) -> None:
    post = RenderedPost(parts=("# Big news\n\nWe moved.",))
    body = {"title": "Big news", "body_markdown": "# Big news\n\nWe moved.", "published": True}
    rsps.post(
        f"{HOST}/api/articles",
        json=fixture("devto", "article_created"),
        status=201,
        match=[matchers.json_params_matcher({"article": body})],
    )
    make().publish(post, "k1")


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["Open Source", "C++", "résumé"], ["opensource", "c", "résumé"]),
        (["a" * 40], ["a" * 30]),
        (["one", "One", "#one", "two", "three", "four", "five"], ["one", "two", "three", "four"]),
        (["!!!", ""], []),
    ],
)
def test_tags_are_what_forem_accepts(tags: list[str], expected: list[str]) -> None:
    assert forem_tags(tags) == expected


def test_checks_before_sending(tmp_path: Path) -> None:
    long_title = RenderedPost(parts=("x",), title="t" * 129)
    file_cover = RenderedPost(
        parts=("x",), title="T", article=ArticleFields(cover=Cover(path=tmp_path / "c.png"))
    )
    bad_options = RenderedPost(parts=("x",), title="T", options={"series": 3, "published": "y"})
    connector = make()
    assert connector.check(long_title) == ["title is 129 characters long (at most 128 on dev.to)"]
    assert connector.check(file_cover) == [
        "dev.to takes a cover only as a URL (its API has no upload): add cover.url"
    ]
    assert connector.check(bad_options) == [
        "series 3 is not a name",
        "published must be true or false",
    ]
    assert connector.measure("é") == 2  # bytes of the Markdown body


def test_a_canonical_url_already_ours_is_the_article_not_a_failure(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{HOST}/api/articles", json=fixture("devto", "error_canonical_taken"), status=422)
    rsps.get(
        f"{HOST}/api/articles/me/all",
        json=fixture("devto", "me_all"),
        match=[matchers.query_param_matcher({"per_page": "100", "page": "1"})],
    )
    published = make().publish(ARTICLE, "k1")
    assert published.remote_id == "2105345"
    assert published.url and published.url.endswith("back-to-life-3k2j")


def test_a_canonical_url_taken_by_someone_else_is_refused(rsps: responses.RequestsMock) -> None:
    other = RenderedPost(
        parts=("Another text",),
        title="Other",
        article=ArticleFields(canonical_url="https://elsewhere.example/post"),
    )
    rsps.post(f"{HOST}/api/articles", json=fixture("devto", "error_canonical_taken"), status=422)
    rsps.get(f"{HOST}/api/articles/me/all", json=fixture("devto", "me_all"))
    with pytest.raises(Rejected) as caught:
        make().publish(other, "k1")
    assert "Canonical url has already been taken" in caught.value.reason


def test_a_lost_answer_is_unknown_and_found_by_the_same_process(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{HOST}/api/articles", body=requests.ReadTimeout("read timed out"))
    rsps.get(f"{HOST}/api/articles/me/all", json=fixture("devto", "me_all"))
    connector = make()
    with pytest.raises(Unknown):
        connector.publish(ARTICLE, "k1")
    found = connector.find_recent("k1", "(text not needed: the canonical URL matches)")
    assert found is not None and found.remote_id == "2105345"


def test_another_process_finds_the_article_by_its_body(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{HOST}/api/articles/me/all", json=fixture("devto", "me_all"))
    rsps.get(f"{HOST}/api/articles/me/all", json=fixture("devto", "me_all"))
    connector = make()
    found = connector.find_recent("k9", BODY.replace("\n\n", "\n \n"))
    assert found is not None and found.remote_id == "2105345"
    assert connector.find_recent("k9", "Something never sent") is None


@pytest.mark.parametrize(("status", "error"), [(401, AuthError), (500, Unknown), (422, Rejected)])
def test_refusals(rsps: responses.RequestsMock, status: int, error: type[Exception]) -> None:
    body = {401: "error_unauthorized", 422: "error_validation"}.get(status)
    rsps.post(
        f"{HOST}/api/articles",
        json=fixture("devto", body) if body else {"error": "boom", "status": status},
        status=status,
    )
    with pytest.raises(error) as caught:
        make().publish(ARTICLE, "k1")
    assert KEY not in str(caught.value)


def test_rate_limit_says_when(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{HOST}/api/articles",
        json={"error": "too many requests", "status": 429},
        status=429,
        headers={"Retry-After": "30"},
    )
    with pytest.raises(RateLimited) as caught:
        make().publish(ARTICLE, "k1")
    assert caught.value.retry_at is not None


# --------------------------------------------------------------------------- reading back


def test_metrics_come_from_the_own_list_then_the_public_article(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(f"{HOST}/api/articles/me/all", json=fixture("devto", "me_all"))
    rsps.get(f"{HOST}/api/articles/1900012", json=fixture("devto", "article_public"))
    got = make().fetch_metrics(["2105345", "1900012"])
    assert (got["2105345"].likes, got["2105345"].replies, got["2105345"].views) == (27, 5, 310)
    assert (got["1900012"].likes, got["1900012"].replies, got["1900012"].views) == (12, 3, None)


def test_followers_are_listed_and_counted_page_by_page(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("connectors.devto.reading.FOLLOWERS_PAGE", 2)
    users = fixture("devto", "followers_users")
    for page, chunk in ((1, users[:2]), (2, users[2:])):
        rsps.get(
            f"{HOST}/api/followers/users",
            json=chunk,
            match=[matchers.query_param_matcher({"per_page": "2", "page": str(page)})],
        )
    assert make().followers(10) == [
        FollowerRef("301", "@annmaker"),
        FollowerRef("302", "@bosolder"),
        FollowerRef("303", "@cleolathe"),
    ]


def test_retract_unpublishes(rsps: responses.RequestsMock) -> None:
    unpublish = matchers.json_params_matcher({"article": {"published": False}})
    rsps.put(f"{HOST}/api/articles/2105345", json={}, match=[HEADERS, unpublish])
    rsps.put(f"{HOST}/api/articles/7", json=fixture("devto", "error_not_found"), status=404)
    make().delete("2105345")
    make().delete("7")  # already gone: done


# --------------------------------------------------------------------------- rendering


def test_an_article_renders_as_its_markdown_with_its_fields(tmp_path: Path) -> None:
    item = ContentItem.model_validate(
        {
            "id": "guide",
            "kind": "article",
            "title": "Guide",
            "summary": "The *short* version.",
            "tags": ["a b"],
            "link": "https://makerspace.example/guide",
            "body": "## Steps\n\n1. **Book** it\n2. Use it",
        }
    )
    renderer = Renderer(tmp_path / "templates", tmp_path)
    post = renderer.render(item, Target("devto", "devto", "launch"), make())
    assert post.parts == ("## Steps\n\n1. **Book** it\n2. Use it",)  # no link, no hashtags
    assert post.article == ArticleFields(summary="The short version.", tags=("a b",))
    assert post.link and post.link.startswith("https://makerspace.example/guide?utm_source=devto")
