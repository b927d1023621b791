"""X's constants and the shapes of its answers."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated

import requests
from pydantic import Strict

from connectors.http import describe_object
from connectors.payload import Id, Items, JSONObject, Maybe, Payload, read_model
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


class _Problem(Payload):
    detail: Maybe[str]
    error_description: Maybe[str]
    title: Maybe[str]
    error: Maybe[str]
    errors: Items[dict[str, object]]


class _Id(Payload):
    id: Id


class Created(Payload):
    """``POST /2/tweets`` and ``POST /2/media/upload``: the new post's or file's id."""

    data: _Id


class Tweet(Payload):
    """A post as ``GET /2/tweets`` and ``GET /2/users/:id/tweets`` list it."""

    id: Maybe[Id]
    text: Maybe[str]
    created_at: Maybe[str]
    #: like_count, retweet_count, … (``tweet.fields=public_metrics``).
    public_metrics: Maybe[dict[str, object]]

    def created(self) -> datetime:
        """When it was posted; now when X did not say."""
        try:
            return datetime.fromisoformat((self.created_at or "").replace("Z", "+00:00"))
        except ValueError:
            return datetime.now(UTC)


class Tweets(Payload):
    """A list of posts."""

    data: Items[Tweet]


class PostCounts(Payload):
    """``public_metrics`` of a post."""

    like_count: Maybe[int]
    retweet_count: Maybe[int]
    reply_count: Maybe[int]
    quote_count: Maybe[int]
    bookmark_count: Maybe[int]
    impression_count: Maybe[int]


class _User(Payload):
    id: Id
    #: followers_count, following_count, tweet_count (``user.fields=public_metrics``).
    public_metrics: Maybe[dict[str, object]]


class Me(Payload):
    """``GET /2/users/me``."""

    data: _User


class UserCounts(Payload):
    """``public_metrics`` of a user."""

    followers_count: Maybe[int]
    following_count: Maybe[int]
    tweet_count: Maybe[int]


class _Deletion(Payload):
    deleted: Maybe[bool]


class Deleted(Payload):
    """``DELETE /2/tweets/:id``."""

    data: Maybe[_Deletion]


class Token(Payload):
    """The OAuth 2.0 token answer."""

    access_token: Id
    refresh_token: Maybe[str]
    #: Seconds; a number in a string is read as one too.
    expires_in: Maybe[Annotated[int, Strict(False)]]
    #: The scopes granted, space-separated.
    scope: Maybe[str]


class SavedTokens(Payload):
    """What the connector keeps in its state between runs."""

    access_token: Maybe[str]
    refresh_token: Maybe[str]
    expires_at: Maybe[str]
    #: Which refresh token of the settings the saved ones descend from.
    seed: Maybe[str]
    daily_limit_until: Maybe[str]


def saved_tokens(state: object) -> SavedTokens:
    """The connector's state, read leniently (anything unreadable counts as missing)."""
    return read_model(SavedTokens, state) or SavedTokens.empty()


def _errors_only(response: requests.Response) -> bool:
    """X's 200 that carries ``errors`` and no ``data``: nothing was done."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and "data" not in body and bool(body.get("errors"))


@describe_object
def _describe(response: requests.Response, body: JSONObject) -> str:
    """One line from X's problem details (``detail``/``title``) or ``errors[]``."""
    problem = read_model(_Problem, body) or _Problem.empty()
    for value in (problem.detail, problem.error_description, problem.title, problem.error):
        if value:
            return value
    if problem.errors:
        first = problem.errors[0]
        return str(first.get("message") or first.get("detail") or first)[:200]
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
