"""One ``requests.Session`` per account, timeouts, and the one place failures become errors.

Each request says what it does (:class:`Kind`); the answer, or its absence, is
read into a :class:`Verdict` (by the connector's ``classify`` hook for platform
envelopes such as ``ok:false``, else by its HTTP status); and one method,
:meth:`HttpClient.failure_for`, asks the one question: could the platform have
acted on the request? Publishing requests are never retried here; the
dispatcher decides.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from importlib import metadata
from typing import ClassVar, TypedDict, TypeVar, Unpack
from urllib.parse import urlencode

import requests
from pydantic import JsonValue, ValidationError
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.utils import get_environ_proxies, get_netrc_auth
from urllib3.util.retry import Retry

from connectors.bodies import Describe, default_describe, never_a_page
from connectors.errors import ConnectorError, RateLimited
from connectors.outcomes import DEFAULT_BACKOFF, Classify, Kind, Outcome, Verdict, failure_for
from connectors.payload import JSONObject, Payload, what_is_wrong
from connectors.ratelimit import RateBuckets, parse_retry_at
from connectors.sending import send

__all__ = [
    "DEFAULT_TIMEOUT",
    "PROJECT_URL",
    "HttpClient",
    "RequestOptions",
    "crosspost_version",
    "user_agent",
]

#: (connect, read) seconds; a platform that takes longer is treated as failing.
DEFAULT_TIMEOUT = (5.0, 30.0)
PROJECT_URL = "https://pypi.org/project/crosspost/"

_E = TypeVar("_E", bound=ConnectorError)
_M = TypeVar("_M", bound=Payload)
_FORM = "application/x-www-form-urlencoded"
#: One uploaded file: name, content, MIME type.
FileField = tuple[str, bytes, str]


class RequestOptions(TypedDict, total=False):
    """What a connector may pass on to ``requests`` with a request."""

    params: Mapping[str, str | int | Sequence[str]] | Sequence[tuple[str, str]] | None
    data: bytes | str | Mapping[str, str | int] | list[tuple[str, str]] | None
    #: Anything ``json.dumps`` writes: a body model's dump or a TypedDict.
    json: object
    headers: Mapping[str, str] | None
    files: Mapping[str, FileField] | Sequence[tuple[str, FileField]] | None
    auth: tuple[str, str] | AuthBase | None
    timeout: tuple[float, float]
    #: ``False`` where a redirect must not be followed (a user's own endpoint).
    allow_redirects: bool
    #: Set from the environment (:class:`_Environment`), not by connectors.
    proxies: dict[str, str]
    #: ``True`` to read the body as it arrives (a stream of events), not at once.
    stream: bool


def crosspost_version() -> str:
    """The installed distribution's version, ``0`` in a plain checkout."""
    try:
        return metadata.version("crosspost")
    except metadata.PackageNotFoundError:
        return "0"


def user_agent() -> str:
    """``crosspost/<version> (+<project url>)``."""
    return f"crosspost/{crosspost_version()} (+{PROJECT_URL})"


def _connection_never_made(exc: requests.ConnectionError) -> bool:
    """True when the failure happened before any byte of the request left."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)  # urllib3 wraps the cause in a MaxRetryError
    names = {type(inner).__name__, type(reason).__name__}
    return bool(names & {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"})


def _lost(exc: requests.RequestException) -> Verdict:
    """What a ``requests`` failure says about whether the request left."""
    name = type(exc).__name__
    if isinstance(exc, requests.ConnectionError) and _connection_never_made(exc):
        return Verdict(Outcome.NOT_SENT, f"could not connect ({name})")
    if isinstance(exc, requests.ReadTimeout):
        return Verdict(Outcome.ANSWER_LOST, "no answer before the read timeout")
    return Verdict(Outcome.ANSWER_LOST, f"connection lost after sending ({name})")


class _Environment:
    """What ``requests`` reads from the environment, read once per origin, not per request.

    A session that trusts the environment scans every variable for proxies and
    looks for ``~/.netrc`` at each request: half of the cost of a post on
    loopback. The session stops trusting it and is given the same settings,
    found once: ``HTTP(S)_PROXY``/``ALL_PROXY`` except for ``NO_PROXY`` hosts,
    ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, and ``~/.netrc`` credentials.
    """

    def __init__(self, session: requests.Session) -> None:
        session.trust_env = False
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle and session.verify is True:
            session.verify = bundle
        self._origins: dict[str, tuple[dict[str, str], tuple[str, str] | None]] = {}

    def apply(self, url: str, options: RequestOptions) -> None:
        """Give a request to ``url`` the proxies and credentials the environment names."""
        proxies, netrc = self._for(url)
        if proxies:
            options["proxies"] = proxies
        if netrc is not None and options.get("auth") is None:
            options["auth"] = netrc

    def _for(self, url: str) -> tuple[dict[str, str], tuple[str, str] | None]:
        origin = "/".join(url.split("/", 3)[:3])  # scheme://host:port
        found = self._origins.get(origin)
        if found is None:
            found = (dict(get_environ_proxies(origin)), get_netrc_auth(origin))
            self._origins[origin] = found
        return found


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
        describe: Describe = default_describe,
        classify: Classify | None = None,
        buckets: RateBuckets | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.platform = platform
        self.account = account
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.describe = never_a_page(describe)
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
        self._environment = _Environment(self.session)

    def __repr__(self) -> str:
        return f"HttpClient({self.platform!r}, {self.account!r}, {self.redact(self.base_url)!r})"

    def add_secret(self, value: str) -> None:
        """Mask ``value`` from now on (e.g. a token obtained at run time)."""
        if value and value not in self._secrets:
            self._secrets.append(value)

    def forget_secret(self, value: str) -> None:
        """Stop masking ``value`` (a short-lived token replaced by a new one)."""
        if value in self._secrets:
            self._secrets.remove(value)

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
        **options: Unpack[RequestOptions],
    ) -> requests.Response:
        """Send one request and return the response, or raise the connector error it means.

        Args:
            method: HTTP method.
            path: relative to ``base_url``, or absolute.
            kind: what the request does; it alone decides ``Transient`` vs ``Unknown``.
            ok: statuses besides 2xx that the caller handles itself (e.g. 404 on delete).
            route: the rate-limit route of the request, when ``buckets`` are kept.
            **options: as ``requests.Session.request`` takes them (:mod:`connectors.sending`).
        """
        url = self.url(path)
        for observe in self.observers:
            observe(method, self.redact(url), kind)
        if self.buckets is not None and route is not None:
            self._refuse_when_empty(route)
        options.setdefault("timeout", self.timeout)
        self._environment.apply(url, options)
        self._encode_form(options)
        self.log.debug("%s %s (%s)", method, self.redact(url), kind)
        try:
            response = send(self.session, method, url, options)
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

    def _encode_form(self, options: RequestOptions) -> None:
        """Encode a form without files here, to the body ``requests`` would make of it.

        ``requests`` checks the fields against its typing protocols on the way, and
        ``isinstance`` on a runtime protocol walks the protocol's members each time:
        a tenth of the CPU of a small post.
        """
        data = options.get("data")
        if not data or options.get("files") or not isinstance(data, Mapping | list):
            return
        pairs = data.items() if isinstance(data, Mapping) else data
        # as requests does: a field without a value is left out, a list is repeated
        fields = [(name, value) for name, value in pairs if value is not None]
        options["data"] = urlencode(fields, doseq=True)  # a str, as requests makes it
        headers = options.get("headers") or {}
        if not any(name.lower() == "content-type" for name in headers) and (
            "content-type" not in self.session.headers
        ):
            options["headers"] = {**headers, "Content-Type": _FORM}

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
        """The ONE mapping (:func:`connectors.outcomes.failure_for`), secrets masked."""
        return failure_for(
            verdict,
            kind,
            platform=self.platform,
            account=self.account,
            now=self.clock(),
            redact=self.redact,
        )

    def unreadable(self, what: str, kind: Kind, status: int | None = None) -> ConnectorError:
        """An answer without the fields the connector needs, for a request of ``kind``."""
        return self.failure_for(Verdict(Outcome.ANSWER_LOST, what, status), kind)

    def json(self, response: requests.Response, kind: Kind) -> JsonValue:
        """The JSON body of a successful response; an unreadable one is uncertain."""
        try:
            body: JsonValue = response.json()
        except ValueError:
            message = "the platform answered with a body that is not JSON"
            raise self.unreadable(message, kind, response.status_code) from None
        return body

    def json_object(self, response: requests.Response, kind: Kind) -> JSONObject:
        """The JSON object of a successful response; anything else is unreadable."""
        body = self.json(response, kind)
        if not isinstance(body, dict):
            message = "the platform answered with something that is not a JSON object"
            raise self.unreadable(message, kind, response.status_code)
        return body

    def parse(self, response: requests.Response, model: type[_M], kind: Kind, what: str = "") -> _M:
        """The JSON body of a successful response read as ``model``; else it is unreadable.

        Args:
            what: the answer's name for the message (``"the upload answer"``).
        """
        return self.read(self.json(response, kind), model, kind, what, response.status_code)

    def read(
        self,
        value: object,
        model: type[_M],
        kind: Kind,
        what: str = "",
        status: int | None = None,
    ) -> _M:
        """``value`` (JSON of an answer to a ``kind`` request) read as ``model``."""
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            message = f"{what or 'the answer'} {what_is_wrong(exc)}"
            raise self.unreadable(message, kind, status) from None

    def error(self, cls: type[_E], message: str, status: int | None = None) -> _E:
        """A ``cls`` error of this account with every known secret masked in its message."""
        return cls(
            self.redact(message), platform=self.platform, account=self.account, status=status
        )

    def rate_limited(
        self, message: str, retry_at: datetime, status: int | None = None
    ) -> RateLimited:
        """A :class:`RateLimited` of this account until ``retry_at``, secrets masked."""
        return RateLimited(
            self.redact(message),
            retry_at=retry_at,
            platform=self.platform,
            account=self.account,
            status=status,
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

    def _refuse_when_empty(self, route: str) -> None:
        assert self.buckets is not None
        blocked = self.buckets.blocked_until(route, self.clock())
        if blocked is not None:
            until, reason = blocked
            raise self.failure_for(Verdict(Outcome.RATE_LIMITED, reason, retry_at=until), Kind.READ)
