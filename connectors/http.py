"""HTTP for connectors: one session per account, timeouts, and the one error mapping.

Every connector talks to its platform through :class:`HttpClient`, which is the
single place where failures become the error classes of :mod:`connectors.base`.
Each request says what it does (:class:`Kind`); the answer, or its absence, is
read into a :class:`Verdict` (by the connector's ``classify`` hook for platform
envelopes such as ``ok:false``, else by its HTTP status); and one function,
:meth:`HttpClient.failure_for`, asks the one question: could the platform have
acted on the request?

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

Publishing requests are never retried here; the dispatcher decides.
"""

from __future__ import annotations

import email.utils
import enum
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import metadata
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from connectors.base import (
    AuthError,
    BaseConnector,
    ConnectorError,
    ConnectorSettings,
    ConnectorState,
    RateLimited,
    Rejected,
    SettingsT,
    Transient,
    Unknown,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "PROJECT_URL",
    "Classify",
    "HttpClient",
    "HttpConnector",
    "Kind",
    "Outcome",
    "RateBuckets",
    "Verdict",
    "crosspost_version",
    "describe_object",
    "parse_retry_at",
    "retry_after_seconds",
    "summarise_body",
    "user_agent",
]

#: (connect, read) seconds; a platform that takes longer is treated as failing.
DEFAULT_TIMEOUT = (5.0, 30.0)
#: When a 429 says nothing about when to come back.
DEFAULT_BACKOFF = timedelta(seconds=60)

Describe = Callable[[requests.Response], str]
_E = TypeVar("_E", bound=ConnectorError)


PROJECT_URL = "https://pypi.org/project/crosspost/"


def crosspost_version() -> str:
    """The installed distribution's version, ``0`` in a plain checkout."""
    try:
        return metadata.version("crosspost")
    except metadata.PackageNotFoundError:
        return "0"


def user_agent() -> str:
    """``crosspost/<version> (+<project url>)``."""
    return f"crosspost/{crosspost_version()} (+{PROJECT_URL})"


# --------------------------------------------------------------------------- rate limits


def _parse_instant(value: str, now: datetime) -> datetime | None:
    """An absolute time from an epoch number or an ISO 8601 / HTTP date."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        return datetime.fromtimestamp(number, UTC) if number > 1e9 else None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_delay(value: str, now: datetime) -> datetime | None:
    """``Retry-After``: delta seconds, or an HTTP date."""
    try:
        return now + timedelta(seconds=float(value))
    except ValueError:
        return _parse_instant(value, now)


def parse_retry_at(headers: Mapping[str, str], now: datetime | None = None) -> datetime | None:
    """When the platform says we may try again, from whichever header it sent.

    Understands ``Retry-After`` (seconds or date), ``X-RateLimit-Reset-After``
    (seconds, Discord), and ``X-RateLimit-Reset`` / ``RateLimit-Reset`` /
    ``x-rate-limit-reset`` as an epoch (X, Bluesky, Discord), an ISO 8601 time
    (Mastodon) or small seconds-until-reset (Reddit, IETF draft).
    """
    now = now or datetime.now(UTC)
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after" in lowered:
        retry = _parse_delay(lowered["retry-after"], now)
        if retry:
            return retry
    if "x-ratelimit-reset-after" in lowered:
        retry = _parse_delay(lowered["x-ratelimit-reset-after"], now)
        if retry:
            return retry
    for name in ("x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset"):
        if name in lowered:
            value = lowered[name]
            retry = _parse_instant(value, now) or _parse_delay(value, now)
            if retry:
                return retry
    return None


# --------------------------------------------------------------------------- client


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


def describe_object(read: Callable[[requests.Response, Mapping[str, Any]], str]) -> Describe:
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


@describe_object
def _default_describe(response: requests.Response, body: Mapping[str, Any]) -> str:
    for key in ("error_description", "error", "message", "detail", "description", "title"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return str(body)[:200]


def _never_a_page(describe: Describe) -> Describe:
    """``describe``, except that an error page in its answer becomes a one-line summary."""

    def described(response: requests.Response) -> str:
        reason = describe(response)
        return summarise_body(response) if _HTML.search(reason[:1000]) else reason

    return described


def _connection_never_made(exc: requests.ConnectionError) -> bool:
    """True when the failure happened before any byte of the request left."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    names = {type(inner).__name__, type(reason).__name__}
    return bool(names & {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"})


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
    """What a ``classify`` hook read in one answer; :func:`failure_for` makes it an error.

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


def _error_class(outcome: Outcome, kind: Kind) -> type[ConnectorError]:
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


def retry_after_seconds(value: object) -> float | None:
    """A ``retry_after`` number from a JSON body, or None when it is not one."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


class HttpClient:
    """One ``requests.Session`` for one account, with the one error mapping.

    Args:
        platform: connector name, for messages.
        account: account alias, for messages and the logger.
        base_url: prefix for relative paths.
        headers: sent with every request (e.g. ``Authorization``).
        secrets: values to mask wherever a URL or message is logged or raised.
        timeout: ``(connect, read)`` seconds.
        describe: turns an error response into a one-line reason.
        classify: reads the platform's envelope of any answer (see :class:`Verdict`).
        buckets: per-route rate-limit bookkeeping, for platforms that announce it.
    """

    #: Called with (method, redacted URL, kind) before each request; tests record kinds here.
    observers: ClassVar[list[Callable[[str, str, Kind], None]]] = []

    def __init__(
        self,
        platform: str,
        account: str,
        *,
        base_url: str = "",
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        describe: Describe = _default_describe,
        classify: Classify | None = None,
        buckets: RateBuckets | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.platform = platform
        self.account = account
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.describe = _never_a_page(describe)
        self.classify = classify or (lambda response: None)
        self.buckets = buckets
        self.clock = clock or (lambda: datetime.now(UTC))
        self._secrets = [s for s in secrets if s]
        self.log = logging.getLogger(f"crosspost.connectors.{platform}[@{account}].http")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent()
        self.session.headers.update(headers or {})
        # Reads (metrics) may be retried by urllib3; writes never are.
        reads = Retry(
            total=2,
            backoff_factor=0.5,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=False,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=reads, pool_maxsize=8)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def __repr__(self) -> str:
        return f"HttpClient({self.platform!r}, {self.account!r}, {self.redact(self.base_url)!r})"

    def add_secret(self, value: str) -> None:
        """Mask ``value`` from now on (e.g. a token obtained at run time)."""
        if value and value not in self._secrets:
            self._secrets.append(value)

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def url(self, path: str) -> str:
        """Absolute URL for ``path``."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        kind: Kind,
        ok: Iterable[int] = (),
        route: str | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request and return the response, or raise the connector error it means.

        Args:
            method: HTTP method.
            path: relative to ``base_url``, or absolute.
            kind: what the request does; it alone decides ``Transient`` vs ``Unknown``.
            ok: statuses besides 2xx that the caller handles itself (e.g. 404 on delete).
            route: the rate-limit route of the request, when ``buckets`` are kept.
            **kwargs: passed to ``requests.Session.request``.
        """
        url = self.url(path)
        for observe in self.observers:
            observe(method, self.redact(url), kind)
        if self.buckets is not None and route is not None:
            self._refuse_when_empty(route)
        kwargs.setdefault("timeout", self.timeout)
        self.log.debug("%s %s (%s)", method, self.redact(url), kind)
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise self.failure_for(_lost(exc), kind) from None
        self.log.debug("%s %s -> %s", method, self.redact(url), response.status_code)
        if response.status_code in set(ok):
            return response
        verdict = self.verdict(response)
        if self.buckets is not None and route is not None:
            self.buckets.remember(route, response, verdict, self.clock())
        if verdict.outcome is Outcome.OK:
            return response
        raise self.failure_for(verdict, kind)

    def verdict(self, response: requests.Response) -> Verdict:
        """What ``response`` says: the connector's ``classify``, else its HTTP status."""
        verdict = self.classify(response) or self._status_verdict(response)
        if verdict.outcome is Outcome.RATE_LIMITED and verdict.retry_after is None:
            now = self.clock()
            retry_at = verdict.retry_at or parse_retry_at(response.headers, now)
            return replace(verdict, retry_at=retry_at or now + DEFAULT_BACKOFF)
        return verdict

    def failure(self, response: requests.Response, kind: Kind) -> ConnectorError:
        """The error ``response`` stands for, even when its status was accepted."""
        verdict = self.verdict(response)
        if verdict.outcome is Outcome.OK:
            verdict = Verdict(Outcome.ANSWER_LOST, "the platform answered without the result")
        return self.failure_for(verdict, kind)

    def failure_for(self, verdict: Verdict, kind: Kind) -> ConnectorError:
        """The ONE mapping from what happened (and what the request did) to an error."""
        cls = _error_class(verdict.outcome, kind)
        if cls is RateLimited:
            return self.error(
                RateLimited, verdict.message, verdict.status, retry_at=self._retry_at(verdict)
            )
        message = verdict.message
        if cls is Unknown and verdict.outcome is Outcome.ANSWER_LOST:
            message += "; the post may exist"
        return self.error(cls, message, verdict.status)

    def unreadable(self, what: str, kind: Kind, status: int | None = None) -> ConnectorError:
        """An answer without the fields the connector needs, for a request of ``kind``."""
        return self.failure_for(Verdict(Outcome.ANSWER_LOST, what, status), kind)

    def json(self, response: requests.Response, kind: Kind) -> Any:
        """The JSON body of a successful response; an unreadable one is uncertain."""
        try:
            return response.json()
        except ValueError:
            message = "the platform answered with a body that is not JSON"
            raise self.unreadable(message, kind, response.status_code) from None

    def json_object(self, response: requests.Response, kind: Kind) -> dict[str, Any]:
        """The JSON object of a successful response; anything else is unreadable."""
        body = self.json(response, kind)
        if not isinstance(body, dict):
            message = "the platform answered with something that is not a JSON object"
            raise self.unreadable(message, kind, response.status_code)
        return body

    def error(self, cls: type[_E], message: str, status: int | None = None, **extra: Any) -> _E:
        """A ``cls`` error of this account with every known secret masked in its message."""
        return cls(
            self.redact(message),
            platform=self.platform,
            account=self.account,
            status=status,
            **extra,
        )

    def _status_verdict(self, response: requests.Response) -> Verdict:
        status = response.status_code
        if response.ok:
            return Verdict(Outcome.OK, status=status)
        reason = self.describe(response)
        if status in (401, 403):
            return Verdict(Outcome.AUTH, f"credentials refused: {reason}", status)
        if status == 429:
            return Verdict(Outcome.RATE_LIMITED, f"rate limited: {reason}", status)
        if status >= 500:
            return Verdict(Outcome.PLATFORM_FAILED, f"platform error: {reason}", status)
        return Verdict(Outcome.REJECTED, reason, status)

    def _retry_at(self, verdict: Verdict) -> datetime:
        now = self.clock()
        if verdict.retry_at is not None:
            return verdict.retry_at
        if verdict.retry_after is not None:
            return now + timedelta(seconds=verdict.retry_after)
        return DEFAULT_BACKOFF + now

    def _refuse_when_empty(self, route: str) -> None:
        assert self.buckets is not None
        blocked = self.buckets.blocked_until(route, self.clock())
        if blocked is not None:
            until, reason = blocked
            raise self.failure_for(Verdict(Outcome.RATE_LIMITED, reason, retry_at=until), Kind.READ)


def _lost(exc: requests.RequestException) -> Verdict:
    """What a ``requests`` failure says about whether the request left."""
    name = type(exc).__name__
    if isinstance(exc, requests.ConnectionError) and _connection_never_made(exc):
        return Verdict(Outcome.NOT_SENT, f"could not connect ({name})")
    if isinstance(exc, requests.ReadTimeout):
        return Verdict(Outcome.ANSWER_LOST, "no answer before the read timeout")
    return Verdict(Outcome.ANSWER_LOST, f"connection lost after sending ({name})")


# --------------------------------------------------------------------------- rate-limit buckets


@dataclass
class _Bucket:
    remaining: int
    reset_at: datetime


class RateBuckets:
    """Per-route rate limits announced in headers (Discord's ``X-RateLimit-Bucket``).

    A route is ``"<route template> <major parameter>"``; routes sharing a bucket
    id share a budget. A request to a route whose bucket is empty, or any request
    during a global limit, is refused before it is sent.
    """

    def __init__(self) -> None:
        self._routes: dict[str, str] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._global_until: datetime | None = None

    def _key(self, route: str) -> str | None:
        bucket_id = self._routes.get(route)
        return f"{bucket_id}|{route.rpartition(' ')[2]}" if bucket_id else None

    def blocked_until(self, route: str, now: datetime) -> tuple[datetime, str] | None:
        """When ``route`` may be used again and why, or None when it may be used now."""
        if self._global_until is not None and self._global_until > now:
            return self._global_until, "global rate limit still in force"
        key = self._key(route)
        bucket = self._buckets.get(key) if key else None
        if bucket is not None and bucket.remaining <= 0 and bucket.reset_at > now:
            return bucket.reset_at, "rate limit bucket is empty; not sending"
        return None

    def remember(
        self, route: str, response: requests.Response, verdict: Verdict, now: datetime
    ) -> None:
        """Note what ``response`` says of its bucket (and of a global limit)."""
        if verdict.outcome is Outcome.RATE_LIMITED and verdict.global_limit:
            self._global_until = verdict.retry_at or now + timedelta(
                seconds=verdict.retry_after or 0
            )
        headers = response.headers
        bucket_id = headers.get("X-RateLimit-Bucket")
        try:
            remaining = int(headers["X-RateLimit-Remaining"])
            reset_after = float(headers["X-RateLimit-Reset-After"])
        except (KeyError, ValueError):
            return
        if not bucket_id:
            return
        self._routes[route] = bucket_id
        key = self._key(route)
        assert key is not None
        self._buckets[key] = _Bucket(remaining, now + timedelta(seconds=reset_after))


# --------------------------------------------------------------------------- base class


class HttpConnector(BaseConnector[SettingsT]):
    """A connector that talks HTTP: builds its :class:`HttpClient` once per account."""

    #: Base URL of the API, unless the settings name one (``base_url``/``instance``).
    base_url: ClassVar[str] = ""

    def __init__(
        self,
        account: str,
        settings: ConnectorSettings,
        state: ConnectorState | None = None,
    ) -> None:
        super().__init__(account, settings, state)
        self.http = self._make_client()

    def _make_client(self) -> HttpClient:
        """Build the client; subclasses add auth headers and secrets here."""
        return HttpClient(self.name, self.account, base_url=self.base_url, classify=self.classify)

    def error(self, cls: type[_E], message: str, status: int | None = None, **extra: Any) -> _E:
        """An error of this account, with every secret the client knows masked."""
        return self.http.error(cls, message, status, **extra)

    def _bearer_client(
        self,
        token: str,
        *,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        describe: Describe = _default_describe,
    ) -> HttpClient:
        """The client of an API that takes ``Authorization: Bearer <token>``, token masked."""
        return HttpClient(
            self.name,
            self.account,
            base_url=self.base_url if base_url is None else base_url,
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
            secrets=[token],
            describe=describe,
            classify=self.classify,
        )

    def classify(self, response: requests.Response) -> Verdict | None:
        """Read the platform's envelope of ``response`` (``ok:false``, error codes, …).

        None leaves the answer to its HTTP status. Never decide here whether the
        platform may have acted: say what happened (:class:`Outcome`), and
        :meth:`HttpClient.failure_for` decides from the request's :class:`Kind`.
        """
        return None
