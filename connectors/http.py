"""HTTP for connectors: the base class of every connector that talks to a web API.

The parts live in small modules; this is their public import point (docs/writing-a-connector.md):
:mod:`connectors.outcomes` (request kinds, outcomes and THE rule that maps
them to an error), :mod:`connectors.client` (:class:`HttpClient`: one session
per account, timeouts, the one error mapping), :mod:`connectors.ratelimit`
(``Retry-After`` and per-route buckets) and :mod:`connectors.bodies` (one line
about an error answer).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import ClassVar, TypeVar

import requests

from connectors.base import (
    BaseConnector,
    ConnectorError,
    ConnectorSettings,
    ConnectorState,
    RateLimited,
    SettingsT,
)
from connectors.bodies import (
    Describe,
    answer_field,
    default_describe,
    describe_fields,
    describe_object,
    summarise_body,
)
from connectors.client import (
    DEFAULT_TIMEOUT,
    PROJECT_URL,
    HttpClient,
    RequestOptions,
    crosspost_version,
    user_agent,
)
from connectors.outcomes import Classify, Kind, Outcome, Verdict, error_class, failure_for
from connectors.ratelimit import RateBuckets, parse_retry_at, retry_after_seconds

__all__ = [
    "DEFAULT_TIMEOUT",
    "HELD_OPEN_MARGIN",
    "PROJECT_URL",
    "Classify",
    "Describe",
    "HttpClient",
    "HttpConnector",
    "Kind",
    "Outcome",
    "RateBuckets",
    "RequestOptions",
    "Verdict",
    "WaitingConnector",
    "answer_field",
    "crosspost_version",
    "describe_fields",
    "describe_object",
    "error_class",
    "failure_for",
    "parse_retry_at",
    "retry_after_seconds",
    "summarise_body",
    "user_agent",
]

_E = TypeVar("_E", bound=ConnectorError)
#: How much longer than the server may hold a call open (long polling) its answer is awaited.
HELD_OPEN_MARGIN = 15.0


class HttpConnector(BaseConnector[SettingsT]):
    """A connector that talks HTTP: builds its :class:`HttpClient` once per account."""

    #: Base URL of the API, unless the settings name one (``base_url``/``instance``).
    base_url: ClassVar[str] = ""
    #: The account's client, built by :meth:`_make_client`.
    http: HttpClient

    def _open(self) -> None:
        self.http = self._make_client()

    def _make_client(self) -> HttpClient:
        """Build the client; subclasses add auth headers and secrets here."""
        return HttpClient(self.name, self.account, base_url=self.base_url, classify=self.classify)

    def held_open(self, seconds: float) -> tuple[float, float]:
        """The (connect, read) timeout of a call the server may hold open for ``seconds``
        (long polling): the read outwaits the server, and never waits less than usual."""
        connect, read = self.http.timeout
        return connect, max(read, seconds + HELD_OPEN_MARGIN)

    def error(self, cls: type[_E], message: str, status: int | None = None) -> _E:
        """An error of this account, with every secret the client knows masked."""
        return self.http.error(cls, message, status)

    def rate_limited(
        self, message: str, retry_at: datetime, status: int | None = None
    ) -> RateLimited:
        """A :class:`RateLimited` of this account, with every secret the client knows masked."""
        return self.http.rate_limited(message, retry_at, status)

    def _bearer_client(
        self,
        token: str,
        *,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        describe: Describe = default_describe,
    ) -> HttpClient:
        """The client of an API that takes ``Authorization: Bearer <token>``, token masked."""
        return HttpClient(
            self.name,
            self.account,
            base_url=self.base_url if base_url is None else base_url,
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
            secrets=[token],
            describe=describe,
            classify=self.classify,
        )

    def classify(self, response: requests.Response) -> Verdict | None:
        """Read the platform's envelope of ``response`` (``ok:false``, error codes, …).

        None leaves the answer to its HTTP status. Never decide here whether the
        platform may have acted: say what happened (:class:`Outcome`), and
        :meth:`HttpClient.failure_for` decides from the request's :class:`Kind`.
        """
        return None


class WaitingConnector(HttpConnector[SettingsT]):
    """An HTTP connector that asks again until the platform has processed an upload.

    Args:
        account: account alias from ``schedule.yaml``.
        settings: the connector's ``Settings``.
        state: the account's state.
        sleep: waits between two checks; tests pass a no-op.
        poll_attempts: how often to ask whether the upload (media, container) is ready.
        poll_interval: seconds between those checks; ``poll_interval_default`` if not given.
    """

    #: Seconds between two checks, for this platform.
    poll_interval_default: ClassVar[float] = 2.0

    def __init__(
        self,
        account: str,
        settings: ConnectorSettings,
        state: ConnectorState | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        poll_attempts: int = 10,
        poll_interval: float | None = None,
    ) -> None:
        super().__init__(account, settings, state)
        self.sleep = sleep
        self.poll_attempts = poll_attempts
        self.poll_interval = self.poll_interval_default if poll_interval is None else poll_interval
