"""HTTP for connectors: one session per account, timeouts, and one error mapping.

Every connector talks to its platform through :class:`HttpClient`, which is the
single place where ``requests`` failures become the error classes of
:mod:`connectors.base`. The mapping asks one question: could the platform have
acted on the request?

====================================  ===========================================
what happened                         raised
====================================  ===========================================
connection refused / DNS / TLS        ``Transient`` (nothing was sent)
connect timeout                       ``Transient``
read timeout, connection dropped      reads: ``Transient``; writes: ``Unknown``
401, 403                              ``AuthError``
429                                   ``RateLimited(retry_at)``
400, 404, 409, 413, 422, other 4xx    ``Rejected``
5xx                                   reads and keyed writes: ``Transient``;
                                      other writes: ``Unknown``
2xx whose body cannot be read         reads: ``Transient``; writes: ``Unknown``
====================================  ===========================================

Publishing requests are never retried here; the dispatcher decides.
"""

from __future__ import annotations

import email.utils
import logging
import re
from collections.abc import Callable, Iterable, Mapping
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
    Transient,
    Unknown,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "HttpClient",
    "HttpConnector",
    "parse_retry_at",
    "summarise_body",
    "user_agent",
]

#: (connect, read) seconds; a platform that takes longer is treated as failing.
DEFAULT_TIMEOUT = (5.0, 30.0)
#: When a 429 says nothing about when to come back.
DEFAULT_BACKOFF = timedelta(seconds=60)

Describe = Callable[[requests.Response], str]
_E = TypeVar("_E", bound=ConnectorError)


def user_agent() -> str:
    """``crosspost/<version>``, from the installed distribution."""
    try:
        version = metadata.version("crosspost")
    except metadata.PackageNotFoundError:  # running from a plain checkout
        version = "0"
    return f"crosspost/{version} (+https://pypi.org/project/crosspost/)"


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


def _default_describe(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return summarise_body(response)
    if isinstance(body, dict):
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


class HttpClient:
    """One ``requests.Session`` for one account, with error mapping.

    Args:
        platform: connector name, for messages.
        account: account alias, for messages and the logger.
        base_url: prefix for relative paths.
        headers: sent with every request (e.g. ``Authorization``).
        secrets: values to mask wherever a URL or message is logged or raised.
        timeout: ``(connect, read)`` seconds.
        describe: turns an error response into a one-line reason.
    """

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
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.platform = platform
        self.account = account
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.describe = _never_a_page(describe)
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
        keyed: bool = False,
        ok: Iterable[int] = (),
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request and return the response, or raise a connector error.

        Args:
            method: HTTP method; anything but GET/HEAD counts as a write.
            path: relative to ``base_url``, or absolute.
            keyed: the write carries an idempotency key the platform honours,
                so repeating it cannot duplicate (5xx becomes ``Transient``).
            ok: statuses besides 2xx that the caller handles itself.
            **kwargs: passed to ``requests.Session.request``.
        """
        write = method.upper() not in ("GET", "HEAD")
        url = self.url(path)
        kwargs.setdefault("timeout", self.timeout)
        self.log.debug("%s %s", method, self.redact(url))
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise self._map_exception(exc, write) from None
        self.log.debug("%s %s -> %s", method, self.redact(url), response.status_code)
        if response.ok or response.status_code in set(ok):
            return response
        raise self.error_for(response, write=write, keyed=keyed)

    def json(self, response: requests.Response) -> Any:
        """The JSON body of a successful response; an unreadable one is uncertain."""
        try:
            return response.json()
        except ValueError:
            write = response.request.method not in ("GET", "HEAD", None)
            cls = Unknown if write else Transient
            raise self.error(
                cls, "the platform answered with a body that is not JSON", response.status_code
            ) from None

    def error(self, cls: type[_E], message: str, status: int | None = None, **extra: Any) -> _E:
        """A ``cls`` error of this account with every known secret masked in its message."""
        return cls(
            self.redact(message),
            platform=self.platform,
            account=self.account,
            status=status,
            **extra,
        )

    def _map_exception(self, exc: requests.RequestException, write: bool) -> ConnectorError:
        detail = self.redact(type(exc).__name__)
        if isinstance(exc, requests.ConnectionError) and _connection_never_made(exc):
            return self.error(Transient, f"could not connect ({detail})")
        if not write:
            return self.error(Transient, f"request failed ({detail})")
        if isinstance(exc, requests.ReadTimeout):
            return self.error(Unknown, "no answer before the read timeout; the post may exist")
        return self.error(Unknown, f"connection lost after sending ({detail}); the post may exist")

    def error_for(
        self,
        response: requests.Response,
        *,
        write: bool,
        keyed: bool = False,
        reason: str | None = None,
    ) -> ConnectorError:
        """The connector error that ``response`` stands for."""
        status = response.status_code
        reason = reason or self.describe(response)
        if status in (401, 403):
            return self.error(AuthError, f"credentials refused: {reason}", status)
        if status == 429:
            retry_at = parse_retry_at(response.headers, self.clock())
            return self.error(
                RateLimited,
                f"rate limited: {reason}",
                status,
                retry_at=retry_at or self.clock() + DEFAULT_BACKOFF,
            )
        if status >= 500:
            cls = Unknown if write and not keyed else Transient
            return self.error(cls, f"platform error: {reason}", status)
        return self.error(Rejected, reason, status)


# --------------------------------------------------------------------------- base class


class HttpConnector(BaseConnector):
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
        return HttpClient(self.name, self.account, base_url=self.base_url)
