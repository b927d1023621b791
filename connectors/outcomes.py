"""What a request does, what happened to it, and THE rule that turns both into an error.

====================================  ===========================================
what happened                         raised
====================================  ===========================================
connection refused / DNS / TLS        ``Transient`` (nothing was sent)
connect timeout                       ``Transient``
read timeout, connection dropped,     ``read``, ``harmless_write``: ``Transient``;
2xx whose body cannot be read         ``keyed_write``, ``publishing_write``: ``Unknown``
401, 403                              ``AuthError``
429                                   ``RateLimited(retry_at)``
400, 404, 409, 413, 422, other 4xx    ``Rejected``
5xx                                   ``publishing_write``: ``Unknown``;
                                      every other kind: ``Transient``
====================================  ===========================================
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests

from connectors.errors import AuthError, ConnectorError, RateLimited, Rejected, Transient, Unknown

__all__ = [
    "DEFAULT_BACKOFF",
    "Classify",
    "Kind",
    "Outcome",
    "Verdict",
    "error_class",
    "failure_for",
]

#: When a rate limit says nothing about when to come back.
DEFAULT_BACKOFF = timedelta(seconds=60)


class Kind(enum.StrEnum):
    """What a request does, which decides what its failure means.

    ``read`` changes nothing; ``harmless_write`` changes something nobody sees
    as a post (a login, an upload, a delete); ``keyed_write`` may publish but
    carries an idempotency key, txn id or nonce the platform honours;
    ``publishing_write`` may publish and nothing stops a resend from doubling it.
    """

    READ = "read"
    HARMLESS_WRITE = "harmless_write"
    KEYED_WRITE = "keyed_write"
    PUBLISHING_WRITE = "publishing_write"

    @property
    def may_publish(self) -> bool:
        """True when the platform may have made a post out of this request."""
        return self in (Kind.KEYED_WRITE, Kind.PUBLISHING_WRITE)


class Outcome(enum.Enum):
    """What an answer (or its absence) says about one request."""

    OK = "ok"
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    REJECTED = "rejected"
    #: The platform failed while handling it (5xx, Slack ``internal_error``):
    #: it may have acted unless a key makes a resend harmless.
    PLATFORM_FAILED = "platform_failed"
    #: The answer is lost or unreadable: it may have acted, key or not.
    ANSWER_LOST = "answer_lost"
    #: Nothing left this machine (refused connection, DNS, TLS, connect timeout).
    NOT_SENT = "not_sent"


@dataclass(frozen=True)
class Verdict:
    """What a ``classify`` hook read in one answer; :func:`error_class` makes it an error.

    ``message`` is shown as is; ``retry_after`` (seconds) or ``retry_at`` say
    when a rate limit ends, else the answer's headers do, else a minute.
    ``global_limit`` says a rate limit covers every route of the account.
    """

    outcome: Outcome
    message: str = ""
    status: int | None = None
    retry_after: float | None = None
    retry_at: datetime | None = None
    global_limit: bool = False


#: Reads a platform's envelope; None leaves the answer to the HTTP status.
Classify = Callable[[requests.Response], "Verdict | None"]


def error_class(outcome: Outcome, kind: Kind) -> type[ConnectorError]:
    """THE rule: could the platform have acted on this request?"""
    if outcome is Outcome.AUTH:
        return AuthError
    if outcome is Outcome.RATE_LIMITED:
        return RateLimited
    if outcome is Outcome.REJECTED:
        return Rejected
    if outcome is Outcome.PLATFORM_FAILED:
        return Unknown if kind is Kind.PUBLISHING_WRITE else Transient
    if outcome is Outcome.ANSWER_LOST:
        return Unknown if kind.may_publish else Transient
    return Transient


def failure_for(
    verdict: Verdict,
    kind: Kind,
    *,
    platform: str,
    account: str,
    now: datetime,
    redact: Callable[[str], str] = str,
) -> ConnectorError:
    """THE mapping from what happened (and what the request did) to an error.

    Transport-neutral: :class:`connectors.client.HttpClient` uses it for HTTP, and
    connectors that speak another protocol (websockets) build their :class:`Verdict`
    and call it.

    Args:
        verdict: what happened.
        kind: what the request does.
        platform: connector name, for the error.
        account: account alias, for the error.
        now: the time a rate limit without its own end counts from.
        redact: masks secrets in the message.
    """
    cls = error_class(verdict.outcome, kind)
    message = redact(verdict.message)
    status = verdict.status
    if cls is RateLimited:
        retry_at = _retry_at(verdict, now)
        return RateLimited(
            message, retry_at=retry_at, platform=platform, account=account, status=status
        )
    if cls is Unknown and verdict.outcome is Outcome.ANSWER_LOST:
        message += "; the post may exist"
    return cls(message, platform=platform, account=account, status=status)


def _retry_at(verdict: Verdict, now: datetime) -> datetime:
    if verdict.retry_at is not None:
        return verdict.retry_at
    if verdict.retry_after is not None:
        return now + timedelta(seconds=verdict.retry_after)
    return DEFAULT_BACKOFF + now
