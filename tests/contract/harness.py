"""What a connector's test author provides so the shared contract suite can run on it.

Subclass :class:`ContractCase` in ``tests/contract/cases/<name>.py`` and set
``CASE = YourCase()``. Every method registers mocks with ``responses`` shaped
like the platform's documented answers; the suite decides which to call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
import responses
import urllib3

from connectors.base import (
    AccountMetrics,
    Connector,
    Metrics,
    RenderedPost,
)
from connectors.http import HttpConnector
from crosspost.loading import registry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(platform: str, name: str) -> Any:
    """The JSON payload ``tests/fixtures/<platform>/<name>.json``."""
    return json.loads((FIXTURES / platform / f"{name}.json").read_text(encoding="utf-8"))


class ContractCase:
    """How to drive one connector through the shared contract tests."""

    #: Entry-point name of the connector.
    name: str = ""
    #: Secret values present in ``settings()``; none may leak into errors or reprs.
    secrets: Sequence[str] = ()
    #: HTTP method and URL of the request that creates the post; error tests fail it.
    publish_method: str = "POST"
    publish_url: str = ""
    #: Whether reading back (metrics, account figures) asks the platform anything;
    #: False for a target that has nothing to report (a webhook).
    reads_back: bool = True

    # -- building -------------------------------------------------------------

    def settings(self) -> Mapping[str, Any]:
        """Account settings as written in schedule.yaml, secrets resolved."""
        raise NotImplementedError

    def connector(self) -> Connector:
        """A connector for the test account."""
        cls = registry.load(self.name)
        return cls("test", cls.Settings.model_validate(dict(self.settings())))

    def post(self) -> RenderedPost:
        """A small post that fits every limit."""
        return RenderedPost(
            parts=("Hello from crosspost! https://example.org/launch",), content_id="hello"
        )

    # -- mocks ----------------------------------------------------------------

    def mock_before_publish(self, rsps: responses.RequestsMock) -> None:
        """Register calls the connector makes before the publish request (sessions, instance)."""

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        """Register everything a successful publish of ``post()`` needs."""
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        """The platform's documented error body for an HTTP status."""
        return {"error": f"error {status}"}

    def mock_publish_error(
        self, rsps: responses.RequestsMock, status: int, headers: Mapping[str, str] | None = None
    ) -> None:
        """Make the publish request fail with ``status`` (after the calls before it)."""
        self.mock_before_publish(rsps)
        rsps.add(
            self.publish_method,
            self.publish_url,
            json=self.error_body(status),
            status=status,
            headers=dict(headers or {}),
        )

    def mock_publish_exception(self, rsps: responses.RequestsMock, exc: Exception) -> None:
        """Make the publish request raise ``exc`` as ``requests`` would."""
        self.mock_before_publish(rsps)
        rsps.add(self.publish_method, self.publish_url, body=exc)

    def mock_rate_limited(self, rsps: responses.RequestsMock, seconds: int) -> None:
        """A 429 saying "come back in ``seconds``" the way the platform says it."""
        self.mock_publish_error(rsps, 429, {"Retry-After": str(seconds)})

    # -- expectations ---------------------------------------------------------

    def check_published(self, published: Any) -> None:
        """Assert the remote id and URL taken from ``mock_publish_ok``'s payload."""
        raise NotImplementedError

    def check_idempotency(self, calls: Sequence[responses.Call], key: str) -> None:
        """Assert the platform's idempotency mechanism carried ``key`` (or do nothing)."""

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        """Register metrics answers; return the ids to ask for and what must come back."""
        raise NotImplementedError

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        """Register the account answer; return what must come back."""
        raise NotImplementedError

    def too_long_text(self) -> str:
        """A text one unit over the platform's limit, by the platform's own count."""
        raise NotImplementedError


def is_http_connector(connector: Connector) -> bool:
    """Whether the connector sends HTTP (all contract cases do)."""
    return isinstance(connector, HttpConnector)


def connection_refused() -> requests.ConnectionError:
    """What ``requests`` raises when nothing listens: the request never left."""
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", reason))  # type: ignore[arg-type]


def connection_dropped() -> requests.ConnectionError:
    """What ``requests`` raises when the server closes after reading the request."""
    reason = urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104))
    return requests.ConnectionError(reason)
