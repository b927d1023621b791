"""Contract case for the Reddit connector (payloads in ``tests/fixtures/reddit``).

Reddit refuses most content with HTTP 200 and ``{"json": {"errors": [[code, …]]}}``,
so the refusals the suite asks for are sent the way Reddit sends them; its 429
carries the ``X-Ratelimit-*`` headers, not ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import responses

from connectors.base import AccountMetrics, Metrics, Published, RenderedPost
from tests.contract.harness import ContractCase, fixture

API = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
SECRET = "reddit-app-secret-7Qm2"
PASSWORD = "reddit-password-Lk93"
TOKEN = "2182133-reddit-test-token-Xb9Q"

#: HTTP status the suite asks for → (status Reddit sends, fixture of its body).
_REDDIT_ERRORS: dict[int, tuple[int, str]] = {
    401: (401, "error_unauthorized"),
    403: (403, "error_forbidden"),
    400: (400, "error_reason"),
    422: (200, "submit_no_selfs"),
}


def payload(name: str) -> Any:
    """A Reddit fixture payload."""
    return fixture("reddit", name)


class RedditCase(ContractCase):
    """Drives ``RedditConnector`` for /u/club_bot posting to r/pythonclub."""

    name = "reddit"
    secrets = (SECRET, PASSWORD, TOKEN)
    publish_method = "POST"
    publish_url = f"{API}/api/submit"

    def settings(self) -> Mapping[str, Any]:
        return {
            "client_id": "p-jcoLKBynTLew",
            "client_secret": SECRET,
            "username": "club_bot",
            "password": PASSWORD,
            "subreddit": "pythonclub",
        }

    def post(self) -> RenderedPost:
        return RenderedPost(
            parts=("Hello from crosspost! https://example.org/launch",),
            content_id="hello",
            title="Hello from crosspost",
        )

    def mock_before_publish(self, rsps: responses.RequestsMock) -> None:
        rsps.post(TOKEN_URL, json=payload("access_token"))

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        self.mock_before_publish(rsps)
        rsps.post(self.publish_url, json=payload("submit"), headers=_budget(598))

    def error_body(self, status: int) -> Any:
        if status in _REDDIT_ERRORS:
            return payload(_REDDIT_ERRORS[status][1])
        return {"message": "Internal Server Error", "error": status}

    def mock_publish_error(
        self, rsps: responses.RequestsMock, status: int, headers: Mapping[str, str] | None = None
    ) -> None:
        self.mock_before_publish(rsps)
        sent = _REDDIT_ERRORS.get(status, (status, ""))[0]
        rsps.post(
            self.publish_url, json=self.error_body(status), status=sent, headers=dict(headers or {})
        )

    def mock_rate_limited(self, rsps: responses.RequestsMock, seconds: int) -> None:
        self.mock_before_publish(rsps)
        body = {"message": "Too Many Requests", "error": 429}
        rsps.post(self.publish_url, json=body, status=429, headers=_budget(0, seconds))

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == "t3_1kh35wk"
        assert published.url == (
            "https://www.reddit.com/r/pythonclub/comments/1kh35wk/launch_day_at_the_python_club/"
        )
        assert published.thread_ids == ("t3_1kh35wk",)
        assert published.extra == {"subreddit": "pythonclub", "kind": "self"}

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        self.mock_before_publish(rsps)
        rsps.get(f"{API}/api/info", json=payload("info"))
        expected = {
            "t3_1kh35wk": Metrics(likes=42, reposts=1, replies=7),
            "t3_1kh2zzz": Metrics(likes=-3, reposts=0, replies=0),
        }
        return ["t3_1kh35wk", "t3_1kh2zzz", "t3_1kgone0"], expected

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        self.mock_before_publish(rsps)
        rsps.get(f"{API}/api/v1/me", json=payload("me"))
        return AccountMetrics(followers=38)

    def too_long_text(self) -> str:
        return "x" * 40_001


def _budget(remaining: int, reset: int = 300) -> dict[str, str]:
    """Reddit's request-budget headers."""
    return {
        "X-Ratelimit-Remaining": f"{remaining}.0",
        "X-Ratelimit-Reset": str(reset),
        "X-Ratelimit-Used": str(600 - remaining),
    }


CASE = RedditCase()
