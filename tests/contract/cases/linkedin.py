"""LinkedIn in the shared contract suite: an organisation page posting through /rest/posts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import responses
from responses import matchers

from connectors.base import AccountMetrics, Metrics, Published
from tests.contract.harness import ContractCase, fixture

API = "https://api.linkedin.com/rest"
TOKEN = "AQXlinkedin-contract-secret-token-0001"
ORG = "urn:li:organization:2414183"
SHARE = "urn:li:share:7012345678901234567"
UGC = "urn:li:ugcPost:7098765432109876543"
MISSING = "urn:li:share:7000000000000000000"
ORG_ENCODED = "urn%3Ali%3Aorganization%3A2414183"


def encoded(urn: str) -> str:
    """A URN as it appears in a Rest.li 2.0 path."""
    return urn.replace(":", "%3A")


class LinkedInCase(ContractCase):
    """LinkedIn answers: 201 with ``x-restli-id``, JSON error bodies, daily limits."""

    name = "linkedin"
    secrets = (TOKEN,)
    publish_method = "POST"
    publish_url = f"{API}/posts"

    def settings(self) -> Mapping[str, Any]:
        return {"access_token": TOKEN, "author": ORG}

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        rsps.add(
            "POST",
            self.publish_url,
            body="",
            status=201,
            headers={"x-restli-id": SHARE},
            match=[
                matchers.header_matcher(
                    {"LinkedIn-Version": "202605", "X-Restli-Protocol-Version": "2.0.0"}
                )
            ],
        )

    def error_body(self, status: int) -> Any:
        names = {
            400: "error_400",
            401: "error_401",
            403: "error_403",
            422: "error_422",
            429: "error_429",
            500: "error_500",
        }
        return fixture("linkedin", names.get(status, "error_500"))

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == SHARE
        assert published.url == f"https://www.linkedin.com/feed/update/{SHARE}"
        assert published.thread_ids == (SHARE,)

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.add(
            "GET",
            f"{API}/socialActions/{encoded(SHARE)}",
            json=fixture("linkedin", "social_actions"),
        )
        rsps.add(
            "GET",
            f"{API}/socialActions/{encoded(UGC)}",
            json=fixture("linkedin", "social_actions_ugc"),
        )
        rsps.add(
            "GET",
            f"{API}/socialActions/{encoded(MISSING)}",
            status=404,
            json={"status": 404, "message": "Not Found"},
        )
        statistics = f"{API}/organizationalEntityShareStatistics"
        common = {"q": "organizationalEntity", "organizationalEntity": ORG}
        rsps.add(
            "GET",
            statistics,
            json=fixture("linkedin", "share_statistics_shares"),
            match=[matchers.query_param_matcher({**common, "shares": f"List({SHARE})"})],
        )
        rsps.add(
            "GET",
            statistics,
            json=fixture("linkedin", "share_statistics_ugcposts"),
            match=[matchers.query_param_matcher({**common, "ugcPosts": f"List({UGC})"})],
        )
        expected = {
            SHARE: Metrics(likes=42, replies=3, reposts=6, views=1045),
            UGC: Metrics(likes=7, replies=0, reposts=1, views=101),
        }
        return [SHARE, UGC, MISSING], expected

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.add(
            "GET",
            f"{API}/networkSizes/{ORG_ENCODED}",
            json=fixture("linkedin", "network_sizes"),
            match=[matchers.query_param_matcher({"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"})],
        )
        return AccountMetrics(followers=18342)

    def too_long_text(self) -> str:
        # 2999 characters as typed, 3001 once the two underscores are escaped.
        return "x" * 2997 + "__"


CASE = LinkedInCase()
