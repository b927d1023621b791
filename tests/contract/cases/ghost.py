"""Contract case for the Ghost connector (payloads in ``tests/fixtures/ghost``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import responses

from connectors.base import AccountMetrics, Metrics, Published
from tests.contract.harness import ContractCase, fixture

SITE = "https://blog.makerspace.example"
ADMIN = f"{SITE}/ghost/api/admin"
KEY_ID = "6489b0c0ffee0000000a1b2c"
SECRET = "5b2a" * 16
KEY = f"{KEY_ID}:{SECRET}"


def payload(name: str) -> Any:
    """A Ghost fixture payload."""
    return fixture("ghost", name)


class GhostCase(ContractCase):
    """Drives ``GhostConnector`` against ``https://blog.makerspace.example``."""

    name = "ghost"
    secrets = (KEY, SECRET)
    publish_method = "POST"
    publish_url = f"{ADMIN}/posts/"

    def settings(self) -> Mapping[str, Any]:
        return {"url": SITE, "admin_api_key": KEY}

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        rsps.post(self.publish_url, json=payload("post_created"), status=201)

    def error_body(self, status: int) -> Any:
        bodies = {
            401: "error_unauthorized",
            404: "error_not_found",
            422: "error_validation",
            429: "error_too_many",
        }
        if status in bodies:
            return payload(bodies[status])
        return {"errors": [{"message": f"error {status}", "type": "InternalServerError"}]}

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == "6745a1f3c2b9d80001e4a7c1"
        assert published.url == f"{SITE}/hello-from-crosspost-https-example-org-launch/"

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.get(f"{ADMIN}/posts/6745a1f3c2b9d80001e4a7c1/", json=payload("post_emailed"))
        rsps.get(
            f"{ADMIN}/posts/6745a1f3c2b9d80001e4a7ff/",
            json=payload("error_not_found"),
            status=404,
        )
        # Ghost counts no reactions: the post is there, with nothing but raw email figures
        expected = {"6745a1f3c2b9d80001e4a7c1": Metrics()}
        return ["6745a1f3c2b9d80001e4a7c1", "6745a1f3c2b9d80001e4a7ff"], expected

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.get(f"{ADMIN}/members/", json=payload("members_page"))
        rsps.get(f"{ADMIN}/posts/", json=payload("posts_total"))
        return AccountMetrics(followers=412, members=412, posts=57)

    def too_long_text(self) -> str:
        return "a" * 1_000_001


CASE = GhostCase()
