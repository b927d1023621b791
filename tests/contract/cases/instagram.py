"""Instagram in the shared contract suite: one image through a container and media_publish."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import responses
from responses import matchers

from connectors.base import AccountMetrics, MediaItem, Metrics, RenderedPost
from tests.contract.graph_case import ContainerCase
from tests.contract.harness import FIXTURES, fixture

API = "https://graph.facebook.com/v23.0"
TOKEN = "EAAGinstagram-contract-token-93ad01"
IG_USER = "17841405793187218"
CONTAINER = "17995261876143501"
MEDIA = "18063247195201384"
MISSING = "18000000000000404"
MEDIA_BASE = "https://rivertown.example/media"
IMAGE: Path = FIXTURES / "instagram" / "images" / "harbour.jpg"


def payload(name: str) -> Any:
    """An Instagram fixture payload."""
    return fixture("instagram", name)


def image(alt: str = "The harbour at dawn, boats tied up") -> MediaItem:
    """The fixture image, written ``images/harbour.jpg`` in its content."""
    return MediaItem(IMAGE, alt, "image/jpeg", relative_path="images/harbour.jpg")


class InstagramCase(ContainerCase):
    """Drives ``InstagramConnector`` against ``graph.facebook.com`` (Facebook Login)."""

    name = "instagram"
    api = API
    container = CONTAINER
    media = MEDIA
    secrets = (TOKEN,)
    publish_method = "POST"
    publish_url = f"{API}/{IG_USER}/media_publish"

    def settings(self) -> Mapping[str, Any]:
        return {"access_token": TOKEN, "ig_user_id": IG_USER, "media_base_url": MEDIA_BASE}

    def post(self) -> RenderedPost:
        return RenderedPost(
            parts=("Hello from crosspost! #repaircafe",), content_id="hello", media=(image(),)
        )

    def mock_before_publish(self, rsps: responses.RequestsMock) -> None:
        fields = {
            "image_url": f"{MEDIA_BASE}/images/harbour.jpg",
            "alt_text": "The harbour at dawn, boats tied up",
            "caption": "Hello from crosspost! #repaircafe",
        }
        rsps.post(
            f"{API}/{IG_USER}/media",
            json=payload("container"),
            match=[matchers.urlencoded_params_matcher(fields)],
        )
        rsps.get(
            f"{API}/{CONTAINER}",
            json=payload("container_finished"),
            match=[
                matchers.query_param_matcher(
                    {"fields": "status_code,status", "access_token": TOKEN}
                )
            ],
        )

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.get(
            f"{API}/{MEDIA}/insights",
            json=payload("insights"),
            match=[
                matchers.query_param_matcher(
                    {"metric": "views,reach,saved,shares,likes,comments"}, strict_match=False
                )
            ],
        )
        self.mock_missing_insights(rsps, MISSING)
        expected = Metrics(likes=203, replies=19, reposts=11, views=4870, bookmarks=27)
        return [MEDIA, MISSING], {MEDIA: expected}

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.get(f"{API}/{IG_USER}", json=payload("account"))
        return AccountMetrics(followers=5120, following=311, posts=402)

    def too_long_text(self) -> str:
        # 2,199 letters and one emoji of two UTF-16 units: 2,201.
        return "a" * 2199 + "👍"


CASE = InstagramCase()
