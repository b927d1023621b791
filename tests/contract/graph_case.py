"""What the Meta contract cases (facebook, instagram, threads) share: Graph error bodies
and the container flow's publish and permalink answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import responses
from responses import matchers

from connectors.base import Published
from tests.contract.harness import ContractCase, fixture

#: HTTP status → the Graph error fixture (``tests/fixtures/graph``) a test fails with.
ERRORS: Mapping[int, str] = {
    400: "error_invalid_parameter",
    401: "error_token_expired",
    403: "error_permission",
    422: "error_invalid_parameter",
    429: "error_app_limit",
    500: "error_transient",
}


class GraphCase(ContractCase):
    """A contract case whose errors come in Meta's envelope."""

    errors: ClassVar[Mapping[int, str]] = ERRORS

    def error_body(self, status: int) -> Any:
        return fixture("graph", self.errors.get(status, "error_invalid_parameter"))


class ContainerCase(GraphCase):
    """A contract case publishing through a container: ``publish`` then ``permalink``."""

    api: ClassVar[str] = ""
    container: ClassVar[str] = ""
    media: ClassVar[str] = ""

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        self.mock_before_publish(rsps)
        rsps.post(
            self.publish_url,
            json=fixture(self.name, "publish"),
            match=[matchers.urlencoded_params_matcher({"creation_id": self.container})],
        )
        rsps.get(f"{self.api}/{self.media}", json=fixture(self.name, "permalink"))

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == self.media
        assert published.url == fixture(self.name, "permalink")["permalink"]
        assert published.thread_ids == (self.media,)
        assert published.extra == {"container_id": self.container}

    def mock_missing_insights(self, rsps: responses.RequestsMock, missing: str) -> None:
        """Insights of a post Meta does not know: 400, code 100, subcode 33."""
        rsps.get(
            f"{self.api}/{missing}/insights",
            json=fixture("graph", "error_missing_object"),
            status=400,
        )
