"""Contract case for the dev.to connector (payloads in ``tests/fixtures/devto``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import responses

from connectors.base import AccountMetrics, Metrics, Published
from tests.contract.harness import ContractCase, fixture

HOST = "https://dev.to"
KEY = "devto-test-key-8c1f3e"


def payload(name: str) -> Any:
    """A dev.to fixture payload."""
    return fixture("devto", name)


class DevtoCase(ContractCase):
    """Drives ``DevtoConnector`` against ``https://dev.to``."""

    name = "devto"
    secrets = (KEY,)
    publish_method = "POST"
    publish_url = f"{HOST}/api/articles"

    def settings(self) -> Mapping[str, Any]:
        return {"api_key": KEY}

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        rsps.post(self.publish_url, json=payload("article_created"), status=201)

    def error_body(self, status: int) -> Any:
        if status == 401:
            return payload("error_unauthorized")
        if status == 422:
            return payload("error_validation")
        return {
            "error": "too many requests" if status == 429 else f"error {status}",
            "status": status,
        }

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == "2105345"
        assert published.url == (
            "https://dev.to/makerspace/hello-from-crosspost-httpsexampleorglaunch-3k2j"
        )

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.get(f"{HOST}/api/articles/me/all", json=payload("me_all"))
        rsps.get(f"{HOST}/api/articles/1900012", json=payload("article_public"))
        rsps.get(f"{HOST}/api/articles/404", json=payload("error_not_found"), status=404)
        expected = {
            "2105345": Metrics(likes=27, replies=5, views=310),
            "1900012": Metrics(likes=12, replies=3),
        }
        return ["2105345", "1900012", "404"], expected

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.get(f"{HOST}/api/followers/users", json=payload("followers_users"))
        return AccountMetrics(followers=3)

    def too_long_text(self) -> str:
        # 800 KiB of Markdown and one byte more: Forem counts the body in bytes.
        return "é" * (400 * 1024) + "a"


CASE = DevtoCase()
