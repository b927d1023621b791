"""Facebook Pages in the shared contract suite: a Page post through /{page}/feed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import responses
from responses import matchers

from connectors.base import AccountMetrics, Metrics, Published
from tests.contract.graph_case import ERRORS as GRAPH_ERRORS
from tests.contract.graph_case import GraphCase
from tests.contract.harness import fixture

API = "https://graph.facebook.com/v23.0"
TOKEN = "EAAGpage-contract-token-4f19c2b7"
PAGE = "104859372810475"
POST = "104859372810475_122174839201847563"
UNSHARED = "104859372810475_122171234567890123"
MISSING = "104859372810475_100000000000000404"
ERRORS = {
    **GRAPH_ERRORS,
    403: "error_no_permission",
    422: "error_duplicate",
    429: "error_page_limit",
}


def payload(name: str) -> Any:
    """A Facebook fixture payload."""
    return fixture("facebook", name)


class FacebookCase(GraphCase):
    """Drives ``FacebookConnector`` against ``graph.facebook.com``."""

    name = "facebook"
    errors = ERRORS
    secrets = (TOKEN,)
    publish_method = "POST"
    publish_url = f"{API}/{PAGE}/feed"

    def settings(self) -> Mapping[str, Any]:
        return {"access_token": TOKEN, "page_id": PAGE}

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        body = {"message": self.post().text, "published": True}
        rsps.post(
            self.publish_url,
            json=payload("feed_post"),
            match=[
                matchers.json_params_matcher(body),
                matchers.query_param_matcher({"access_token": TOKEN}),
            ],
        )

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == POST
        assert published.url == f"https://www.facebook.com/{PAGE}/posts/122174839201847563"
        assert published.thread_ids == (POST,)

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.get(f"{API}/{POST}", json=payload("post_counts"))
        rsps.get(f"{API}/{POST}/insights", json=payload("post_insights"))
        rsps.get(f"{API}/{UNSHARED}", json=payload("post_counts_unshared"))
        rsps.get(
            f"{API}/{UNSHARED}/insights",
            json=fixture("graph", "error_permission"),
            status=403,
        )
        rsps.get(f"{API}/{MISSING}", json=fixture("graph", "error_missing_object"), status=400)
        expected = {
            POST: Metrics(likes=57, replies=8, reposts=4, views=3120),
            UNSHARED: Metrics(likes=3, replies=0, reposts=0),
        }
        return [POST, UNSHARED, MISSING], expected

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.get(
            f"{API}/{PAGE}",
            json=payload("page"),
            match=[
                matchers.query_param_matcher(
                    {"fields": "followers_count,fan_count", "access_token": TOKEN}
                )
            ],
        )
        return AccountMetrics(followers=2684)

    def too_long_text(self) -> str:
        # 63,205 letters and one emoji of two UTF-16 units: 63,207.
        return "a" * 63205 + "👍"


CASE = FacebookCase()
