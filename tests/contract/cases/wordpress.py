"""Contract case for the WordPress connector (payloads in ``tests/fixtures/wordpress``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import responses

from connectors.base import AccountMetrics, Metrics, Published
from tests.contract.harness import ContractCase, fixture

SITE = "https://blog.makerspace.example"
API = f"{SITE}/wp-json/wp/v2"
PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"


def payload(name: str) -> Any:
    """A WordPress fixture payload."""
    return fixture("wordpress", name)


class WordPressCase(ContractCase):
    """Drives ``WordPressConnector`` against ``https://blog.makerspace.example``."""

    name = "wordpress"
    secrets = (PASSWORD,)
    publish_method = "POST"
    publish_url = f"{API}/posts"

    def settings(self) -> Mapping[str, Any]:
        return {"url": SITE, "username": "makerspace", "application_password": PASSWORD}

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        rsps.post(self.publish_url, json=payload("post_created"), status=201)

    def error_body(self, status: int) -> Any:
        if status in (401, 403):
            return payload("error_cannot_create")
        if status in (400, 422):
            return payload("error_invalid_param")
        code = "rest_too_many_requests" if status == 429 else "internal_server_error"
        return {"code": code, "message": f"error {status}", "data": {"status": status}}

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == "4711"
        assert published.url == (
            f"{SITE}/2026/11/26/hello-from-crosspost-https-example-org-launch/"
        )
        assert published.published_at.isoformat() == "2026-11-26T10:00:02+00:00"

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.get(f"{API}/posts", json=payload("posts_ids"))
        rsps.get(f"{API}/comments", json=[], headers={"X-WP-Total": "7", "X-WP-TotalPages": "7"})
        return ["4711", "4712"], {"4711": Metrics(replies=7)}

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.get(f"{API}/posts", json=payload("posts_ids"), headers={"X-WP-Total": "57"})
        return AccountMetrics(posts=57)

    def too_long_text(self) -> str:
        return "a" * 1_000_001


CASE = WordPressCase()
