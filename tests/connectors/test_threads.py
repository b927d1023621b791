"""Threads connector: counting, containers, replies, media by URL, token refresh, reading back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from pydantic import ValidationError
from responses import matchers

from connectors.base import (
    AuthError,
    MediaItem,
    MemoryState,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from connectors.threads import ThreadsConnector, threads_length
from connectors.threads.token import REFRESH_RETRY
from tests.contract.cases.threads import (
    API,
    CONTAINER,
    MEDIA,
    TOKEN,
    USER,
    fresh_token_state,
    payload,
)
from tests.contract.harness import FIXTURES, fixture

KEY = "crosspost-entry-test"
REFRESH = "https://graph.threads.net/refresh_access_token"
NEW_TOKEN = "THQVJrefreshed-token-b7d1e0c9a8f34a2d"
IMAGES = FIXTURES / "instagram" / "images"
SITE = "https://rivertown.example/media"


def make(state: MemoryState | None = None, **extra: Any) -> ThreadsConnector:
    values = {"access_token": TOKEN, "user_id": USER, **extra}
    settings = ThreadsConnector.Settings.model_validate(values)
    connector = ThreadsConnector("rivertown", settings, sleep=lambda _s: None, poll_attempts=3)
    connector.state = state if state is not None else fresh_token_state(connector)
    return connector


def image(name: str, alt: str = "") -> MediaItem:
    return MediaItem(IMAGES / name, alt, "image/jpeg", relative_path=f"images/{name}")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def container(
    rsps: responses.RequestsMock, fields: dict[str, str], answer: str = CONTAINER
) -> None:
    rsps.post(
        f"{API}/{USER}/threads",
        json={"id": answer},
        match=[matchers.urlencoded_params_matcher(fields)],
    )


def finished(rsps: responses.RequestsMock, container_id: str = CONTAINER) -> None:
    rsps.get(f"{API}/{container_id}", json={"status": "FINISHED", "id": container_id})


def published(
    rsps: responses.RequestsMock, container_id: str = CONTAINER, media: str = MEDIA
) -> None:
    rsps.post(
        f"{API}/{USER}/threads_publish",
        json={"id": media},
        match=[matchers.urlencoded_params_matcher({"creation_id": container_id})],
    )
    rsps.get(
        f"{API}/{media}", json={"permalink": f"https://www.threads.net/p/{media}", "id": media}
    )


# --------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        ("👍", 4),
        ("a❤️b", 8),
        ("🇫🇷", 8),
        ("é", 1),
        ("naïve café", 10),
        ("1️⃣", 7),
        ("a\r\nb", 3),
    ],
)
def test_an_emoji_counts_its_utf8_bytes(text: str, length: int) -> None:
    assert threads_length(text) == length


def test_500_characters_fit_and_501_do_not() -> None:
    connector = make()
    assert connector.check(RenderedPost(parts=("a" * 496 + "👍",))) == []
    assert connector.check(RenderedPost(parts=("a" * 497 + "👍",)))


def test_more_than_five_links_are_refused_before_sending() -> None:
    links = " ".join(f"https://site{n}.example/" for n in range(5))
    connector = make()
    assert connector.check(RenderedPost(parts=(links,))) == []
    problems = connector.check(RenderedPost(parts=(links,), link="https://other.example/"))
    assert problems == ["the post has 6 links (at most 5 on Threads)"]


def test_settings_refuse_a_bad_user_id_and_plain_http_media() -> None:
    with pytest.raises(ValidationError):
        ThreadsConnector.Settings.model_validate({"access_token": TOKEN, "user_id": "@rivertown"})
    with pytest.raises(ValidationError):
        ThreadsConnector.Settings.model_validate(
            {"access_token": TOKEN, "media_base_url": "http://site.example"}
        )
    with pytest.raises(ValidationError):
        ThreadsConnector.Settings.model_validate({"access_token": " "})


# --------------------------------------------------------------------------- publishing


def test_a_text_post_with_a_link_attachment(rsps: responses.RequestsMock) -> None:
    container(
        rsps,
        {
            "media_type": "TEXT",
            "text": "Workshop tonight",
            "link_attachment": "https://r.example/w",
        },
    )
    finished(rsps)
    published(rsps)
    post = RenderedPost(parts=("Workshop tonight",), link="https://r.example/w")
    result = make().publish(post, KEY)
    assert result.remote_id == MEDIA
    assert result.extra == {"container_id": CONTAINER}


def test_later_parts_reply_to_the_part_before(rsps: responses.RequestsMock) -> None:
    container(
        rsps, {"media_type": "TEXT", "text": "one", "link_attachment": "https://r.example"}, "c1"
    )
    finished(rsps, "c1")
    published(rsps, "c1", "m1")
    container(rsps, {"media_type": "TEXT", "text": "two", "reply_to_id": "m1"}, "c2")
    finished(rsps, "c2")
    published(rsps, "c2", "m2")
    result = make().publish(RenderedPost(parts=("one", "two"), link="https://r.example"), KEY)
    assert result.remote_id == "m1"
    assert result.thread_ids == ("m1", "m2")


def test_a_failed_reply_keeps_the_parts_that_went_out(rsps: responses.RequestsMock) -> None:
    container(rsps, {"media_type": "TEXT", "text": "one"}, "c1")
    finished(rsps, "c1")
    published(rsps, "c1", "m1")
    rsps.post(f"{API}/{USER}/threads", json=fixture("graph", "error_permission"), status=403)
    with pytest.raises(AuthError) as caught:
        make().publish(RenderedPost(parts=("one", "two")), KEY)
    assert "threads_manage_replies" in str(caught.value)
    assert caught.value.partial is not None and caught.value.partial.thread_ids == ("m1",)


def test_one_image_is_an_image_container_with_alt_text(rsps: responses.RequestsMock) -> None:
    fields = {
        "media_type": "IMAGE",
        "image_url": f"{SITE}/images/harbour.jpg",
        "alt_text": "Boats at dawn",
        "text": "Harbour",
    }
    container(rsps, fields)
    finished(rsps)
    published(rsps)
    post = RenderedPost(parts=("Harbour",), media=(image("harbour.jpg", "Boats at dawn"),))
    make(media_base_url=SITE + "/").publish(post, KEY)


def test_several_images_are_a_carousel(rsps: responses.RequestsMock) -> None:
    for name, item in (("harbour.jpg", "i1"), ("workbench.jpg", "i2")):
        fields = {
            "media_type": "IMAGE",
            "image_url": f"{SITE}/images/{name}",
            "is_carousel_item": "true",
        }
        container(rsps, fields, item)
    finished(rsps, "i1")
    finished(rsps, "i2")
    container(rsps, {"media_type": "CAROUSEL", "children": "i1,i2", "text": "Both"}, "car")
    finished(rsps, "car")
    published(rsps, "car")
    post = RenderedPost(parts=("Both",), media=(image("harbour.jpg"), image("workbench.jpg")))
    assert make(media_base_url=SITE).publish(post, KEY).remote_id == MEDIA


def test_media_without_a_public_url_is_refused_by_check() -> None:
    post = RenderedPost(parts=("x",), media=(image("harbour.jpg"),))
    assert any("media_base_url" in p for p in make().check(post))
    absolute = MediaItem(IMAGES / "harbour.jpg", "", "image/jpeg")
    problems = make(media_base_url=SITE).check(RenderedPost(parts=("x",), media=(absolute,)))
    assert problems == [
        "harbour.jpg: its path must be written relative to the content (without '..') "
        "to become a URL under media_base_url"
    ]


def test_a_container_meta_could_not_prepare_is_rejected(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/{USER}/threads", json=payload("container"))
    rsps.get(f"{API}/{CONTAINER}", json=payload("container_error"))
    with pytest.raises(Rejected, match="FAILED_DOWNLOADING_VIDEO"):
        make().publish(RenderedPost(parts=("x",)), KEY)


def test_a_container_still_in_progress_is_transient_and_nothing_is_published(
    rsps: responses.RequestsMock,
) -> None:
    slept: list[float] = []
    connector = make()
    connector.sleep = slept.append
    rsps.post(f"{API}/{USER}/threads", json=payload("container"))
    rsps.get(f"{API}/{CONTAINER}", json=payload("container_in_progress"))
    with pytest.raises(Transient, match="nothing was published"):
        connector.publish(RenderedPost(parts=("x",)), KEY)
    assert slept == [3.0, 3.0]
    assert len(rsps.calls) == 4  # the create and three checks: never threads_publish


def test_a_publish_answer_without_an_id_is_unknown(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/{USER}/threads", json=payload("container"))
    finished(rsps)
    rsps.post(f"{API}/{USER}/threads_publish", json={})
    with pytest.raises(Unknown):
        make().publish(RenderedPost(parts=("x",)), KEY)


def test_a_permalink_that_cannot_be_read_does_not_lose_the_post(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{API}/{USER}/threads", json=payload("container"))
    finished(rsps)
    rsps.post(f"{API}/{USER}/threads_publish", json=payload("publish"))
    rsps.get(f"{API}/{MEDIA}", json=fixture("graph", "error_transient"), status=500)
    result = make().publish(RenderedPost(parts=("x",)), KEY)
    assert result.remote_id == MEDIA and result.url is None


# --------------------------------------------------------------------------- token


def test_an_unknown_expiry_is_refreshed_once_and_the_new_token_used(
    rsps: responses.RequestsMock,
) -> None:
    state = MemoryState()
    connector = make(state)
    rsps.get(
        REFRESH,
        json=payload("refresh_token"),
        match=[
            matchers.query_param_matcher({"grant_type": "th_refresh_token", "access_token": TOKEN})
        ],
    )
    rsps.get(
        f"{API}/{USER}/threads_insights",
        json=payload("followers"),
        match=[
            matchers.query_param_matcher({"metric": "followers_count", "access_token": NEW_TOKEN})
        ],
    )
    assert connector.account_metrics().followers == 4213
    saved = state.load()["token"]
    assert saved["access_token"] == NEW_TOKEN
    expires = datetime.fromisoformat(saved["expires_at"])
    assert timedelta(days=59) < expires - datetime.now(UTC) < timedelta(days=61)
    assert NEW_TOKEN not in repr(connector) and NEW_TOKEN not in repr(state)


def test_a_failed_refresh_keeps_the_token_and_waits_before_trying_again(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    state = MemoryState()
    rsps.get(REFRESH, json=fixture("graph", "error_invalid_parameter"), status=400)
    rsps.get(f"{API}/{USER}/threads_insights", json=payload("followers"))
    rsps.get(f"{API}/{USER}/threads_insights", json=payload("followers"))
    connector = make(state)
    connector.account_metrics()
    connector.account_metrics()  # no second refresh within REFRESH_RETRY
    saved = state.load()["token"]
    assert "access_token" not in saved and "refresh_tried_at" in saved
    assert "could not refresh" in caplog.text and TOKEN not in caplog.text
    tried = datetime.fromisoformat(saved["refresh_tried_at"])
    assert connector._due(saved) is False
    assert connector._due({**saved, "refresh_tried_at": (tried - REFRESH_RETRY).isoformat()})


def test_a_token_near_its_end_is_refreshed_and_one_far_from_it_is_not() -> None:
    connector = make()
    soon = (datetime.now(UTC) + timedelta(days=6)).isoformat()
    later = (datetime.now(UTC) + timedelta(days=8)).isoformat()
    assert connector._due({"expires_at": soon})
    assert not connector._due({"expires_at": later})


def test_a_new_token_in_the_settings_wins_over_a_saved_one() -> None:
    state = MemoryState(
        {
            "token": {
                "seed": "someoldseed",
                "access_token": "old",
                "expires_at": "2099-01-01T00:00:00+00:00",
            }
        }
    )
    connector = make(state)
    assert connector._saved(state.load()) == {}


def test_threads_refreshing_at_once_refresh_once(rsps: responses.RequestsMock) -> None:
    state = MemoryState()
    connectors = [make(state) for _ in range(4)]
    rsps.get(REFRESH, json=payload("refresh_token"))
    barrier = threading.Barrier(4)
    tokens: list[str] = []

    def work(connector: ThreadsConnector) -> None:
        barrier.wait()
        tokens.append(connector._access_token())

    workers = [threading.Thread(target=work, args=(c,)) for c in connectors]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert tokens == [NEW_TOKEN] * 4
    assert len([c for c in rsps.calls if c.request.url.startswith(REFRESH)]) == 1


# --------------------------------------------------------------------------- reading back


def test_find_recent_matches_the_text_of_a_recent_post(rsps: responses.RequestsMock) -> None:
    connector = make()
    connector.http.clock = lambda: datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
    rsps.get(
        f"{API}/{USER}/threads",
        json=payload("threads_list"),
        match=[
            matchers.query_param_matcher(
                {"fields": "id,text,timestamp,permalink", "since": "1795601100", "limit": "50"},
                strict_match=False,
            )
        ],
    )
    found = connector.find_recent(
        KEY, "Open workshop tonight from 6pm:  bring a broken lamp,\nleave with a working one."
    )
    assert found is not None and found.remote_id == MEDIA
    assert found.published_at == datetime(2026, 11, 26, 10, 0, 4, tzinfo=UTC)


def test_find_recent_ignores_posts_older_than_a_day(rsps: responses.RequestsMock) -> None:
    connector = make()
    connector.http.clock = lambda: datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
    rsps.get(f"{API}/{USER}/threads", json=payload("threads_list"))
    assert connector.find_recent(KEY, "Thank you to everyone who came to the repair café!") is None


def test_insights_without_the_permission_name_it(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/{MEDIA}/insights", json=fixture("graph", "error_no_permission"), status=403)
    with pytest.raises(AuthError, match="threads_manage_insights"):
        make().fetch_metrics([MEDIA])


def test_delete_a_post_and_one_already_gone(rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{API}/{MEDIA}", json=payload("delete"))
    rsps.delete(f"{API}/1800", json=fixture("graph", "error_missing_object"), status=400)
    rsps.delete(f"{API}/1900", json=fixture("graph", "error_no_permission"), status=403)
    connector = make()
    connector.delete(MEDIA)
    connector.delete("1800")
    with pytest.raises(AuthError, match="threads_delete"):
        connector.delete("1900")


def test_publishing_quota(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/{USER}/threads_publishing_limit", json=payload("publishing_limit"))
    assert make().publishing_quota() == (4, 250)


def test_the_token_never_shows_in_an_error(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/{USER}/threads_insights", json=fixture("graph", "error_token_expired"), status=400
    )
    with pytest.raises(AuthError) as caught:
        make().account_metrics()
    assert TOKEN not in str(caught.value)
    assert "create a new long-lived token" in str(caught.value)


def test_text_in_check_uses_the_same_count_as_measure() -> None:
    assert make().measure("👍") == 4
    assert Path(IMAGES / "harbour.jpg").is_file()
