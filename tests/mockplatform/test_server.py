"""The mock Mastodon server, exercised with plain ``requests`` over real sockets."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

import tests.mockplatform as package
from connectors.base import RateLimited, Transient, Unknown
from connectors.http import HttpClient, Kind, parse_retry_at
from tests.mockplatform import Fault, FaultRule, MockMastodon
from tests.mockplatform.fixtures import mock_mastodon  # noqa: F401 - the fixture under test

STATUSES = "/api/v1/statuses"


@pytest.fixture
def server() -> Iterator[MockMastodon]:
    with MockMastodon(tokens=("token-a", "token-b"), seed=7) as mock:
        yield mock


def auth(token: str = "token-a") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(
    server: MockMastodon,
    text: str = "Hello",
    key: str | None = None,
    token: str = "token-a",
    **kwargs: Any,
) -> requests.Response:
    headers = auth(token) | ({"Idempotency-Key": key} if key else {})
    return requests.post(
        server.url + STATUSES, data={"status": text}, headers=headers, **({"timeout": 5} | kwargs)
    )


def wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def client(server: MockMastodon, read_timeout: float = 5.0) -> HttpClient:
    return HttpClient(
        "mastodon",
        "test",
        base_url=server.url,
        headers=auth(),
        secrets=["token-a"],
        timeout=(2.0, read_timeout),
    )


# --------------------------------------------------------------------------- endpoints


def test_package_exports_everything_it_lists() -> None:
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError):
        package.NoSuchThing  # noqa: B018
    assert package.mock_mastodon.__name__ == "mock_mastodon"


def test_instance_declares_the_limits_a_connector_reads(server: MockMastodon) -> None:
    response = requests.get(server.url + "/api/v2/instance", timeout=5)
    assert response.status_code == 200
    config = response.json()["configuration"]
    assert config["statuses"] == {
        "max_characters": 500,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
    }
    assert "image/png" in config["media_attachments"]["supported_mime_types"]
    assert config["media_attachments"]["image_size_limit"] > 0
    assert response.json()["domain"] == server.url.removeprefix("http://")


def test_verify_credentials_reports_counts(server: MockMastodon) -> None:
    server.set_followers(42, following=3)
    post(server)
    body = requests.get(
        server.url + "/api/v1/accounts/verify_credentials", headers=auth(), timeout=5
    ).json()
    assert (body["followers_count"], body["following_count"], body["statuses_count"]) == (42, 3, 1)
    assert body["source"]["privacy"] == "public"
    other = requests.get(
        server.url + "/api/v1/accounts/verify_credentials", headers=auth("token-b"), timeout=5
    ).json()
    assert other["id"] != body["id"] and other["statuses_count"] == 0


@pytest.mark.parametrize("as_json", [False, True])
def test_post_status_form_or_json(server: MockMastodon, as_json: bool) -> None:
    fields = {
        "status": "Tea & cake\nat 5",
        "visibility": "unlisted",
        "language": "de",
        "spoiler_text": "food",
    }
    kwargs: dict[str, Any] = {"json": fields} if as_json else {"data": fields}
    response = requests.post(server.url + STATUSES, headers=auth(), timeout=5, **kwargs)
    assert response.status_code == 200
    status = response.json()
    assert status["content"] == "<p>Tea &amp; cake<br />at 5</p>"
    assert (status["visibility"], status["language"], status["spoiler_text"]) == (
        "unlisted",
        "de",
        "food",
    )
    assert status["sensitive"] is True
    assert status["url"] == f"{server.url}/@crosspost_mock/{status['id']}"
    assert status["uri"].endswith(f"/statuses/{status['id']}")
    assert status["account"]["acct"] == "crosspost_mock"
    assert datetime.fromisoformat(status["created_at"]).tzinfo is not None
    assert response.headers["X-RateLimit-Limit"] == "300"
    assert [s["id"] for s in server.statuses] == [status["id"]]


def test_post_status_validation(server: MockMastodon) -> None:
    assert post(server, "   ").status_code == 422
    assert post(server, "x" * 501).json() == {
        "error": "Validation failed: Text character limit of 500 exceeded"
    }
    # A URL counts as 23 characters whatever its length.
    assert post(server, "y" * 470 + " https://example.org/" + "z" * 100).status_code == 200
    bad_media = requests.post(
        server.url + STATUSES, data={"status": "x", "media_ids[]": ["9"]}, headers=auth(), timeout=5
    )
    assert bad_media.status_code == 422


def test_idempotency_key_returns_the_same_status(server: MockMastodon) -> None:
    first = post(server, "once", key="abc").json()
    again = post(server, "once", key="abc").json()
    other_key = post(server, "once", key="xyz").json()
    other_token = post(server, "once", key="abc", token="token-b").json()
    assert again["id"] == first["id"]
    assert len({first["id"], other_key["id"], other_token["id"]}) == 3
    assert [s["idempotency_key"] for s in server.statuses] == ["abc", "xyz", "abc"]


def test_get_status_counts_and_404(server: MockMastodon) -> None:
    status_id = post(server).json()["id"]
    server.set_counts(status_id, favourites=5, reblogs=2, replies=1, quotes=4)
    response = requests.get(f"{server.url}{STATUSES}/{status_id}", timeout=5)  # public: no token
    counts = {
        k: response.json()[k]
        for k in ("favourites_count", "reblogs_count", "replies_count", "quotes_count")
    }
    assert counts == {
        "favourites_count": 5,
        "reblogs_count": 2,
        "replies_count": 1,
        "quotes_count": 4,
    }
    missing = requests.get(f"{server.url}{STATUSES}/1234", headers=auth(), timeout=5)
    assert (missing.status_code, missing.json()) == (404, {"error": "Record not found"})
    bad_token = requests.get(f"{server.url}{STATUSES}/{status_id}", headers=auth("nope"), timeout=5)
    assert bad_token.status_code == 401


def test_reply_counts_on_the_parent(server: MockMastodon) -> None:
    parent = post(server, "1/2").json()
    reply = requests.post(
        server.url + STATUSES,
        headers=auth(),
        timeout=5,
        data={"status": "2/2", "in_reply_to_id": parent["id"]},
    ).json()
    assert reply["in_reply_to_id"] == parent["id"]
    assert reply["in_reply_to_account_id"] == parent["account"]["id"]
    got = requests.get(f"{server.url}{STATUSES}/{parent['id']}", timeout=5).json()
    assert got["replies_count"] == 1


def test_delete_status(server: MockMastodon) -> None:
    status_id = post(server, "bye").json()["id"]
    not_mine = requests.delete(
        f"{server.url}{STATUSES}/{status_id}", headers=auth("token-b"), timeout=5
    )
    assert not_mine.status_code == 404
    deleted = requests.delete(f"{server.url}{STATUSES}/{status_id}", headers=auth(), timeout=5)
    assert deleted.status_code == 200
    assert deleted.json()["text"] == "bye" and "content" not in deleted.json()
    again = requests.delete(f"{server.url}{STATUSES}/{status_id}", headers=auth(), timeout=5)
    assert again.json() == {"error": "Record not found"}
    assert server.statuses == []
    me = requests.get(f"{server.url}/api/v1/accounts/verify_credentials", headers=auth(), timeout=5)
    assert me.json()["statuses_count"] == 0  # counted down, as it was counted up
    post(server, "again")
    server.reset()
    me = requests.get(f"{server.url}/api/v1/accounts/verify_credentials", headers=auth(), timeout=5)
    assert me.json()["statuses_count"] == 0


def test_account_statuses_newest_first_with_limit(server: MockMastodon) -> None:
    ids = [post(server, f"n{i}").json()["id"] for i in range(5)]
    account_id = server.statuses[0]["account"]["id"]
    url = f"{server.url}/api/v1/accounts/{account_id}/statuses"
    page = requests.get(url, params={"limit": 2}, headers=auth(), timeout=5)
    assert [s["id"] for s in page.json()] == [ids[4], ids[3]]
    assert f"max_id={ids[3]}" in page.links["next"]["url"]
    older = requests.get(page.links["next"]["url"], headers=auth(), timeout=5).json()
    assert [s["id"] for s in older] == [ids[2], ids[1]]
    assert requests.get(f"{server.url}/api/v1/accounts/1/statuses", timeout=5).status_code == 404


def test_media_upload_and_attach(server: MockMastodon) -> None:
    upload = requests.post(
        server.url + "/api/v2/media",
        headers=auth(),
        timeout=5,
        files={"file": ("cat.png", b"\x89PNG fake bytes", "image/png")},
        data={"description": "A cat", "focus": "-0.5,0.25"},
    )
    assert upload.status_code == 200
    media = upload.json()
    assert (media["type"], media["description"]) == ("image", "A cat")
    assert media["meta"]["focus"] == {"x": -0.5, "y": 0.25} and media["url"].endswith(".png")
    fetched = requests.get(f"{server.url}/api/v1/media/{media['id']}", headers=auth(), timeout=5)
    assert fetched.json() == media
    status = requests.post(
        server.url + STATUSES,
        headers=auth(),
        timeout=5,
        data={"status": "", "media_ids[]": [media["id"]]},
    ).json()
    assert [m["id"] for m in status["media_attachments"]] == [media["id"]]
    attached = requests.get(f"{server.url}/api/v1/media/{media['id']}", headers=auth(), timeout=5)
    assert attached.status_code == 404
    recorded = server.requests[0].form["file"]
    assert recorded == {"filename": "cat.png", "content_type": "image/png", "size": 15}
    no_file = requests.post(
        server.url + "/api/v2/media", headers=auth(), timeout=5, files={"description": (None, "x")}
    )
    assert no_file.status_code == 422


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic token-a"}]
)
def test_missing_or_invalid_token_is_401(server: MockMastodon, headers: dict[str, str]) -> None:
    response = requests.post(
        server.url + STATUSES, data={"status": "x"}, headers=headers, timeout=5
    )
    assert (response.status_code, response.json()) == (
        401,
        {"error": "The access token is invalid"},
    )
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert server.statuses == []


# --------------------------------------------------------------------------- faults


def test_status_fault_applies_once_then_clears(server: MockMastodon) -> None:
    server.fail_next("POST", STATUSES, Fault.status(503))
    failed = post(server)
    assert (failed.status_code, failed.json()) == (503, {"error": "Service Unavailable"})
    assert post(server).status_code == 200
    assert len(server.statuses) == 1
    assert [(r.status, r.fault) for r in server.requests] == [(503, "status"), (200, None)]


def test_status_fault_after_acting_stores_the_post(server: MockMastodon) -> None:
    server.fail_next("POST", STATUSES, Fault.status(502, after=True))
    assert post(server).status_code == 502
    assert len(server.statuses) == 1


def test_rate_limit_fault_headers(server: MockMastodon) -> None:
    server.fail_next("*", "/api/v1/statuses", Fault.rate_limit(retry_after=30))
    response = post(server)
    assert (response.status_code, response.json()) == (429, {"error": "Too many requests"})
    assert response.headers["Retry-After"] == "30"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    reset = datetime.fromisoformat(response.headers["X-RateLimit-Reset"])
    assert timedelta(0) < reset - datetime.now(UTC) <= timedelta(seconds=31)
    retry_at = parse_retry_at(response.headers)
    assert retry_at is not None and 28 <= (retry_at - datetime.now(UTC)).total_seconds() <= 31
    with pytest.raises(RateLimited):
        server.fail_next("POST", STATUSES, Fault.rate_limit(retry_after=5))
        client(server).request("POST", STATUSES, data={"status": "x"}, kind=Kind.KEYED_WRITE)
    assert server.statuses == []


def test_slow_fault_passes_the_read_timeout_and_still_posts(server: MockMastodon) -> None:
    server.fail_next("POST", STATUSES, Fault.slow(0.6))
    with pytest.raises(requests.ReadTimeout):
        post(server, timeout=(2, 0.2))
    assert wait_for(lambda: len(server.statuses) == 1)
    server.fail_next("POST", STATUSES, Fault.slow(0.6))
    with pytest.raises(Unknown):
        client(server, read_timeout=0.2).request(
            "POST", STATUSES, data={"status": "y"}, kind=Kind.PUBLISHING_WRITE
        )


def test_accept_then_drop_stores_but_never_answers(server: MockMastodon) -> None:
    server.fail_next("POST", STATUSES, Fault.accept_then_drop())
    with pytest.raises(requests.ConnectionError):
        post(server, "maybe", key="k1")
    assert [s["content"] for s in server.statuses] == ["<p>maybe</p>"]
    # The retry with the same key finds the stored status instead of a second one.
    assert post(server, "maybe", key="k1").json()["id"] == server.statuses[0]["id"]
    assert len(server.statuses) == 1
    server.fail_next("POST", STATUSES, Fault.accept_then_drop())
    with pytest.raises(Unknown):
        client(server).request("POST", STATUSES, data={"status": "z"}, kind=Kind.KEYED_WRITE)
    assert server.requests[-1].status is None and server.requests[-1].fault == "drop"


def test_drop_before_acting_stores_nothing(server: MockMastodon) -> None:
    server.fail_next("GET", "/api/v2/instance", Fault.drop(), times=3)
    with pytest.raises(Transient):
        client(server).request(
            "GET", "/api/v2/instance", kind=Kind.READ
        )  # urllib3 retries reads twice
    server.fail_next("POST", STATUSES, Fault.drop())
    with pytest.raises(requests.ConnectionError):
        post(server)
    assert server.statuses == []


def test_unauthorized_fault_refuses_a_valid_token(server: MockMastodon) -> None:
    server.fail_next("GET", "/api/v1/accounts/verify_credentials", Fault.unauthorized())
    url = server.url + "/api/v1/accounts/verify_credentials"
    refused = requests.get(url, headers=auth(), timeout=5)
    assert refused.status_code == 401 and "WWW-Authenticate" in refused.headers
    assert requests.get(url, headers=auth(), timeout=5).status_code == 200


def test_nth_rule_fires_only_on_that_request(server: MockMastodon) -> None:
    server.fail_nth("POST", STATUSES, Fault.status(500), n=3)
    codes = [post(server, f"p{i}").status_code for i in range(5)]
    assert codes == [200, 200, 500, 200, 200]


def test_path_patterns_match_ids(server: MockMastodon) -> None:
    status_id = post(server).json()["id"]
    server.add_rule(FaultRule("GET", "/api/v1/statuses/:id", Fault.status(500), times=None))
    assert requests.get(f"{server.url}{STATUSES}/{status_id}", timeout=5).status_code == 500
    assert requests.get(f"{server.url}{STATUSES}/{status_id}", timeout=5).status_code == 500
    server.clear_faults()
    assert requests.get(f"{server.url}{STATUSES}/{status_id}", timeout=5).status_code == 200


def test_probability_rules_repeat_with_the_same_seed() -> None:
    def pattern() -> list[int]:
        with MockMastodon(seed=99) as mock:
            mock.fail_randomly("POST", STATUSES, Fault.status(500), probability=0.5)
            headers = {"Authorization": f"Bearer {mock.token}"}
            return [
                requests.post(
                    mock.url + STATUSES, data={"status": "r"}, headers=headers, timeout=5
                ).status_code
                for _ in range(12)
            ]

    first = pattern()
    assert first == pattern()
    assert 200 in first and 500 in first


def test_bad_faults_are_refused() -> None:
    with pytest.raises(ValueError):
        Fault.slow(3600)
    with pytest.raises(ValueError):
        Fault.status(99)
    with pytest.raises(ValueError):
        FaultRule("POST", STATUSES, Fault.status(), probability=2.0)


# --------------------------------------------------------------------------- control API


def test_control_api_programs_faults_and_reads_the_record(server: MockMastodon) -> None:
    rule = {"method": "POST", "path": STATUSES, "fault": {"kind": "accept_then_drop"}}
    created = requests.post(server.url + "/_mock/faults", json=rule, timeout=5)
    assert created.status_code == 201
    rules = requests.get(server.url + "/_mock/faults", timeout=5).json()
    assert [(r["id"], r["fault"]["kind"], r["fault"]["after"]) for r in rules] == [
        (created.json()["id"], "drop", True)
    ]
    with pytest.raises(requests.ConnectionError):
        post(server, "via control", key="c1")
    record = requests.get(server.url + "/_mock/requests", timeout=5).json()
    assert [(r["method"], r["path"], r["form"], r["fault"]) for r in record] == [
        ("POST", STATUSES, {"status": "via control"}, "drop")
    ]
    assert record[0]["headers"]["idempotency-key"] == "c1"
    assert "authorization" not in record[0]["headers"]
    assert isinstance(record[0]["time"], float)
    stored = requests.get(server.url + "/_mock/statuses", timeout=5).json()
    assert [s["idempotency_key"] for s in stored] == ["c1"]
    assert requests.post(server.url + "/_mock/reset", timeout=5).status_code == 200
    assert server.statuses == [] and server.requests == []
    assert requests.get(server.url + "/_mock/faults", timeout=5).json() == []


@pytest.mark.parametrize(
    "rule",
    [
        {"method": "POST", "path": STATUSES},
        {"fault": {"kind": "explode"}},
        {"fault": {"kind": "slow", "seconds": 999}},
        {"fault": {"kind": "status"}, "nth": 0},
    ],
)
def test_control_api_refuses_bad_rules(server: MockMastodon, rule: dict[str, Any]) -> None:
    response = requests.post(server.url + "/_mock/faults", json=rule, timeout=5)
    assert response.status_code == 422 and "bad fault rule" in response.json()["error"]


# --------------------------------------------------------------------------- concurrency, teardown


def test_concurrent_posting_loses_and_duplicates_nothing(server: MockMastodon) -> None:
    def worker(n: int) -> None:
        for i in range(10):
            post(server, f"w{n}-{i}", key=f"k{n}-{i}")
            post(server, f"w{n}-{i}", key=f"k{n}-{i}")  # a retry must not duplicate

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    stored = server.statuses
    assert sorted(s["content"] for s in stored) == sorted(
        f"<p>w{n}-{i}</p>" for n in range(8) for i in range(10)
    )
    assert len({s["id"] for s in stored}) == 80
    assert len(server.requests) == 160


def test_same_key_from_many_threads_makes_one_status(server: MockMastodon) -> None:
    ids: list[str] = []
    threads = [
        threading.Thread(target=lambda: ids.append(post(server, key="same").json()["id"]))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(ids) == 8 and len(set(ids)) == 1 and len(server.statuses) == 1


def _mock_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("mockmastodon")]


def test_stop_ends_every_thread_even_mid_request() -> None:
    mock = MockMastodon().start()
    session = requests.Session()  # keeps an idle keep-alive connection open
    session.get(mock.url + "/api/v2/instance", timeout=5)
    mock.fail_next("POST", STATUSES, Fault.slow(20))
    errors: list[Exception] = []

    def slow_post() -> None:
        try:
            session.post(
                mock.url + STATUSES,
                data={"status": "x"},
                headers={"Authorization": f"Bearer {mock.token}"},
                timeout=(2, 25),
            )
        except requests.RequestException as exc:
            errors.append(exc)

    stuck = threading.Thread(target=slow_post)
    stuck.start()
    assert wait_for(lambda: len(mock.requests) == 2)
    started = time.monotonic()
    mock.stop()
    assert time.monotonic() - started < 3
    stuck.join(5)
    session.close()
    assert not stuck.is_alive()
    assert [type(e) for e in errors] == [requests.ConnectionError]
    assert _mock_threads() == []
    assert mock.statuses == []


def test_fixture_gives_a_running_server(mock_mastodon: MockMastodon) -> None:  # noqa: F811
    response = requests.post(
        mock_mastodon.url + STATUSES,
        data={"status": "fixture"},
        headers={"Authorization": f"Bearer {mock_mastodon.token}"},
        timeout=5,
    )
    assert response.status_code == 200 and len(mock_mastodon.statuses) == 1
    assert mock_mastodon.url.startswith("http://127.0.0.1:")


def test_command_line_serves_until_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.mockplatform.server",
            "--port",
            "0",
            "--token",
            "cli",
            "--lifetime",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split()[-1]
        assert url.startswith("http://127.0.0.1:")
        answer = requests.post(
            url + STATUSES,
            data={"status": "cli"},
            headers={"Authorization": "Bearer cli"},
            timeout=5,
        )
        assert answer.status_code == 200
        assert (
            requests.get(url + "/_mock/statuses", timeout=5).json()[0]["id"] == answer.json()["id"]
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()
