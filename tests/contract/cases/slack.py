"""Contract case for the Slack connector: Web API answers as Slack documents them.

Slack reports most failures as HTTP 200 with ``{"ok": false, "error": …}``, so
the error statuses the suite asks for are mapped to what Slack really sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import responses

from connectors.base import AccountMetrics, Metrics
from tests.contract.harness import ContractCase, fixture

API = "https://slack.com/api"
TOKEN = "test-bot-token"
CHANNEL = "C0123ABCDEF"

#: HTTP status the suite asks for → (status Slack sends, body Slack sends).
_SLACK_ERRORS: dict[int, tuple[int, dict[str, Any]]] = {
    401: (200, {"ok": False, "error": "invalid_auth"}),
    403: (200, {"ok": False, "error": "missing_scope", "needed": "chat:write"}),
    400: (200, {"ok": False, "error": "channel_not_found"}),
    422: (200, {"ok": False, "error": "invalid_blocks"}),
    429: (429, {"ok": False, "error": "ratelimited"}),
}


class SlackCase(ContractCase):
    """Drives :class:`connectors.slack.SlackConnector` through the contract."""

    name = "slack"
    secrets = (TOKEN,)
    publish_method = "POST"
    publish_url = f"{API}/chat.postMessage"

    def settings(self) -> Mapping[str, Any]:
        return {"bot_token": TOKEN, "channel": CHANNEL}

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", self.publish_url, json=fixture("slack", "chat.postMessage"))
        rsps.add("GET", f"{API}/chat.getPermalink", json=fixture("slack", "chat.getPermalink"))

    def error_body(self, status: int) -> Any:
        return _SLACK_ERRORS.get(status, (status, {"ok": False, "error": "fatal_error"}))[1]

    def mock_publish_error(
        self, rsps: responses.RequestsMock, status: int, headers: Mapping[str, str] | None = None
    ) -> None:
        sent_status, body = _SLACK_ERRORS.get(status, (status, self.error_body(status)))
        rsps.add(
            self.publish_method,
            self.publish_url,
            json=body,
            status=sent_status,
            headers=dict(headers or {}),
        )

    def check_published(self, published: Any) -> None:
        assert published.remote_id == f"{CHANNEL}:1503435956.000247"
        assert published.url == fixture("slack", "chat.getPermalink")["permalink"]
        assert published.extra["ts"] == "1503435956.000247"

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.add("GET", f"{API}/reactions.get", json=fixture("slack", "reactions.get"))
        remote_id = f"{CHANNEL}:1503435956.000247"
        return [remote_id], {remote_id: Metrics(likes=4, replies=2)}

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.add("GET", f"{API}/conversations.info", json=fixture("slack", "conversations.info"))
        return AccountMetrics(members=1287)

    def too_long_text(self) -> str:
        return "x" * 4001


CASE = SlackCase()
