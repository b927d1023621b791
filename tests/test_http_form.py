"""A form without files is encoded by ``HttpClient`` itself: the request that leaves is
the one ``requests`` would have made of the same fields."""

from __future__ import annotations

import pytest
import requests
import responses

from connectors.client import HttpClient
from connectors.outcomes import Kind

URL = "https://example.invalid/api"

FORMS: list[object] = [
    [("status", "é & ü+? done"), ("visibility", "public")],
    [("poll[options][]", "yes"), ("poll[options][]", "no"), ("poll[expires_in]", "300")],
    {"description": "alt text", "skipped": None, "tags": ["a", "b"], "count": 5},
]


def _sent(client: HttpClient | None, **options: object) -> tuple[str | bytes | None, str | None]:
    """The body and Content-Type of one POST, through ``client`` or a bare session."""
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, URL, json={})
        if client is None:
            requests.post(URL, timeout=5, **options)  # type: ignore[arg-type]
        else:
            client.request("POST", URL, kind=Kind.KEYED_WRITE, **options)  # type: ignore[arg-type]
        request = mock.calls[0].request
    return request.body, request.headers.get("Content-Type")


@pytest.mark.parametrize("form", FORMS)
def test_a_form_leaves_as_requests_would_send_it(form: object) -> None:
    client = HttpClient("test", "alpha")
    assert _sent(client, data=form) == _sent(None, data=form)


def test_a_content_type_given_with_the_form_is_kept() -> None:
    client = HttpClient("test", "alpha")
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    body, content_type = _sent(client, data={"a": "b"}, headers=headers)
    assert body == "a=b" and content_type == headers["content-type"]


def test_a_form_with_files_is_left_to_requests() -> None:
    client = HttpClient("test", "alpha")
    files = {"file": ("a.png", b"\x89PNG", "image/png")}
    body, content_type = _sent(client, data={"description": "alt"}, files=files)
    assert isinstance(body, bytes) and b'name="description"' in body
    assert content_type is not None and content_type.startswith("multipart/form-data")
