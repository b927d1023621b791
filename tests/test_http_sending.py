"""``connectors.sending.send`` hands ``Session.send`` what ``Session.request`` would have.

The request is prepared without ``Session.request`` (its setting merges cost a tenth of a
small post); for every kind of option a connector passes, and the session settings
connectors change (headers, auth, hooks, cookies, proxies), the prepared request and the
arguments of ``Session.send`` must be the same as the ones ``requests`` makes.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import urllib3.filepost
from requests.auth import HTTPBasicAuth

from connectors.client import RequestOptions
from connectors.sending import send

URL = "https://example.invalid/api/v1/statuses"


def _hook(response: requests.Response, *_args: object, **_kwargs: object) -> None:
    return None


def _session(**settings: Any) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # as HttpClient's (connectors.client._Environment)
    session.headers["Authorization"] = "Bearer t0"
    for name, value in settings.items():
        setattr(session, name, value)
    return session


def _captured(session: requests.Session, call: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """What ``call`` passed to ``session.send``: the prepared request's parts, the keywords."""
    seen: list[tuple[requests.PreparedRequest, dict[str, Any]]] = []

    def capture(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        seen.append((request, kwargs))
        return requests.Response()

    session.send = capture  # type: ignore[method-assign]
    call()
    ((request, kwargs),) = seen
    parts = {
        "method": request.method,
        "url": request.url,
        "headers": dict(request.headers),
        "body": request.body,
        "hooks": request.hooks,
        "cookie": request.headers.get("Cookie"),
    }
    return parts, {**kwargs, "proxies": dict(kwargs["proxies"])}


OPTIONS: list[RequestOptions] = [
    {"timeout": (5.0, 30.0)},
    {"data": "status=Hello", "timeout": (5.0, 30.0)},
    {"data": {"status": "Hello", "visibility": "public"}, "headers": {"Idempotency-Key": "k"}},
    {"data": [("media_ids[]", "1"), ("media_ids[]", "2")], "timeout": (1.0, 2.0)},
    {"json": {"text": "Hello", "n": 1}, "headers": {"Authorization": "Bot other"}},
    {"params": {"limit": 40, "since_id": "7"}, "timeout": (5.0, 30.0)},
    {"params": [("id[]", "1"), ("id[]", "2")], "allow_redirects": False},
    {"params": {"q": "a b", "skip": None}, "headers": {"Accept": "application/json"}},
    {"files": {"file": ("a.png", b"\x89PNG", "image/png")}, "data": {"description": "alt"}},
    {"auth": ("user", "app-password"), "headers": {"Authorization": None}},  # type: ignore[dict-item]
    {"auth": HTTPBasicAuth("u", "p"), "proxies": {"https": "http://proxy.invalid:3128"}},
    {"headers": {"authorization": "Bearer lower"}, "proxies": {}},
    {"stream": True, "timeout": (10.0, 45.0), "headers": {"Accept": "text/event-stream"}},
    {"stream": False},
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"auth": ("session-user", "session-password")},
        {"hooks": {"response": [_hook]}, "proxies": {"http": "http://proxy.invalid:8080"}},
        {"verify": "/etc/ssl/private-ca.pem", "cert": "/etc/ssl/client.pem", "stream": True},
    ],
)
def test_a_request_is_prepared_and_sent_as_session_request_does(
    options: RequestOptions, settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(urllib3.filepost, "choose_boundary", lambda: "boundary")
    method = "GET" if "params" in options else "post"
    ours = _session(**settings)
    theirs = _session(**settings)
    for session in (ours, theirs):
        session.cookies.set("sid", "abc", domain="example.invalid")
    expected = _captured(theirs, lambda: theirs.request(method, URL, **options))
    assert _captured(ours, lambda: send(ours, method, URL, dict(options))) == expected  # type: ignore[arg-type]


def test_a_session_that_trusts_the_environment_goes_through_session_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = requests.Session()  # trust_env: proxies and .netrc read by requests itself
    called: list[str] = []

    def request(method: str, url: str, **_options: object) -> requests.Response:
        called.append(method)
        return requests.Response()

    monkeypatch.setattr(session, "request", request)
    send(session, "GET", URL, {"timeout": (1.0, 1.0)})
    assert called == ["GET"]
