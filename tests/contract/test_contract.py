"""The contract every HTTP connector keeps, run on each of them.

Each case module in ``tests/contract/cases/`` supplies platform-shaped payloads;
the assertions here are the same for every platform.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from connectors.base import (
    AccountMetrics,
    AuthError,
    Capability,
    Metrics,
    Published,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
    Unknown,
)
from tests.contract import cases
from tests.contract.harness import ContractCase, connection_dropped, connection_refused


def _all_cases() -> list[ContractCase]:
    found = []
    for info in pkgutil.iter_modules(cases.__path__):
        module = importlib.import_module(f"{cases.__name__}.{info.name}")
        found.append(module.CASE)
    return sorted(found, key=lambda case: case.name)


CASES = _all_cases()


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
def case(request: pytest.FixtureRequest) -> ContractCase:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


KEY = "crosspost-entry-2026-11-26T10:00-test"


def test_publish_returns_remote_id_and_url(case: ContractCase, rsps) -> None:
    case.mock_publish_ok(rsps)
    published = case.connector().publish(case.post(), KEY)
    assert isinstance(published, Published)
    assert published.remote_id
    assert published.published_at.tzinfo is not None
    case.check_published(published)


def test_idempotency_mechanism_is_used(case: ContractCase, rsps) -> None:
    case.mock_publish_ok(rsps)
    connector = case.connector()
    connector.publish(case.post(), KEY)
    case.check_idempotency(rsps.calls, KEY)
    if Capability.IDEMPOTENCY_KEY in connector.capabilities:
        overridden = type(case).check_idempotency is not ContractCase.check_idempotency
        assert overridden, "a connector that sends a key must have it checked"


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_auth_errors(case: ContractCase, rsps, status: int) -> None:
    case.mock_publish_error(rsps, status)
    with pytest.raises(AuthError) as caught:
        case.connector().publish(case.post(), KEY)
    assert caught.value.platform == case.name


@pytest.mark.parametrize("status", [400, 422])
def test_refused_content_is_rejected(case: ContractCase, rsps, status: int) -> None:
    case.mock_publish_error(rsps, status)
    with pytest.raises(Rejected) as caught:
        case.connector().publish(case.post(), KEY)
    assert caught.value.reason


def test_rate_limit_gives_the_time_to_come_back(case: ContractCase, rsps) -> None:
    case.mock_rate_limited(rsps, 30)
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        case.connector().publish(case.post(), KEY)
    retry_at = caught.value.retry_at
    assert before + timedelta(seconds=25) <= retry_at <= datetime.now(UTC) + timedelta(seconds=35)


def test_server_error_is_transient_only_when_a_resend_is_safe(case: ContractCase, rsps) -> None:
    case.mock_publish_error(rsps, 500)
    connector = case.connector()
    expected = Transient if Capability.IDEMPOTENCY_KEY in connector.capabilities else Unknown
    with pytest.raises(expected):
        connector.publish(case.post(), KEY)


def test_read_timeout_is_unknown(case: ContractCase, rsps) -> None:
    case.mock_publish_exception(rsps, requests.ReadTimeout("read timed out"))
    with pytest.raises(Unknown):
        case.connector().publish(case.post(), KEY)


def test_dropped_connection_is_unknown(case: ContractCase, rsps) -> None:
    case.mock_publish_exception(rsps, connection_dropped())
    with pytest.raises(Unknown):
        case.connector().publish(case.post(), KEY)


def test_refused_connection_is_transient(case: ContractCase, rsps) -> None:
    case.mock_publish_exception(rsps, connection_refused())
    with pytest.raises(Transient):
        case.connector().publish(case.post(), KEY)


def test_too_long_is_rejected_before_sending(case: ContractCase, rsps) -> None:
    case.mock_before_publish(rsps)
    post = RenderedPost(parts=(case.too_long_text(),), content_id="long")
    connector = case.connector()
    assert connector.check(post)
    with pytest.raises(Rejected):
        connector.publish(post, KEY)
    sent = [c for c in rsps.calls if c.request.url.split("?")[0] == case.publish_url]
    assert sent == []


def test_metrics(case: ContractCase, rsps) -> None:
    ids, expected = case.mock_metrics(rsps)
    got = case.connector().fetch_metrics(ids)
    assert got.keys() == expected.keys()
    for remote_id, metrics in expected.items():
        assert isinstance(got[remote_id], Metrics)
        for field in ("likes", "reposts", "replies", "quotes", "views", "bookmarks"):
            assert getattr(got[remote_id], field) == getattr(metrics, field), field


def test_account_metrics(case: ContractCase, rsps) -> None:
    expected = case.mock_account_metrics(rsps)
    got = case.connector().account_metrics()
    assert isinstance(got, AccountMetrics)
    for field in ("followers", "following", "posts", "members"):
        assert getattr(got, field) == getattr(expected, field), field


def test_limits_are_declared(case: ContractCase) -> None:
    connector = case.connector()
    assert connector.limits.max_length > 0
    assert connector.limits.unit
    assert connector.measure(case.too_long_text()) > connector.effective_limits.max_length


def test_secrets_never_show(case: ContractCase, rsps) -> None:
    connector = case.connector()
    case.mock_publish_error(rsps, 401)
    with pytest.raises(AuthError) as caught:
        connector.publish(case.post(), KEY)
    shown = " ".join([repr(connector), str(caught.value), repr(connector.settings)])
    for secret in case.secrets:
        assert secret not in shown


#: Plain URLs of one length (ASCII URL characters, found as links): a connector that
#: declares ``url_counting`` counts each of them alike, wherever it stands.
SAME_LENGTH_URLS = [
    "https://example.org/news/1?utm_source=x&utm_campaign=e1000",
    "https://example.org/news/1?utm_source=x&utm_campaign=e9999",
    "http://www.example.com/a/b-c_d/e?f=0123456789&g=h-ij_kl.mn",
]
AROUND_URLS = [
    "Read more: ",
    "Café «naïve» 日本語の 👩\u200d👩\u200d👧 🇺🇦 ",
    "(see ",
    "@ana ",
    "#repair ",
]
AFTER_URLS = ["", " now.", "\n\nNext paragraph, e\u0301te\u0301.", ") and more", " 👍"]


def test_declared_url_counting_holds(case: ContractCase) -> None:
    connector = case.connector()
    counting = getattr(connector, "url_counting", None)
    if counting is None:
        pytest.skip(f"{case.name} declares no url_counting: its texts are cut one by one")
    assert len({len(url) for url in SAME_LENGTH_URLS}) == 1
    for before in AROUND_URLS:
        for after in AFTER_URLS:
            counts = {connector.measure(before + url + after) for url in SAME_LENGTH_URLS}
            assert len(counts) == 1, (before, after, counts)
