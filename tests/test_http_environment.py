"""The proxy, CA bundle and ``.netrc`` settings of the environment, read once per origin.

``requests`` reads them at every request when its session trusts the environment;
``HttpClient`` reads them once and must still honour every one of them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests.sessions

import connectors.client
from connectors.client import HttpClient
from connectors.outcomes import Kind


class _Recorder(BaseHTTPRequestHandler):
    """Answers every GET with ``{}`` and remembers its request line and credentials."""

    seen: list[tuple[str, str | None]]

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.seen.append((self.path, self.headers.get("Authorization")))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    """A local server: its URL and the (request target, Authorization) it was sent."""
    seen: list[tuple[str, str | None]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


def test_a_proxy_of_the_environment_carries_the_requests(
    monkeypatch: pytest.MonkeyPatch, recorder: tuple[str, list[tuple[str, str | None]]]
) -> None:
    proxy, seen = recorder
    monkeypatch.setenv("HTTP_PROXY", proxy)
    client = HttpClient("mastodon", "alpha", base_url="http://social.example.invalid")
    client.request("GET", "/api/v1/instance", kind=Kind.READ)
    # a proxy is sent the whole URL: the request never went to the (invalid) host itself
    assert seen == [("http://social.example.invalid/api/v1/instance", None)]


def test_no_proxy_hosts_are_reached_directly(
    monkeypatch: pytest.MonkeyPatch, recorder: tuple[str, list[tuple[str, str | None]]]
) -> None:
    url, seen = recorder
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    HttpClient("mastodon", "alpha", base_url=url).request("GET", "/x", kind=Kind.READ)
    assert seen == [("/x", None)]


def test_the_environment_is_read_once_per_origin_not_per_request(
    monkeypatch: pytest.MonkeyPatch, recorder: tuple[str, list[tuple[str, str | None]]]
) -> None:
    url, seen = recorder
    looked_up: list[str] = []
    real = connectors.client.get_environ_proxies

    def counted(origin: str) -> dict[str, str]:
        looked_up.append(origin)
        return dict(real(origin))

    def never(*_args: object, **_kwargs: object) -> dict[str, str]:
        raise AssertionError("requests read the environment again")

    monkeypatch.setattr(connectors.client, "get_environ_proxies", counted)
    monkeypatch.setattr(requests.sessions, "get_environ_proxies", never)
    client = HttpClient("mastodon", "alpha", base_url=url)
    for path in ("/a", "/b", "/c"):
        client.request("GET", path, kind=Kind.READ)
    assert [path for path, _auth in seen] == ["/a", "/b", "/c"]
    assert looked_up == [url]


def test_netrc_credentials_are_still_sent(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    recorder: tuple[str, list[tuple[str, str | None]]],
) -> None:
    url, seen = recorder
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login robot password s3cret\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    HttpClient("webhook", "alpha", base_url=url).request("GET", "/x", kind=Kind.READ)
    ((_path, authorization),) = seen
    assert authorization is not None and authorization.startswith("Basic ")


def test_a_ca_bundle_of_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/private-ca.pem")
    client = HttpClient("mastodon", "alpha", base_url="https://social.example.invalid")
    assert client.session.verify == "/etc/ssl/private-ca.pem"
