"""LinkedIn's constants and "little text": escaping, and reading error answers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote

import requests

from connectors.linkedin.shapes import ErrorBody
from connectors.payload import read_model
from crosspost.rendering.text import find_hashtags

#: The ``LinkedIn-Version`` sent unless the account names another (versions live about a year).
DEFAULT_VERSION = "202605"
#: Longest comment LinkedIn accepts; later thread parts longer than this are cut again.
COMMENT_MAX_LENGTH = 1250
#: Characters the little text format reserves; each is sent as ``\\<char>``.
RESERVED = frozenset("\\|{}@[]()<>#*_~")

_AUTHOR_RE = re.compile(r"urn:li:(?:person:[A-Za-z0-9_-]+|organization:[0-9]+)")
_VERSION_RE = re.compile(r"20[0-9]{2}(?:0[1-9]|1[0-2])")
_HASHTAG_TEMPLATE_RE = re.compile(r"\{hashtag\|\\#\|((?:\\.|[^\\}])*)\}")
_MENTION_TEMPLATE_RE = re.compile(r"@\[((?:\\.|[^\\\]])*)\]\(urn:li:[^)]*\)")
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_DUPLICATE_RE = re.compile(r"duplicate of (urn:li:[A-Za-z]+:[0-9]+)")

_TOKEN_HELP = (
    "LinkedIn access tokens last 60 days: authorise the app again (OAuth 2.0 "
    "authorization code flow, or the token generator of the LinkedIn developer portal) "
    "and put the new token in the account's access_token"
)
_SCOPE_HELP = (
    "the token lacks the permission to post as this author: w_member_social for "
    "urn:li:person authors, w_organization_social (and a page admin role) for "
    "urn:li:organization authors"
)

Visibility = Literal["PUBLIC", "CONNECTIONS", "LOGGED_IN"]


# --------------------------------------------------------------------------- little text


def _escape_plain(text: str) -> str:
    return "".join(f"\\{char}" if char in RESERVED else char for char in text)


def escape_little(text: str) -> str:
    """``text`` as little-format commentary: reserved characters escaped, hashtags kept.

    A ``#tag`` that :func:`crosspost.rendering.text.find_hashtags` recognises becomes the
    documented hashtag template ``{hashtag|\\#|tag}`` so it stays clickable;
    every other reserved character (``@`` included: mentions need a URN) is
    backslash-escaped so LinkedIn shows it as typed instead of cutting the post.
    """
    pieces: list[str] = []
    position = 0
    for span in find_hashtags(text):
        pieces.append(_escape_plain(text[position : span.start]))
        pieces.append("{hashtag|\\#|" + _escape_plain(span.text[1:]) + "}")
        position = span.end
    pieces.append(_escape_plain(text[position:]))
    return "".join(pieces)


def unescape_little(commentary: str) -> str:
    """What a reader sees of little-format ``commentary``; inverse of :func:`escape_little`."""
    text = _HASHTAG_TEMPLATE_RE.sub(lambda m: "#" + m.group(1), commentary)
    text = _MENTION_TEMPLATE_RE.sub(lambda m: "@" + m.group(1), text)
    return _ESCAPE_RE.sub(lambda m: m.group(1), text)


# --------------------------------------------------------------------------- helpers


def _encoded(urn: str) -> str:
    return quote(urn, safe="")


def _post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}"


def _next_midnight(now: datetime) -> datetime:
    """LinkedIn's daily limits reset at midnight UTC."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def _duplicate_of(body: ErrorBody) -> str | None:
    """The URN a ``DUPLICATE_POST`` refusal names, or None for other refusals."""
    found = _DUPLICATE_RE.search(body.message or "")
    if "DUPLICATE_POST" in body.input_codes() or found:
        return found.group(1) if found else "an earlier post"
    return None


def _describe(response: requests.Response) -> str:
    """One line from LinkedIn's ``{message, serviceErrorCode, status}`` error body."""
    try:
        body = read_model(ErrorBody, response.json()) or ErrorBody.empty()
    except ValueError:
        body = ErrorBody.empty()
    message = (body.message or response.reason or "no reason given")[:300]
    if response.status_code == 401:
        return f"{message}; {_TOKEN_HELP}"
    if response.status_code == 403:
        return f"{message}; {_SCOPE_HELP}"
    duplicate = _duplicate_of(body) if response.status_code == 422 else None
    if duplicate:
        return f"LinkedIn refused a duplicate post: it is the same as {duplicate}"
    code = body.service_error_code or body.code
    return f"{message} (LinkedIn code {code})" if code else message


def _millis(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if value is not None else None
