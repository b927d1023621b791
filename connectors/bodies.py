"""One line about an error answer: the platform's reason, never a proxy's HTML page."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from connectors.payload import JSONObject

__all__ = [
    "Describe",
    "answer_field",
    "default_describe",
    "describe_fields",
    "describe_object",
    "never_a_page",
    "summarise_body",
]

#: Turns an error response into a one-line reason.
Describe = Callable[[requests.Response], str]

#: A proxy's or CDN's error page rather than the platform's own answer.
_HTML = re.compile(r"<!doctype html|<html[\s>]|<body[\s>]|<head[\s>]", re.IGNORECASE)
#: How much of a plain-text error body is worth a line in a message.
_PLAIN_TEXT_SHOWN = 120


def _looks_like_html(response: requests.Response, text: str) -> bool:
    content_type = response.headers.get("Content-Type", "").lower()
    return "html" in content_type or bool(_HTML.search(text[:1000]))


def summarise_body(response: requests.Response) -> str:
    """One line about a response whose body is not JSON; an HTML page is never repeated.

    ``HTTP 502 Bad Gateway (HTML page) from api.example``, or the first line of a
    short plain-text body.
    """
    host = urlsplit(response.url or "").hostname or "the platform"
    head = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    text = response.text.strip()
    if _looks_like_html(response, text):
        return f"{head} (HTML page) from {host}"
    if not text:
        return f"{head} (empty answer) from {host}"
    line = " ".join(text.splitlines()[0].split())
    if len(line) > _PLAIN_TEXT_SHOWN:
        line = line[: _PLAIN_TEXT_SHOWN - 1] + "…"
    return f"{head} from {host}: {line}"


def describe_object(read: Callable[[requests.Response, JSONObject], str]) -> Describe:
    """A ``describe`` that reads a JSON object error body with ``read``.

    A body that is not JSON becomes a one-line summary (never an HTML page), and
    JSON that is not an object its first 200 characters.
    """

    def describe(response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return summarise_body(response)
        if not isinstance(body, dict):
            return str(body)[:200]
        return read(response, body)

    return describe


def answer_field(response: requests.Response, key: str) -> str:
    """The string ``key`` of a JSON object answer (an error's code or name), or ``""``."""
    try:
        body = response.json()
    except ValueError:
        return ""
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def describe_fields(*keys: str) -> Describe:
    """A ``describe`` that joins the ``keys`` an error body has: ``Code: message``."""

    @describe_object
    def describe(response: requests.Response, body: JSONObject) -> str:
        parts = [str(body[key]) for key in keys if body.get(key)]
        return ": ".join(parts) or str(body)[:200]

    return describe


@describe_object
def default_describe(response: requests.Response, body: JSONObject) -> str:
    """The first of the usual message keys of an error body."""
    for key in ("error_description", "error", "message", "detail", "description", "title"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return str(body)[:200]


def never_a_page(describe: Describe) -> Describe:
    """``describe``, except that an error page in its answer becomes a one-line summary."""

    def described(response: requests.Response) -> str:
        reason = describe(response)
        return summarise_body(response) if _HTML.search(reason[:1000]) else reason

    return described
