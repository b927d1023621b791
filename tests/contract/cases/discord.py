"""Contract case for Discord, in bot mode (the mode with an idempotency key)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import responses
from responses import matchers

from connectors.base import AccountMetrics, Metrics
from connectors.discord import nonce_for
from tests.contract.harness import ContractCase, fixture

API = "https://discord.com/api/v10"
CHANNEL = "1098765432109876543"
GUILD = "197038439483310086"
TOKEN = "MTIwMDAwMDAwMDAwMDAwMDAwMQ.Gx1y2z.fake-bot-token-for-tests-only"

_ERRORS = {
    401: "error_unauthorized",
    403: "error_missing_permissions",
    400: "error_invalid_form_body",
    500: "error_server",
}


class DiscordCase(ContractCase):
    """Bot posting in one channel of one server."""

    name = "discord"
    secrets = (TOKEN,)
    publish_method = "POST"
    publish_url = f"{API}/channels/{CHANNEL}/messages"

    def settings(self) -> Mapping[str, Any]:
        return {"bot_token": TOKEN, "channel_id": CHANNEL, "guild_id": GUILD}

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        rsps.add(
            "POST",
            self.publish_url,
            json=fixture("discord", "message_bot"),
            match=[matchers.header_matcher({"Authorization": f"Bot {TOKEN}"})],
            headers={
                "X-RateLimit-Bucket": "abcd1234",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "4",
                "X-RateLimit-Reset-After": "1.0",
            },
        )

    def error_body(self, status: int) -> Any:
        name = _ERRORS.get(status)
        return fixture("discord", name) if name else {"message": f"{status}", "code": 0}

    def mock_rate_limited(self, rsps: responses.RequestsMock, seconds: int) -> None:
        body = dict(fixture("discord", "rate_limited"), retry_after=float(seconds))
        rsps.add(
            "POST",
            self.publish_url,
            json=body,
            status=429,
            headers={
                "Retry-After": str(seconds),
                "X-RateLimit-Bucket": "abcd1234",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{seconds}.000",
                "X-RateLimit-Scope": "user",
            },
        )

    def check_published(self, published: Any) -> None:
        message = fixture("discord", "message_bot")
        assert published.remote_id == f"{CHANNEL}:{message['id']}"
        assert published.url == f"https://discord.com/channels/{GUILD}/{CHANNEL}/{message['id']}"

    def check_idempotency(self, calls: Sequence[responses.Call], key: str) -> None:
        posts = [c for c in calls if c.request.method == "POST"]
        assert len(posts) == 1
        body = json.loads(posts[0].request.body or b"{}")
        assert body["nonce"] == nonce_for(key)
        assert len(body["nonce"]) <= 25
        assert body["enforce_nonce"] is True

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        message = fixture("discord", "message_reactions")
        rsps.add("GET", f"{API}/channels/{CHANNEL}/messages/{message['id']}", json=message)
        rsps.add(
            "GET",
            f"{API}/channels/{CHANNEL}/messages/1311111111111111112",
            json=fixture("discord", "error_unknown_message"),
            status=404,
        )
        known = f"{CHANNEL}:{message['id']}"
        return [known, f"{CHANNEL}:1311111111111111112"], {known: Metrics(likes=7)}

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.add(
            "GET",
            f"{API}/guilds/{GUILD}",
            json=fixture("discord", "guild"),
            match=[matchers.query_param_matcher({"with_counts": "true"})],
        )
        return AccountMetrics(members=1234)

    def too_long_text(self) -> str:
        # 2001 code points, though only 1001 graphemes: Discord counts code points.
        return "e\u0301" * 1000 + "!"


CASE = DiscordCase()
