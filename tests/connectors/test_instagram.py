"""Instagram connector: images by URL, captions, carousels, containers, comments, reading back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import Result
from responses import matchers

from connectors.base import MediaItem, Rejected, RenderedPost, Unknown
from connectors.instagram import InstagramConnector
from tests.conftest import write_file
from tests.contract.cases.instagram import (
    API,
    CONTAINER,
    IG_USER,
    MEDIA,
    MEDIA_BASE,
    TOKEN,
    image,
    payload,
)
from tests.contract.harness import FIXTURES, fixture

KEY = "crosspost-entry-test"


def make(**extra: Any) -> InstagramConnector:
    values = {"access_token": TOKEN, "ig_user_id": IG_USER, "media_base_url": MEDIA_BASE, **extra}
    settings = InstagramConnector.Settings.model_validate(values)
    return InstagramConnector("ig", settings, sleep=lambda _s: None, poll_attempts=2)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_a_text_only_post_is_refused_by_check() -> None:
    problems = make().check(RenderedPost(parts=("Just words",)))
    assert problems == ["Instagram needs at least one image (JPEG); a text-only post cannot go out"]


def test_an_image_needs_the_media_base_url() -> None:
    post = RenderedPost(parts=("x",), media=(image(),))
    (problem,) = make(media_base_url=None).check(post)
    assert "set media_base_url" in problem


def test_only_jpeg_is_taken() -> None:
    png = MediaItem(FIXTURES / "instagram" / "images" / "harbour.jpg", "", "image/png", "a.png")
    problems = make().check(RenderedPost(parts=("x",), media=(png,)))
    assert problems == ["harbour.jpg: type image/png (expected image/jpeg)"]


@pytest.mark.parametrize(
    ("caption", "problem"),
    [
        (" ".join(f"#tag{n}" for n in range(30)), None),
        (" ".join(f"#tag{n}" for n in range(31)), "31 hashtags (at most 30 on Instagram)"),
        (" ".join(f"@user{n}" for n in range(20)), None),
        (" ".join(f"@user{n}" for n in range(21)), "21 @ tags (at most 20 on Instagram)"),
    ],
)
def test_hashtags_and_tags_are_counted(caption: str, problem: str | None) -> None:
    problems = make().check(RenderedPost(parts=(caption,), media=(image(),)))
    assert problems == ([f"the caption has {problem}"] if problem else [])


def test_the_caption_limit_counts_utf16_units() -> None:
    connector = make()
    assert connector.check(RenderedPost(parts=("a" * 2198 + "👍",), media=(image(),))) == []
    (problem,) = connector.check(RenderedPost(parts=("a" * 2199 + "👍",), media=(image(),)))
    assert "2201 characters (UTF-16) long (at most 2200 on instagram)" in problem


def test_a_carousel_of_two(rsps: responses.RequestsMock) -> None:
    for name, item in (("harbour.jpg", "c1"), ("workbench.jpg", "c2")):
        fields = {"image_url": f"{MEDIA_BASE}/images/{name}", "is_carousel_item": "true"}
        rsps.post(
            f"{API}/{IG_USER}/media",
            json={"id": item},
            match=[matchers.urlencoded_params_matcher(fields)],
        )
    for item in ("c1", "c2"):
        rsps.get(f"{API}/{item}", json={"status_code": "FINISHED", "id": item})
    parent = {"media_type": "CAROUSEL", "children": "c1,c2", "caption": "Both #repaircafe"}
    rsps.post(
        f"{API}/{IG_USER}/media",
        json=payload("carousel"),
        match=[matchers.urlencoded_params_matcher(parent)],
    )
    rsps.get(
        f"{API}/17995261876149999", json={"status_code": "FINISHED", "id": "17995261876149999"}
    )
    rsps.post(f"{API}/{IG_USER}/media_publish", json=payload("publish"))
    rsps.get(f"{API}/{MEDIA}", json=payload("permalink"))
    second = MediaItem(
        FIXTURES / "instagram" / "images" / "workbench.jpg",
        "",
        "image/jpeg",
        "images/workbench.jpg",
    )
    post = RenderedPost(parts=("Both #repaircafe",), media=(image(""), second))
    assert make().publish(post, KEY).remote_id == MEDIA


def test_a_container_whose_image_could_not_be_fetched_is_rejected(
    rsps: responses.RequestsMock,
) -> None:
    rsps.post(f"{API}/{IG_USER}/media", json=payload("container"))
    rsps.get(f"{API}/{CONTAINER}", json=payload("container_error"))
    with pytest.raises(Rejected, match="Media download has failed"):
        make().publish(RenderedPost(parts=("x",), media=(image(),)), KEY)


def test_instagram_login_uses_its_own_host() -> None:
    assert make(login="instagram").http.base_url == "https://graph.instagram.com/v23.0"


def test_comment_posts_a_first_comment(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/{MEDIA}/comments",
        json=payload("comment"),
        match=[matchers.urlencoded_params_matcher({"message": "Tickets: link in bio"})],
    )
    assert make().comment(MEDIA, "Tickets: link in bio") == "17871234509876543"


def test_a_lost_comment_answer_is_uncertain(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/{MEDIA}/comments", json=fixture("graph", "error_transient"), status=500)
    with pytest.raises(Unknown):
        make().comment(MEDIA, "again?")


def test_find_recent_matches_the_caption(rsps: responses.RequestsMock) -> None:
    connector = make()
    connector.http.clock = lambda: datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    rsps.get(f"{API}/{IG_USER}/media", json=payload("media_list"))
    found = connector.find_recent(
        KEY,
        "Open workshop tonight from 6pm: bring a broken lamp, leave with a working one."
        " #repaircafe",
    )
    assert found is not None and found.url == "https://www.instagram.com/p/DCx4mR2tQ7b/"


def test_publishing_quota(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/{IG_USER}/content_publishing_limit", json=payload("publishing_limit"))
    assert make().publishing_quota() == (2, 50)


def test_no_threads_no_delete() -> None:
    connector = make()
    assert any(
        "cannot publish threads" in p
        for p in connector.check(RenderedPost(parts=("a", "b"), media=(image(),)))
    )
    with pytest.raises(Rejected):
        connector.delete(MEDIA)


SCHEDULE = """
    timezone: Europe/Kyiv
    accounts:
      insta:
        connector: instagram
        access_token: ${{IG_TOKEN}}
        ig_user_id: "{user}"
    content:
      - id: harbour
        body: The harbour at dawn
        media:
          - path: images/harbour.jpg
            alt: Boats tied up at dawn
    posts:
      - id: dawn
        content: harbour
        to: [insta]
        at: 2099-06-01 10:00
        utm: false
    """


def test_check_names_the_line_when_media_base_url_is_missing(
    tmp_path: Path,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # so that messages say schedule.yaml:…
    monkeypatch.delenv("CROSSPOST_DATABASE_URL", raising=False)
    monkeypatch.setenv("IG_TOKEN", TOKEN)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "harbour.jpg").write_bytes(
        (FIXTURES / "instagram" / "images" / "harbour.jpg").read_bytes()
    )
    schedule = write_file(tmp_path / "schedule.yaml", SCHEDULE.format(user=IG_USER))
    with responses.RequestsMock():
        result = run_cli(schedule, "check")
    assert result.exit_code == 2, result.output
    (line,) = [t for t in result.stderr.splitlines() if "media_base_url" in t]
    assert line.startswith("schedule.yaml:14:") and "dawn" in line
    assert TOKEN not in result.output
