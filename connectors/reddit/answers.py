"""The shapes of Reddit's answers, and what its error envelope says.

Reddit answers a refused submission or comment with HTTP 200 and
``{"json": {"errors": [[code, message, field], …], "data": …}}``; newer endpoints
answer 400 with ``{"reason": code, "explanation": …, "fields": […]}``; the token
endpoint answers HTTP 200 with ``{"error": "invalid_grant"}`` for a wrong password.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.http import Outcome, Verdict, describe_object

TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
API_URL = "https://oauth.reddit.com"
WEB_URL = "https://www.reddit.com"
#: ``/api/info`` takes at most 100 fullnames per call.
INFO_BATCH = 100

#: Codes that mean "slow down": the message says for how long.
_RATE_CODES = frozenset({"RATELIMIT", "SUBREDDIT_RATELIMIT"})
#: Codes that mean the credentials (the user) are not accepted.
_AUTH_CODES = frozenset({"USER_REQUIRED", "INVALID_MODHASH"})
#: What to do about the refusals a community manager meets.
_HINTS: dict[str, str] = {
    "ALREADY_SUB": "set resubmit: true (account, or the post's reddit options) to post it again",
    "NO_SELFS": "the subreddit takes no text posts: use kind: link with the content's link",
    "NO_LINKS": "the subreddit takes only text posts: use kind: self",
    "SUBREDDIT_NOEXIST": "check the account's subreddit (it may be private or banned)",
    "SUBMIT_VALIDATION_FLAIR_REQUIRED": "the subreddit requires flair: set flair_id",
}
#: ``try again in 7 minutes.`` / ``6 seconds`` / ``500 milliseconds``.
_WAIT = re.compile(r"(\d+)\s*(millisecond|second|minute|hour)s?", re.IGNORECASE)
_UNIT_SECONDS = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0}
_ThingT = TypeVar("_ThingT", bound=BaseModel)


class _Thing(BaseModel):
    """Fields of a Reddit thing's ``data`` that crosspost reads; the rest is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str
    created_utc: float
    author: str = ""
    subreddit: str = ""
    permalink: str = ""


class Link(_Thing):
    """A submission (``t3``) as listings and ``/api/info`` give it."""

    title: str = ""
    selftext: str = ""
    url: str = ""
    is_self: bool = False
    score: int | None = None
    ups: int | None = None
    upvote_ratio: float | None = None
    num_comments: int | None = None
    num_crossposts: int | None = None
    view_count: int | None = None


class Message(_Thing):
    """A comment reply, post reply or username mention in the inbox (``t1``)."""

    type: str = ""
    body: str = ""
    parent_id: str | None = None
    context: str = ""
    author_fullname: str | None = None


class Comment(_Thing):
    """A comment (``t1``) as ``/api/comment`` answers it."""

    body: str = ""
    link_id: str = ""


class Submitted(BaseModel):
    """``json.data`` of ``/api/submit``: the new post's fullname and permalink."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    url: str
    id: str = ""


class Token(BaseModel):
    """The access-token answer of the password grant."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    access_token: str
    expires_in: int = 3600
    scope: str = ""


# --------------------------------------------------------------------------- reading


def things(body: object, kind: str) -> list[dict[str, object]]:
    """The ``data`` of each child of ``kind`` (``t3``…) in a Listing; anything else skipped."""
    data = body.get("data") if isinstance(body, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        return []
    return [
        child["data"]
        for child in children
        if isinstance(child, dict)
        and child.get("kind") == kind
        and isinstance(child.get("data"), dict)
    ]


def after(body: object) -> str | None:
    """The Listing's ``after`` (the fullname to page from), or None at its end."""
    data = body.get("data") if isinstance(body, dict) else None
    value = data.get("after") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def parse_all(model: type[_ThingT], items: Sequence[Mapping[str, object]]) -> list[_ThingT]:
    """Each item read as ``model``; one that does not fit is left out, not fatal."""
    parsed = []
    for item in items:
        try:
            parsed.append(model.model_validate(item))
        except ValidationError:
            continue
    return parsed


def envelope_data(body: object) -> dict[str, Any] | None:
    """``json.data`` of a ``api_type=json`` answer, or None when it has none."""
    envelope = body.get("json") if isinstance(body, dict) else None
    data = envelope.get("data") if isinstance(envelope, dict) else None
    return data if isinstance(data, dict) else None


def created(thing: _Thing) -> datetime:
    """When ``thing`` was created, in UTC."""
    return datetime.fromtimestamp(thing.created_utc, UTC)


def web_url(path: str) -> str | None:
    """``https://www.reddit.com`` + a permalink path, or None without one."""
    if not path:
        return None
    return path if path.startswith("http") else WEB_URL + path


def fullname(remote_id: str, prefix: str = "t3_") -> str:
    """A Reddit fullname (``t3_abc``) for a remote id stored with or without its prefix."""
    return remote_id if re.match(r"^t\d_", remote_id) else prefix + remote_id


def comparable(text: str) -> str:
    """Text as Reddit keeps it, for matching: whitespace collapsed, ends stripped."""
    return " ".join(text.split())


# --------------------------------------------------------------------------- errors


def api_errors(body: object) -> list[tuple[str, str, str]]:
    """``(code, message, field)`` of each error of a ``{"json": {"errors": …}}`` answer."""
    envelope = body.get("json") if isinstance(body, dict) else None
    errors = envelope.get("errors") if isinstance(envelope, dict) else None
    found = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, list) and error and isinstance(error[0], str):
            message = str(error[1]) if len(error) > 1 and error[1] else ""
            field = str(error[2]) if len(error) > 2 and error[2] else ""
            found.append((error[0], message, field))
    return found


def wait_seconds(message: str) -> float | None:
    """How long a ``RATELIMIT`` message says to wait, rounded up to its next unit.

    Reddit rounds down (``7 minutes`` may be 7 min 50 s), so one more unit is
    added: coming back a little late beats being refused again.
    """
    found = _WAIT.search(message)
    if found is None:
        return None
    unit = _UNIT_SECONDS[found.group(2).lower()]
    return (int(found.group(1)) + 1) * unit


def envelope_verdict(response: requests.Response) -> Verdict | None:
    """What Reddit's body says, when it says more than the HTTP status."""
    try:
        body = response.json()
    except ValueError:
        return None
    status = response.status_code
    if urlsplit(response.url or "").path.rstrip("/") == urlsplit(TOKEN_URL).path:
        return _token_verdict(body, status)
    errors = api_errors(body)
    if not errors:
        return None
    code, message, _field = errors[0]
    said = "; ".join(_described(error) for error in errors)
    if code in _RATE_CODES:
        return Verdict(Outcome.RATE_LIMITED, said, status, retry_after=wait_seconds(message))
    if code in _AUTH_CODES:
        return Verdict(Outcome.AUTH, f"Reddit wants a signed-in user: {said}", status)
    return Verdict(Outcome.REJECTED, said, status)


def _token_verdict(body: object, status: int) -> Verdict | None:
    """The password grant's refusals, which come with HTTP 200."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, str):
        return None
    assert isinstance(body, dict)
    detail = body.get("error_description")
    said = f"{error}: {detail}" if isinstance(detail, str) and detail else error
    hint = ""
    if error == "invalid_grant":
        hint = " (wrong username or password, or the account signs in with two factors)"
    return Verdict(Outcome.AUTH, f"Reddit refused the sign-in ({said}){hint}", status)


def _described(error: tuple[str, str, str]) -> str:
    code, message, field = error
    text = f"{code}: {message}" if message else code
    text += f" ({field})" if field else ""
    hint = _HINTS.get(code)
    return f"{text}; {hint}" if hint else text


@describe_object
def describe(response: requests.Response, body: Mapping[str, Any]) -> str:
    """One line from Reddit's error bodies (``reason``/``explanation``, ``message``)."""
    reason, explanation = body.get("reason"), body.get("explanation")
    if isinstance(reason, str) and reason:
        fields = body.get("fields")
        where = f" ({', '.join(map(str, fields))})" if isinstance(fields, list) and fields else ""
        return f"{reason}: {explanation}{where}" if explanation else reason + where
    for key in ("error_description", "message", "error"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return str(body)[:200]
