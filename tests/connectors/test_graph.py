"""The Graph API plumbing of facebook, instagram and threads: envelope, usage, payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from connectors.base import MediaItem, RenderedPost
from connectors.graph import (
    DEFAULT_WAIT,
    count,
    graph_verdict,
    insight_values,
    media_url,
    media_url_problems,
    usage_wait,
)
from connectors.http import HttpClient, Kind, Outcome
from tests.contract.harness import fixture

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def answer(
    body: object, status: int = 400, headers: dict[str, str] | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers.update(headers or {})
    response.url = "https://graph.facebook.com/v23.0/123/feed"
    return response


def envelope(code: int, **extra: object) -> dict[str, object]:
    return {
        "error": {
            "message": f"(#{code}) something",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AbC123",
            **extra,
        }
    }


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (190, Outcome.AUTH),
        (102, Outcome.AUTH),
        (10, Outcome.AUTH),
        (200, Outcome.AUTH),
        (299, Outcome.AUTH),
        (4, Outcome.RATE_LIMITED),
        (17, Outcome.RATE_LIMITED),
        (32, Outcome.RATE_LIMITED),
        (341, Outcome.RATE_LIMITED),
        (613, Outcome.RATE_LIMITED),
        (80001, Outcome.RATE_LIMITED),
        (80002, Outcome.RATE_LIMITED),
        (80014, Outcome.RATE_LIMITED),
        (1, Outcome.PLATFORM_FAILED),
        (2, Outcome.PLATFORM_FAILED),
        (100, Outcome.REJECTED),
        (506, Outcome.REJECTED),
        (368, Outcome.REJECTED),
        (80015, Outcome.REJECTED),
    ],
)
def test_each_code_says_what_happened(code: int, outcome: Outcome) -> None:
    verdict = graph_verdict(answer(envelope(code)), NOW)
    assert verdict is not None and verdict.outcome is outcome


def test_is_transient_is_a_platform_failure_whatever_the_code() -> None:
    verdict = graph_verdict(answer(envelope(100, is_transient=True), 500), NOW)
    assert verdict is not None and verdict.outcome is Outcome.PLATFORM_FAILED


def test_a_throttle_flagged_transient_is_still_a_rate_limit() -> None:
    verdict = graph_verdict(answer(fixture("graph", "error_app_limit")), NOW)
    assert verdict is not None and verdict.outcome is Outcome.RATE_LIMITED


def test_the_message_keeps_code_subcode_and_trace_for_support() -> None:
    verdict = graph_verdict(answer(fixture("graph", "error_token_expired")), NOW)
    assert verdict is not None
    assert "code 190/463" in verdict.message
    assert "fbtrace_id AzQm7vT2kPq1rXyZ0bC4dEf" in verdict.message
    assert "Session has expired" in verdict.message


def test_the_user_message_is_preferred_when_meta_gives_one() -> None:
    verdict = graph_verdict(answer(fixture("graph", "error_duplicate")), NOW)
    assert verdict is not None and verdict.outcome is Outcome.REJECTED
    assert "identical to the last one" in verdict.message


@pytest.mark.parametrize(
    "body", [{"data": []}, ["error"], {"error": "x"}, {"error": {"code": "4"}}]
)
def test_answers_without_an_envelope_are_left_to_their_status(body: object) -> None:
    assert graph_verdict(answer(body), NOW) is None


def test_an_html_error_page_is_left_to_its_status() -> None:
    response = requests.Response()
    response.status_code = 502
    response._content = b"<html><body>Bad Gateway</body></html>"
    assert graph_verdict(response, NOW) is None


def test_buc_usage_gives_the_wait_in_minutes() -> None:
    usage = {
        "104859372810475": [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 30,
                "estimated_time_to_regain_access": 17,
            }
        ]
    }
    headers = {"X-Business-Use-Case-Usage": json.dumps(usage)}
    verdict = graph_verdict(answer(fixture("graph", "error_page_limit"), 400, headers), NOW)
    assert verdict is not None and verdict.retry_at == NOW + timedelta(minutes=17)


def test_the_longest_estimate_of_all_headers_wins() -> None:
    headers = {
        "X-App-Usage": json.dumps({"call_count": 100, "total_time": 40, "total_cputime": 20}),
        "x-page-usage": json.dumps({"call_count": 100, "estimated_time_to_regain_access": 9}),
        "X-Business-Use-Case-Usage": json.dumps(
            {"1": [{"estimated_time_to_regain_access": 3}, {"estimated_time_to_regain_access": 0}]}
        ),
    }
    assert usage_wait(headers) == timedelta(minutes=9)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-App-Usage": "not json"},
        {"X-App-Usage": json.dumps({"call_count": 100})},
        {"X-Business-Use-Case-Usage": json.dumps({"1": [{"estimated_time_to_regain_access": 0}]})},
        {"X-Business-Use-Case-Usage": json.dumps([1, 2])},
    ],
)
def test_no_estimate_gives_no_wait(headers: dict[str, str]) -> None:
    assert usage_wait(headers) is None


def test_a_throttle_without_estimate_uses_retry_after_then_the_default() -> None:
    retry_after = graph_verdict(answer(envelope(4), 400, {"Retry-After": "90"}), NOW)
    assert retry_after is not None and retry_after.retry_at == NOW + timedelta(seconds=90)
    nothing = graph_verdict(answer(envelope(17)), NOW)
    assert nothing is not None and nothing.retry_at == NOW + DEFAULT_WAIT


@pytest.mark.parametrize(
    ("code", "kind", "error"),
    [
        (2, Kind.PUBLISHING_WRITE, "Unknown"),
        (2, Kind.READ, "Transient"),
        (2, Kind.HARMLESS_WRITE, "Transient"),
        (190, Kind.PUBLISHING_WRITE, "AuthError"),
        (80001, Kind.READ, "RateLimited"),
        (100, Kind.PUBLISHING_WRITE, "Rejected"),
    ],
)
def test_the_client_turns_the_verdict_into_the_error_for_the_kind(
    code: int, kind: Kind, error: str
) -> None:
    client = HttpClient("facebook", "page", classify=lambda r: graph_verdict(r, NOW))
    assert type(client.failure(answer(envelope(code)), kind)).__name__ == error


# --------------------------------------------------------------------------- payloads


def test_insight_values_read_values_and_total_value() -> None:
    values = insight_values(fixture("facebook", "post_insights"))
    assert values["post_media_view"] == 3120
    assert count(values, "post_reactions_by_type_total") == 57
    assert insight_values(fixture("threads", "followers")) == {"followers_count": 4213}


def test_insight_values_skip_what_is_not_a_count() -> None:
    body = {
        "data": [
            {"name": "a", "values": [{"value": True}]},
            {"name": "b"},
            "x",
            {"name": "c", "values": [{"value": {"x": "1"}}]},
            {"name": "d", "values": [{"value": 2}]},
        ]
    }
    assert insight_values(body) == {"d": 2}


@pytest.mark.parametrize(
    ("written", "url"),
    [
        ("images/a.jpg", "https://site.example/media/images/a.jpg"),
        ("./a.jpg", "https://site.example/media/a.jpg"),
        ("", None),
        ("../secret.jpg", None),
        ("/etc/a.jpg", None),
    ],
)
def test_media_url_is_the_written_path_under_the_base(written: str, url: str | None) -> None:
    item = MediaItem(Path("/project/content/x.jpg"), relative_path=written)
    assert media_url("https://site.example/media/", item) == url


def test_media_url_problems_name_the_setting_and_the_file() -> None:
    item = MediaItem(Path("/project/content/a.jpg"), relative_path="")
    post = RenderedPost(parts=("x",), media=(item,))
    assert "media_base_url" in media_url_problems(None, post, "Threads")[0]
    assert "a.jpg" in media_url_problems("https://s.example", post, "Threads")[0]
    assert media_url_problems(None, RenderedPost(parts=("x",)), "Threads") == []
