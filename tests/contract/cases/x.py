"""Contract case for the X connector (OAuth 2.0 user context, token renewed first)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import responses
from responses import matchers

from connectors.base import AccountMetrics, Metrics, Published
from tests.contract.harness import ContractCase, fixture

API = "https://api.x.com"
TOKEN_URL = f"{API}/2/oauth2/token"
CLIENT_SECRET = "x-client-secret-contract-0001"
REFRESH_TOKEN = "x-refresh-token-contract-0001"


class XCase(ContractCase):
    name = "x"
    secrets = (CLIENT_SECRET, REFRESH_TOKEN, fixture("x", "token")["access_token"])
    publish_url = f"{API}/2/tweets"

    def settings(self) -> Mapping[str, Any]:
        return {
            "client_id": "contract-client-id",
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        }

    def mock_before_publish(self, rsps: responses.RequestsMock) -> None:
        rsps.add(responses.POST, TOKEN_URL, json=fixture("x", "token"))

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        self.mock_before_publish(rsps)
        token = fixture("x", "token")["access_token"]
        rsps.add(
            responses.POST,
            self.publish_url,
            json=fixture("x", "create_post"),
            status=201,
            match=[
                matchers.header_matcher({"Authorization": f"Bearer {token}"}),
                matchers.json_params_matcher({"text": self.post().text}),
            ],
        )

    def error_body(self, status: int) -> Any:
        known = {400: "error_400", 401: "error_401", 403: "error_403", 429: "error_429"}
        if status in known:
            return fixture("x", known[status])
        return {"title": "Internal Server Error", "status": status, "type": "about:blank"}

    def mock_rate_limited(self, rsps: responses.RequestsMock, seconds: int) -> None:
        reset = str(int(time.time()) + seconds)
        headers = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": reset,
        }
        self.mock_publish_error(rsps, 429, headers)

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == "1445880548472328192"
        assert published.url == "https://x.com/i/web/status/1445880548472328192"

    def check_idempotency(self, calls: Sequence[responses.Call], key: str) -> None:
        # X takes no idempotency key: the key must not leak into the request.
        for call in calls:
            assert key not in str(call.request.body or "")
            assert key not in str(call.request.headers)

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        self.mock_before_publish(rsps)
        ids = ["1445880548472328192", "1445880548472328193", "1445880548472328199"]
        rsps.add(
            responses.GET,
            f"{API}/2/tweets",
            json=fixture("x", "tweets_metrics"),
            match=[
                matchers.query_param_matcher(
                    {"ids": ",".join(ids), "tweet.fields": "public_metrics"}
                )
            ],
        )
        return ids, {
            "1445880548472328192": Metrics(
                likes=31, reposts=4, replies=2, quotes=1, views=1210, bookmarks=3
            ),
            "1445880548472328193": Metrics(
                likes=5, reposts=0, replies=0, quotes=0, views=240, bookmarks=0
            ),
        }

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        self.mock_before_publish(rsps)
        rsps.add(
            responses.GET,
            f"{API}/2/users/me",
            json=fixture("x", "users_me_metrics"),
            match=[matchers.query_param_matcher({"user.fields": "public_metrics"})],
        )
        return AccountMetrics(followers=1532, following=211, posts=987)

    def too_long_text(self) -> str:
        return "a" * 281


CASE = XCase()
