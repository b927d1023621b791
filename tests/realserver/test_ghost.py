"""The Ghost connector against a real Ghost (scripts/install-ghost.sh) on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from connectors.base import ArticleFields, Cover, RenderedPost
from connectors.ghost import GhostConnector
from connectors.ghost.auth import admin_token
from tests.realserver.ghost import GhostSite, install_ghost, start_ghost, stop

pytestmark = pytest.mark.realserver

#: A 1×1 PNG: the smallest image Ghost's upload accepts.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
HTML = (
    "<p>In October our laser cutter stopped cutting.</p>\n"
    "<h2>What we did</h2>\n<p>We replaced the <b>tube</b> and aligned the mirrors.</p>"
)


@pytest.fixture(scope="module")
def ghost_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GhostSite]:
    """A fresh Ghost for the tests of this module, stopped afterwards."""
    ghost = install_ghost()
    process, site = start_ghost(ghost, tmp_path_factory.mktemp("ghost"))
    try:
        yield site
    finally:
        stop(process)


def connect(site: GhostSite) -> GhostConnector:
    settings = GhostConnector.Settings(url=site.url, admin_api_key=site.admin_key)
    return GhostConnector("blog", settings)


def article(tmp_path: Path, title: str) -> RenderedPost:
    image = tmp_path / "laser-cutter.png"
    image.write_bytes(PIXEL)
    return RenderedPost(
        parts=(HTML,),
        title=title,
        content_id="laser-cutter",
        article=ArticleFields(
            summary="Six weekends, one new tube.",
            canonical_url="https://makerspace.example/blog/laser-cutter",
            cover=Cover(alt="The cutter, lid open", path=image, mime_type="image/png"),
            tags=("makerspace", "laser cutter"),
        ),
    )


def test_an_article_is_published_with_its_fields(ghost_site: GhostSite, tmp_path: Path) -> None:
    connector = connect(ghost_site)
    published = connector.publish(article(tmp_path, "How we fixed the laser cutter"), "k1")
    assert published.url and published.url.startswith(ghost_site.url)
    page = requests.get(published.url, timeout=30)
    assert page.status_code == 200
    assert "In October our laser cutter stopped cutting." in page.text

    key_id, _, secret = ghost_site.admin_key.partition(":")
    token = admin_token(key_id, secret, datetime.now(UTC))
    answer = requests.get(
        f"{ghost_site.url}/ghost/api/admin/posts/{published.remote_id}/",
        params={"include": "tags", "formats": "html"},
        headers={"Authorization": f"Ghost {token}", "Accept-Version": "v5.0"},
        timeout=30,
    )
    (post,) = answer.json()["posts"]
    assert post["status"] == "published"
    assert post["custom_excerpt"] == "Six weekends, one new tube."
    assert post["canonical_url"] == "https://makerspace.example/blog/laser-cutter"
    assert post["feature_image_alt"] == "The cutter, lid open"
    assert "/content/images/" in post["feature_image"]
    assert [t["name"] for t in post["tags"]] == ["makerspace", "laser cutter"]
    assert "<strong>tube</strong>" in post["html"] or "<b>tube</b>" in post["html"]


def test_a_post_whose_answer_was_lost_is_found_by_another_process(
    ghost_site: GhostSite, tmp_path: Path
) -> None:
    published = connect(ghost_site).publish(article(tmp_path, "Found again"), "k2")
    # a later process knows only the text it would have sent
    found = connect(ghost_site).find_recent("k2", HTML)
    assert found is not None and found.remote_id == published.remote_id


def test_members_and_posts_are_counted_and_retract_deletes(
    ghost_site: GhostSite, tmp_path: Path
) -> None:
    connector = connect(ghost_site)
    published = connector.publish(
        RenderedPost(parts=("<p>Short-lived</p>",), title="Short-lived"), "k3"
    )
    figures = connector.account_metrics()
    assert figures.members == 0 and figures.followers == 0
    assert figures.posts is not None and figures.posts >= 1
    assert connector.fetch_metrics([published.remote_id]).keys() == {published.remote_id}
    connector.delete(published.remote_id)
    connector.delete(published.remote_id)  # already gone: done
    assert connector.fetch_metrics([published.remote_id]) == {}
