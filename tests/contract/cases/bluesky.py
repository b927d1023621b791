"""Contract case for the Bluesky connector: XRPC payloads and headers as the PDS sends them."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import responses

from connectors.base import AccountMetrics, Metrics, Published
from connectors.bluesky import rkey_for
from tests.contract.harness import ContractCase, fixture

PDS = "https://bsky.social/xrpc"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
_ERRORS = {
    400: ("InvalidRequest", "Input/record/text must not be longer than 300 graphemes"),
    401: ("AuthRequired", "Authentication Required"),
    403: ("AuthRequired", "Bad token scope"),
    422: ("InvalidRequest", "Invalid record"),
    429: ("RateLimitExceeded", "Rate Limit Exceeded"),
    500: ("InternalServerError", "Internal Server Error"),
}


def bluesky(name: str) -> Any:
    """A Bluesky fixture payload."""
    return fixture("bluesky", name)


class BlueskyCase(ContractCase):
    """Drives ``BlueskyConnector`` through the shared suite."""

    name = "bluesky"
    secrets = (
        APP_PASSWORD,
        bluesky("create_session")["accessJwt"],
        bluesky("create_session")["refreshJwt"],
    )
    publish_url = f"{PDS}/com.atproto.repo.createRecord"

    def settings(self) -> Mapping[str, Any]:
        return {"handle": "crosspost.bsky.social", "app_password": APP_PASSWORD}

    def mock_before_publish(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", f"{PDS}/com.atproto.server.createSession", json=bluesky("create_session"))

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        self.mock_before_publish(rsps)
        rsps.add("POST", self.publish_url, json=bluesky("create_record"))

    def mock_publish_error(
        self, rsps: responses.RequestsMock, status: int, headers: Mapping[str, str] | None = None
    ) -> None:
        super().mock_publish_error(rsps, status, headers)
        # After a refused create the connector looks at the record key once.
        rsps.add(
            "GET",
            f"{PDS}/com.atproto.repo.getRecord",
            json=bluesky("error_record_not_found"),
            status=400,
        )

    def error_body(self, status: int) -> Any:
        name, message = _ERRORS.get(status, ("InvalidRequest", f"error {status}"))
        return {"error": name, "message": message}

    def mock_rate_limited(self, rsps: responses.RequestsMock, seconds: int) -> None:
        # Bluesky's xrpc-server sends an epoch reset, not Retry-After.
        reset = int(time.time()) + seconds
        self.mock_publish_error(
            rsps,
            429,
            {
                "RateLimit-Limit": "5000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "5000;w=3600",
            },
        )

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        created = bluesky("create_record")
        assert published.remote_id == created["uri"]
        assert published.extra["cid"] == created["cid"]
        assert published.url == "https://bsky.app/profile/crosspost.bsky.social/post/3kq5xhuyb2c2p"

    def check_idempotency(self, calls: Sequence[responses.Call], key: str) -> None:
        creates = [c for c in calls if c.request.url == self.publish_url]
        assert len(creates) == 1
        body = json.loads(creates[0].request.body or b"{}")
        assert body["rkey"] == rkey_for(key)
        assert body["collection"] == "app.bsky.feed.post"

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        self.mock_before_publish(rsps)
        posts = bluesky("get_posts")
        rsps.add("GET", f"{PDS}/app.bsky.feed.getPosts", json=posts)
        first, second = posts["posts"]
        gone = first["uri"].rsplit("/", 1)[0] + "/3kq5xzzzzzz2a"
        expected = {
            first["uri"]: Metrics(likes=42, reposts=7, replies=3, quotes=1, bookmarks=5),
            second["uri"]: Metrics(likes=120, reposts=30, replies=12, quotes=4, bookmarks=None),
        }
        return [first["uri"], second["uri"], gone], expected

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        self.mock_before_publish(rsps)
        rsps.add("GET", f"{PDS}/app.bsky.actor.getProfile", json=bluesky("get_profile"))
        return AccountMetrics(followers=1532, following=211, posts=987)

    def too_long_text(self) -> str:
        return "a" * 301


CASE = BlueskyCase()
