"""Contract case for the Matrix connector (payloads in ``tests/fixtures/matrix``).

Matrix errors are ``{"errcode", "error"}`` bodies; the statuses the suite asks for
are answered with the errcode a homeserver sends for them (Synapse's, checked in
tests/realserver/test_matrix.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import responses

from connectors.base import AccountMetrics, Metrics, Published
from connectors.matrix import txn_id
from tests.contract.harness import ContractCase, fixture

HS = "https://matrix.example.org"
TOKEN = "syt_dG93bi1ib3Q_contract_secret_7d1"
ROOM = "!Z7skNF8kJYgykP4vxTPQ0utX4OlP6YHcDL0K5klUmeY"
ROOM_PATH = f"{HS}/_matrix/client/v3/rooms/{quote(ROOM, safe='')}"
#: The key the suite publishes with (``test_contract.KEY``): the txn id is derived from it.
KEY = "crosspost-entry-2026-11-26T10:00-test"
EVENT = "$rjRvxC9f_mCloAshijKEar_3BZaGEb5ohCUhzInjwzc"

#: HTTP status the suite asks for → (status a homeserver sends, fixture of its body).
_ERRORS: dict[int, tuple[int, str]] = {
    401: (401, "error_unknown_token"),
    403: (403, "error_forbidden"),
    400: (400, "error_bad_json"),
    422: (413, "error_too_large"),
    429: (429, "error_limit_exceeded"),
    500: (500, "error_unknown"),
}


def payload(name: str) -> Any:
    """A Matrix fixture payload."""
    return fixture("matrix", name)


class MatrixCase(ContractCase):
    """Drives ``MatrixConnector`` against ``https://matrix.example.org`` with a token."""

    name = "matrix"
    secrets = (TOKEN,)
    publish_method = "PUT"
    publish_url = f"{ROOM_PATH}/send/m.room.message/{txn_id(KEY)}"

    def settings(self) -> Mapping[str, Any]:
        return {"homeserver": HS, "room": ROOM, "access_token": TOKEN}

    def mock_before_publish(self, rsps: responses.RequestsMock) -> None:
        rsps.get(f"{HS}/_matrix/client/v3/account/whoami", json=payload("whoami"))

    def mock_publish_ok(self, rsps: responses.RequestsMock) -> None:
        self.mock_before_publish(rsps)
        rsps.put(self.publish_url, json=payload("send"))

    def error_body(self, status: int) -> Any:
        return payload(_ERRORS.get(status, (status, "error_unknown"))[1])

    def mock_publish_error(
        self, rsps: responses.RequestsMock, status: int, headers: Mapping[str, str] | None = None
    ) -> None:
        sent, name = _ERRORS.get(status, (status, "error_unknown"))
        self.mock_before_publish(rsps)
        rsps.put(self.publish_url, json=payload(name), status=sent, headers=dict(headers or {}))

    def mock_rate_limited(self, rsps: responses.RequestsMock, seconds: int) -> None:
        body = {**payload("error_limit_exceeded"), "retry_after_ms": seconds * 1000 - 182}
        self.mock_before_publish(rsps)
        rsps.put(self.publish_url, json=body, status=429, headers={"Retry-After": str(seconds)})

    def check_published(self, published: Any) -> None:
        assert isinstance(published, Published)
        assert published.remote_id == EVENT
        assert published.url == (
            f"https://matrix.to/#/{ROOM}/{quote(EVENT, safe='')}?via=example.org"
        )
        assert published.extra["room_id"] == ROOM

    def check_idempotency(self, calls: Sequence[responses.Call], key: str) -> None:
        sends = [c for c in calls if c.request.method == "PUT"]
        assert [c.request.url for c in sends] == [f"{ROOM_PATH}/send/m.room.message/{txn_id(key)}"]

    def mock_metrics(self, rsps: responses.RequestsMock) -> tuple[list[str], dict[str, Metrics]]:
        rsps.get(f"{ROOM_PATH}/event/{quote(EVENT, safe='')}", json=payload("event"))
        relations = (
            f"{HS}/_matrix/client/v1/rooms/{quote(ROOM, safe='')}/relations/"
            f"{quote(EVENT, safe='')}/m.annotation"
        )
        rsps.get(relations, json=payload("relations_1"), match=[_no_from()])
        rsps.get(relations, json=payload("relations_2"))
        gone = "$gone00000000000000000000000000000000000000"
        rsps.get(
            f"{ROOM_PATH}/event/{quote(gone, safe='')}",
            json=payload("error_not_found"),
            status=404,
        )
        # ada 👍 and 🎉, grace 👍 twice (counted once)
        return [EVENT, gone], {EVENT: Metrics(likes=3, replies=2)}

    def mock_account_metrics(self, rsps: responses.RequestsMock) -> AccountMetrics:
        rsps.get(f"{ROOM_PATH}/joined_members", json=payload("joined_members"))
        rsps.get(f"{ROOM_PATH}/messages", json=payload("head"))
        return AccountMetrics(members=3)

    def too_long_text(self) -> str:
        # The HTML and its plain body both go into the event: 30,721 bytes each, as JSON.
        return "x" * 30_719


def _no_from() -> Any:
    def match(request: Any) -> tuple[bool, str]:
        return "from=" not in (request.url or ""), "a first page has no from"

    return match


CASE = MatrixCase()
