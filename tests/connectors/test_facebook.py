"""Facebook Pages connector: photos, links, errors and throttling, views, reconciling, comments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from pydantic import ValidationError
from responses import matchers

from connectors.base import (
    MediaItem,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from connectors.facebook import FacebookConnector
from tests.contract.cases.facebook import API, PAGE, POST, TOKEN, payload
from tests.contract.harness import FIXTURES, fixture

KEY = "crosspost-entry-test"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
IMAGES = FIXTURES / "instagram" / "images"


def make(**extra: Any) -> FacebookConnector:
    values = {"access_token": TOKEN, "page_id": PAGE, **extra}
    connector = FacebookConnector("page", FacebookConnector.Settings.model_validate(values))
    connector.http.clock = lambda: NOW
    return connector


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_photos_are_uploaded_unpublished_then_attached(rsps: responses.RequestsMock) -> None:
    for number, (name, alt) in enumerate((("harbour.jpg", "Boats at dawn"), ("workbench.jpg", ""))):
        fields = {"published": "false", **({"alt_text_custom": alt} if alt else {})}
        rsps.post(
            f"{API}/{PAGE}/photos",
            json={"id": f"9000{number}"},
            match=[
                matchers.multipart_matcher(
                    {"source": (name, (IMAGES / name).read_bytes(), "image/jpeg")}, data=fields
                )
            ],
        )
    body = {
        "message": "Two photos",
        "published": True,
        "attached_media": [{"media_fbid": "90000"}, {"media_fbid": "90001"}],
    }
    rsps.post(
        f"{API}/{PAGE}/feed", json=payload("feed_post"), match=[matchers.json_params_matcher(body)]
    )
    media = tuple(
        MediaItem(IMAGES / name, alt, "image/jpeg")
        for name, alt in (("harbour.jpg", "Boats at dawn"), ("workbench.jpg", ""))
    )
    post = RenderedPost(parts=("Two photos",), media=media, link="https://r.example/ignored")
    assert make().publish(post, KEY).remote_id == POST


def test_a_link_becomes_the_link_card_when_there_is_no_photo(rsps: responses.RequestsMock) -> None:
    body = {"message": "Read this", "published": True, "link": "https://r.example/blog"}
    rsps.post(
        f"{API}/{PAGE}/feed", json=payload("feed_post"), match=[matchers.json_params_matcher(body)]
    )
    make().publish(RenderedPost(parts=("Read this",), link="https://r.example/blog"), KEY)


def test_a_photo_that_cannot_be_read_is_rejected_before_posting(tmp_path: Any) -> None:
    path = tmp_path / "gone.jpg"
    path.write_bytes(b"\xff\xd8")
    connector = make()
    item = MediaItem(path, "", "image/jpeg")
    path.unlink()
    with pytest.raises(Rejected):
        connector._upload_photo(item)


def test_a_failed_upload_is_not_uncertain(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/{PAGE}/photos", json=fixture("graph", "error_transient"), status=500)
    post = RenderedPost(parts=("x",), media=(MediaItem(IMAGES / "harbour.jpg", "", "image/jpeg"),))
    with pytest.raises(Transient):
        make().publish(post, KEY)


def test_a_duplicate_is_rejected_with_metas_words(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/{PAGE}/feed", json=fixture("graph", "error_duplicate"), status=400)
    with pytest.raises(Rejected, match="identical to the last one"):
        make().publish(RenderedPost(parts=("same again",)), KEY)


def test_a_server_failure_on_the_feed_post_is_unknown(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/{PAGE}/feed", json=fixture("graph", "error_transient"), status=500)
    with pytest.raises(Unknown):
        make().publish(RenderedPost(parts=("x",)), KEY)


def test_a_page_throttle_waits_as_long_as_the_usage_header_says(
    rsps: responses.RequestsMock,
) -> None:
    usage = {
        PAGE: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 35,
                "estimated_time_to_regain_access": 23,
            }
        ]
    }
    rsps.post(
        f"{API}/{PAGE}/feed",
        json=fixture("graph", "error_page_limit"),
        status=400,
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    with pytest.raises(RateLimited) as caught:
        make().publish(RenderedPost(parts=("x",)), KEY)
    assert caught.value.retry_at == NOW + timedelta(minutes=23)


def test_views_are_not_asked_again_once_insights_are_refused(rsps: responses.RequestsMock) -> None:
    other = "104859372810475_122171234567890123"
    rsps.get(f"{API}/{POST}", json=payload("post_counts"))
    rsps.get(f"{API}/{POST}/insights", json=fixture("graph", "error_permission"), status=403)
    rsps.get(f"{API}/{other}", json=payload("post_counts_unshared"))
    found = make().fetch_metrics([POST, other])
    assert found[POST].likes == 57 and found[POST].views is None
    assert found[other].reposts == 0
    assert len(rsps.calls) == 3


def test_views_and_reactions_by_type_come_from_insights(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/{POST}",
        json=payload("post_counts"),
        match=[
            matchers.query_param_matcher(
                {
                    "fields": "reactions.summary(total_count).limit(0),"
                    "comments.summary(total_count).limit(0),shares",
                    "access_token": TOKEN,
                }
            )
        ],
    )
    rsps.get(
        f"{API}/{POST}/insights",
        json=payload("post_insights"),
        match=[
            matchers.query_param_matcher(
                {
                    "metric": "post_media_view,post_total_media_view_unique,"
                    "post_reactions_by_type_total,post_clicks"
                },
                strict_match=False,
            )
        ],
    )
    metrics = make().fetch_metrics([POST])[POST]
    assert metrics.views == 3120
    assert metrics.raw["insights"]["post_reactions_by_type_total"] == {
        "like": 41,
        "love": 12,
        "wow": 4,
    }


def test_find_recent_matches_a_message_of_the_last_two_days(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/{PAGE}/published_posts",
        json=payload("published_posts"),
        match=[
            matchers.query_param_matcher(
                {"fields": "id,message,created_time,permalink_url", "limit": "25"},
                strict_match=False,
            )
        ],
    )
    found = make().find_recent(KEY, "Thank you to everyone who came to the repair café!")
    assert found is not None
    assert found.remote_id == "104859372810475_122171234567890123"
    assert found.url == "https://www.facebook.com/104859372810475/posts/122171234567890123"


def test_the_inbox_holds_members_comments_not_the_pages_own(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/{PAGE}/published_posts", json=payload("published_posts_comments"))
    rsps.get(f"{API}/{PAGE}/published_posts", json=payload("published_posts_comments"))
    connector = make()
    page = connector.fetch_inbox(None)
    assert [item.author for item in page.items] == ["Ada Okafor"]
    item = page.items[0]
    assert item.kind == "comment" and item.in_reply_to == POST
    assert item.text == "Can I bring two lamps?"
    assert page.cursor == "2026-11-26T10:47:13+00:00"
    again = connector.fetch_inbox(page.cursor)
    assert again.items == () and again.cursor == page.cursor


def test_delete_a_post_and_one_already_gone(rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{API}/{POST}", json=payload("delete"))
    rsps.delete(f"{API}/{PAGE}_1", json=fixture("graph", "error_missing_object"), status=400)
    connector = make()
    connector.delete(POST)
    connector.delete(f"{PAGE}_1")


@pytest.mark.parametrize(
    "values",
    [
        {"access_token": TOKEN, "page_id": "rivertown"},
        {"access_token": TOKEN, "page_id": PAGE, "version": "23"},
        {"access_token": "", "page_id": PAGE},
        {"access_token": TOKEN, "page_id": PAGE, "token": "x"},
    ],
)
def test_settings_refuse_what_meta_would_not_take(values: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        FacebookConnector.Settings.model_validate(values)
    assert TOKEN not in str(caught.value)


def test_an_older_graph_version_can_be_named() -> None:
    assert make(version="v21.0").http.base_url == "https://graph.facebook.com/v21.0"
