"""Every request of every connector says what it does, and the kind decides the error.

The requests are recorded through :attr:`HttpClient.observers` while each contract
case publishes and reads back, so the listing follows the code, not a copy of it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from connectors.base import Capability
from connectors.http import HttpClient, Kind, Outcome, Verdict
from tests.contract.harness import ContractCase
from tests.contract.test_contract import CASES, KEY

Sent = list[tuple[str, str, Kind]]
CONNECTORS = Path(__file__).resolve().parents[2] / "connectors"
#: The modules allowed to name the uncertain outcome: the rule, the client that applies
#: it, and the contract that re-exports the tree.
BOUNDARY = {CONNECTORS / name for name in ("outcomes.py", "client.py", "base.py")}


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
def case(request: pytest.FixtureRequest) -> ContractCase:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def sent() -> Iterator[Sent]:
    calls: Sent = []

    def record(method: str, url: str, kind: Kind) -> None:
        calls.append((method, url.split("?")[0], kind))

    HttpClient.observers.append(record)
    yield calls
    HttpClient.observers.remove(record)


def _kinds(calls: Sent, url: str) -> set[Kind]:
    return {kind for _method, sent_url, kind in calls if sent_url == url}


def test_publishing_requests_say_whether_a_key_goes_with_them(
    case: ContractCase, sent: Sent
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        case.mock_publish_ok(rsps)
        connector = case.connector()
        connector.publish(case.post(), KEY)
    keyed = Capability.IDEMPOTENCY_KEY in connector.capabilities
    expected = Kind.KEYED_WRITE if keyed else Kind.PUBLISHING_WRITE
    publish_url = case.publish_url  # as the client shows it: with its secrets masked
    for secret in case.secrets:
        publish_url = publish_url.replace(secret, "***")
    assert _kinds(sent, publish_url) == {expected}
    others = {kind for _m, url, kind in sent if url != publish_url}
    assert others <= {Kind.READ, Kind.HARMLESS_WRITE}, sent


def test_reading_back_only_reads(case: ContractCase, sent: Sent) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        ids, _expected = case.mock_metrics(rsps)
        case.connector().fetch_metrics(ids)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        case.mock_account_metrics(rsps)
        case.connector().account_metrics()
    listed = {(method, kind) for method, _url, kind in sent}
    assert bool(listed) == case.reads_back, "reads_back says whether reading back sends anything"
    # A session login may precede a read; it is harmless, never publishing.
    assert {kind for _m, kind in listed} <= {Kind.READ, Kind.HARMLESS_WRITE}
    assert all(kind is Kind.READ for method, kind in listed if method == "GET")


def _modules() -> list[Path]:
    return sorted(p for p in CONNECTORS.rglob("*.py") if p not in BOUNDARY)


def _uncertainty_decisions(tree: ast.AST) -> list[int]:
    """Lines that name ``Unknown``: raising it, catching it or choosing it."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Name) and node.id == "Unknown")
        or (isinstance(node, ast.alias) and node.name == "Unknown")
    ]


@pytest.mark.parametrize("module", _modules(), ids=lambda p: p.name)
def test_no_connector_decides_unknown_versus_transient(module: Path) -> None:
    source = module.read_text(encoding="utf-8")
    lines = _uncertainty_decisions(ast.parse(source))
    assert lines == [], f"{module.name} names Unknown at lines {lines}; say the request's Kind"
    for needle in ("ok=range(", "error_for(", "keyed=", "write=", "metadata.version("):
        assert needle not in source, f"{module.name} still uses {needle!r}"


_T, _U = "Transient", "Unknown"


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        # read, harmless_write, keyed_write, publishing_write
        (Outcome.NOT_SENT, (_T, _T, _T, _T)),
        (Outcome.ANSWER_LOST, (_T, _T, _U, _U)),
        (Outcome.PLATFORM_FAILED, (_T, _T, _T, _U)),
        (Outcome.AUTH, ("AuthError",) * 4),
        (Outcome.REJECTED, ("Rejected",) * 4),
        (Outcome.RATE_LIMITED, ("RateLimited",) * 4),
    ],
)
def test_one_mapping_from_what_happened_and_the_kind(
    outcome: Outcome, expected: tuple[str, ...]
) -> None:
    client = HttpClient("demo", "acct")
    kinds = (Kind.READ, Kind.HARMLESS_WRITE, Kind.KEYED_WRITE, Kind.PUBLISHING_WRITE)
    got = tuple(type(client.failure_for(Verdict(outcome, "x"), kind)).__name__ for kind in kinds)
    assert got == expected
