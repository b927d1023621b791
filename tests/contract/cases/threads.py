"""Threads in the shared contract suite: a text post through a container (payloads in fixtures)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import responses
from responses import matchers

from connectors.base import AccountMetrics, Connector, MemoryState, Metrics
from connectors.threads import ThreadsConnector
from tests.contract.graph_case import ContainerCase
from tests.contract.harness import fixture

API = "https://graph.threads.net/v1.0"
TOKEN = "THQVJcontract-threads-token-7c41d2"
USER = "25839167493021847"
CONTAINER = "17889615691921648"
MEDIA = "18046719841952247"
MISSING = "18000000000000404"


def payload(name: str) -> Any:
    """A Threads fixture payload."""
    return fixture("threads", name)


def fresh_token_state(connector: ThreadsConnector) -> MemoryState:
    """A state holding the configured token as refreshed lately, so no refresh is due."""
    expires = datetime.now(UTC) + timedelta(days=50)
    token = {"seed": connector._seed(), "access_token": TOKEN, "expires_at": expires.isoformat()}
    return MemoryState({"token": token})


class ThreadsCase(ContainerCase):
    """Drives ``ThreadsConnector`` against ``graph.threads.net``."""

    name = "threads"
    api = API
    container = CONTAINER
    media = MEDIA
    secrets = (TOKEN,)
    publish_method = "POST"
    publish_url = f"{API}/{USER}/threads_publish"

    def settings(self) -> Mapping[str, Any]:
        return {"access_token": TOKEN, "user_id": USER}

    def connector(self) -> Connector:
        settings = ThreadsConnector.Settings.model_validate(dict(self.settings()))
        connector = ThreadsConnector("test", settings)
        connector.state = fresh_token_state(connector)
        return connector

    def mock_before_publish(self, rsps: responses.RequestsMock) -> None:
        rsps.post(
            f"{API}/{USER}/threads",
            json=payload("container"),
            match=[matchers.query_param_matcher({"access_token": TOKEN})],
        )
        rsps.get(f"{API}/{CONTAINER}", json=payload("container_finished"))

    def check_idempotency(self, calls: Sequence[responses.Call], key: str) -> None:
        # No key exists: the one publishing request names the container it publishes.
        published = [c for c in calls if c.request.url.split("?")[0] == self.publish_url]
        assert len(published) == 1

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.get(
            f"{API}/{MEDIA}/insights",
            json=payload("insights"),
            match=[
                matchers.query_param_matcher(
                    {"metric": "views,likes,replies,reposts,quotes,shares", "access_token": TOKEN}
                )
            ],
        )
        self.mock_missing_insights(rsps, MISSING)
        expected = Metrics(likes=96, reposts=9, replies=14, quotes=3, views=2841)
        return [MEDIA, MISSING], {MEDIA: expected}

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.get(
            f"{API}/{USER}/threads_insights",
            json=payload("followers"),
            match=[matchers.query_param_matcher({"metric": "followers_count"}, strict_match=False)],
        )
        return AccountMetrics(followers=4213)

    def too_long_text(self) -> str:
        # 498 characters as a reader sees them, 501 by Threads' count: the emoji is 4 bytes.
        return "a" * 497 + "👍"


CASE = ThreadsCase()
