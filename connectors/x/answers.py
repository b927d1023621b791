"""X's constants and the shapes of its answers."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import requests

from connectors.http import describe_object
from connectors.x_text import find_x_urls

TOKEN_URL = "https://api.x.com/2/oauth2/token"
#: Renew the access token this long before X says it expires.
_EXPIRY_MARGIN = timedelta(seconds=60)
_METRICS_BATCH = 100
_RECENT_POSTS = 20
_POLL_MINUTES = (5, 10080)
_DAILY_HEADERS = (
    ("x-app-limit-24hour-remaining", "x-app-limit-24hour-reset"),
    ("x-user-limit-24hour-remaining", "x-user-limit-24hour-reset"),
)
_OAUTH1_FIELDS = ("api_key", "api_secret", "access_token", "access_token_secret")


def _errors_only(response: requests.Response) -> bool:
    """X's 200 that carries ``errors`` and no ``data``: nothing was done."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and "data" not in body and bool(body.get("errors"))


@describe_object
def _describe(response: requests.Response, body: Mapping[str, Any]) -> str:
    """One line from X's problem details (``detail``/``title``) or ``errors[]``."""
    for key in ("detail", "error_description", "title", "error"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("detail") or errors[0])[:200]
    return str(body)[:200]


def _comparable(text: str) -> str:
    """``text`` as X gives it back, for matching: no URLs, one space between words.

    X rewrites every URL to a ``t.co`` link and HTML-escapes ``&<>`` in the
    text it returns, so both sides drop URLs and compare unescaped NFC text.
    """
    text = unicodedata.normalize("NFC", html.unescape(text))
    kept, position = [], 0
    for start, end in find_x_urls(text):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return " ".join("".join(kept).split())


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
