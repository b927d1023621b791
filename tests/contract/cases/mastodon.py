"""Contract case for the Mastodon connector (payloads in ``tests/fixtures/mastodon``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import responses

from connectors.base import AccountMetrics, Metrics, Published
from tests.contract.harness import ContractCase, fixture

HOST = "https://social.example"
TOKEN = "mastodon-test-token-5f2c9a"


def payload(name: str) -> Any:
    """A Mastodon fixture payload."""
    return fixture("mastodon", name)


class MastodonCase(ContractCase):
    """Drives ``MastodonConnector`` against ``https://social.example``."""

    name = "mastodon"
    secrets = (TOKEN,)
    publish_method = "POST"
    publish_url = f"{HOST}/api/v1/statuses"

    def settings(self) -> Mapping[str, Any]:
        return {"instance": HOST, "access_token": TOKEN}

    def mock_before_publish(self, rsps: responses.RequestsMock) -> None:
        rsps.get(f"{HOST}/api/v2/instance", json=payload("instance"))

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        self.mock_before_publish(rsps)
        rsps.post(self.publish_url, json=payload("status"))

    def error_body(self, status: int) -> Any:
        bodies = {401: "error_unauthorized", 404: "error_not_found", 422: "error_validation"}
        if status in bodies:
            return payload(bodies[status])
        return {"error": "Too many requests" if status == 429 else f"error {status}"}

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == "113498765432100001"
        assert published.url == f"{HOST}/@rivertown/113498765432100001"
        assert published.thread_ids == ("113498765432100001",)

    def check_idempotency(self, calls: Sequence[responses.Call], key: str) -> None:
        posts = [c for c in calls if c.request.url == self.publish_url]
        assert len(posts) == 1
        assert posts[0].request.headers["Idempotency-Key"] == key

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.get(f"{HOST}/api/v1/statuses/113401112223334445", json=payload("status_counts"))
        rsps.get(
            f"{HOST}/api/v1/statuses/113400000000000404",
            json=payload("error_not_found"),
            status=404,
        )
        expected = Metrics(likes=52, reposts=17, replies=4, quotes=2)
        return ["113401112223334445", "113400000000000404"], {"113401112223334445": expected}

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.get(f"{HOST}/api/v1/accounts/verify_credentials", json=payload("account"))
        return AccountMetrics(followers=1287, following=164, posts=942)

    def too_long_text(self) -> str:
        # 477 letters, a space and a URL that counts 23 however long it is: 501.
        return "a" * 477 + " https://example.org/" + "x" * 300


CASE = MastodonCase()
