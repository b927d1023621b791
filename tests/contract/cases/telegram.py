"""Telegram Bot API payloads for the shared contract suite."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import responses
from responses import matchers

from connectors.base import AccountMetrics, Metrics, Published
from tests.contract.harness import ContractCase, fixture

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
API = f"https://api.telegram.org/bot{TOKEN}"


class TelegramCase(ContractCase):
    """A public channel ``@crosspostnews`` posted to by a bot admin."""

    name = "telegram"
    secrets = (TOKEN,)
    publish_method = "POST"
    publish_url = f"{API}/sendMessage"

    def settings(self) -> Mapping[str, Any]:
        return {"bot_token": TOKEN, "chat_id": "@crosspostnews"}

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        rsps.add(
            responses.POST,
            self.publish_url,
            json=fixture("telegram", "send_message"),
            match=[
                matchers.json_params_matcher(
                    {"chat_id": "@crosspostnews", "parse_mode": "HTML"}, strict_match=False
                )
            ],
        )

    def error_body(self, status: int) -> Any:
        descriptions = {
            400: "Bad Request: message text is empty",
            401: "Unauthorized",
            403: "Forbidden: bot is not a member of the channel chat",
            429: "Too Many Requests: retry after 30",
            500: "Internal Server Error",
        }
        return {
            "ok": False,
            "error_code": status,
            "description": descriptions.get(status, f"Error {status}"),
        }

    def mock_rate_limited(self, rsps: responses.RequestsMock, seconds: int) -> None:
        # Telegram says when to come back in the body, not in a header.
        body = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {seconds}",
            "parameters": {"retry_after": seconds},
        }
        rsps.add(responses.POST, self.publish_url, json=body, status=429)

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == "-1001234567890:42"
        assert published.url == "https://t.me/crosspostnews/42"

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.add(
            responses.GET,
            f"{API}/getUpdates",
            json=fixture("telegram", "get_updates"),
            match=[
                matchers.query_param_matcher(
                    {"allowed_updates": '["message_reaction_count"]'}, strict_match=False
                )
            ],
        )
        ids = ["-1001234567890:42", "-1001234567890:44", "-1001234567890:99"]
        return ids, {"-1001234567890:42": Metrics(likes=7), "-1001234567890:44": Metrics(likes=4)}

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        query = [matchers.query_param_matcher({"chat_id": "@crosspostnews"})]
        rsps.add(
            responses.GET,
            f"{API}/getChatMemberCount",
            json=fixture("telegram", "get_chat_member_count"),
            match=query,
        )
        rsps.add(responses.GET, f"{API}/getChat", json=fixture("telegram", "get_chat"), match=query)
        return AccountMetrics(followers=1234, members=1234)

    def too_long_text(self) -> str:
        # 4095 ASCII units plus one emoji (2 UTF-16 units): 4097, though 4096 code points.
        return "a" * 4095 + "🎉"

    def check_idempotency(self, calls: Sequence[responses.Call], key: str) -> None:
        """Telegram has no idempotency key: nothing of it may be sent."""
        for call in calls:
            assert key not in str(call.request.body or b"")


CASE = TelegramCase()
