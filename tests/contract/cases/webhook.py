"""Contract case for the webhook connector: a receiver that answers as Standard Webhooks says.

A receiver answers 2xx with anything (here ``{"id", "url"}``, which the connector keeps);
errors are plain statuses. A webhook reads nothing back, so metrics are empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import responses

from connectors.base import AccountMetrics, Metrics, Published
from tests.contract.harness import ContractCase

URL = "https://hooks.example.org/crosspost/T0k3nInPath"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HEADER_TOKEN = "hook-bearer-5f2c9a"


class WebhookCase(ContractCase):
    """Drives ``WebhookConnector`` against a receiver at hooks.example.org."""

    name = "webhook"
    #: The URL's path is masked whole, as the client shows it.
    secrets = (SECRET, HEADER_TOKEN, "/crosspost/T0k3nInPath")
    publish_method = "POST"
    publish_url = URL
    reads_back = False

    def settings(self) -> Mapping[str, Any]:
        return {
            "url": URL,
            "secret": SECRET,
            "headers": {"Authorization": f"Bearer {HEADER_TOKEN}"},
        }

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        answer = {"id": "run-8812", "url": "https://automation.example.org/runs/8812"}
        rsps.post(URL, json=answer, status=202)

    def error_body(self, status: int) -> Any:
        return {
            "error": {401: "bad signature", 403: "forbidden", 429: "slow down"}.get(status, "no")
        }

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == "run-8812"
        assert published.url == "https://automation.example.org/runs/8812"
        assert published.extra["status"] == 202

    def check_idempotency(self, calls: Sequence[responses.Call], key: str) -> None:
        posts = [c for c in calls if c.request.url == URL]
        assert len(posts) == 1
        headers = posts[0].request.headers
        assert headers["webhook-id"] == key
        assert headers["Idempotency-Key"] == key
        assert headers["webhook-signature"].startswith("v1,")

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        return ["run-8812"], {}

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        return AccountMetrics()

    def too_long_text(self) -> str:
        return "x" * 1_000_001


CASE = WebhookCase()
