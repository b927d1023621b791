"""Meta's Graph API error envelope and usage headers, read once for all three Meta connectors.

Pages used:

- Error handling: https://developers.facebook.com/docs/graph-api/guides/error-handling
- Rate limits and the usage headers:
  https://developers.facebook.com/docs/graph-api/overview/rate-limiting/

Every Graph API (Facebook Pages, Instagram, Threads) answers a failure with::

    {"error": {"message": "...", "type": "OAuthException", "code": 190,
               "error_subcode": 463, "fbtrace_id": "...", "is_transient": false}}

The code says what happened; :func:`graph_verdict` turns it into an
:class:`~connectors.http.Outcome` and never decides whether the platform may
have acted (the request's ``Kind`` does that).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TypedDict, cast

import requests

from connectors.http import Outcome, Verdict, parse_retry_at

__all__ = [
    "DEFAULT_WAIT",
    "GraphError",
    "graph_error",
    "graph_verdict",
    "usage_wait",
]

#: Throttling codes: app (4), user (17), page (32), custom (613), app limit reached (341).
RATE_CODES = frozenset({4, 17, 32, 341, 613})
#: Business Use Case throttling: 80001 Pages, 80002 Instagram, … up to 80014.
BUC_CODES = range(80000, 80015)
#: Expired, invalid or revoked token (190), session (102), and permission codes (10, 200–299).
TOKEN_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
#: "Temporary issue due to downtime": unknown (1) and service (2).
DOWNTIME_CODES = frozenset({1, 2})
#: Headers that say how much of a rate budget is used; BUC ones carry the wait in minutes.
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-Page-Usage", "X-App-Usage", "X-Ad-Account-Usage")
#: How long to wait when a throttle says nothing about when it ends (Meta's windows are an hour).
DEFAULT_WAIT = timedelta(minutes=5)


class GraphError(TypedDict, total=False):
    """The ``error`` object of a Graph API answer."""

    message: str
    type: str
    code: int
    error_subcode: int
    error_user_title: str
    error_user_msg: str
    fbtrace_id: str
    is_transient: bool


def graph_error(response: requests.Response) -> GraphError | None:
    """The ``error`` object of ``response``, or None when it has none."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        return None
    return cast(GraphError, error)


def _describe(error: GraphError) -> str:
    """``message (code 190/463, fbtrace_id X)``: what Meta said and how to look it up."""
    message = error.get("error_user_msg") or error.get("message") or "no message"
    code = str(error.get("code"))
    if error.get("error_subcode"):
        code += f"/{error['error_subcode']}"
    trace = f", fbtrace_id {error['fbtrace_id']}" if error.get("fbtrace_id") else ""
    return f"{message} (code {code}{trace})"


def graph_verdict(response: requests.Response, now: datetime) -> Verdict | None:
    """What a Graph API answer says; None when it carries no error envelope.

    Throttling codes become ``RATE_LIMITED`` with the wait the usage headers
    estimate, token and permission codes ``AUTH``, ``is_transient`` and the
    downtime codes ``PLATFORM_FAILED``, every other code ``REJECTED``.
    """
    error = graph_error(response)
    if error is None:
        return None
    code, status = error.get("code", 0), response.status_code
    reason = _describe(error)
    if code in RATE_CODES or code in BUC_CODES:
        return Verdict(
            Outcome.RATE_LIMITED,
            f"Meta is throttling this account: {reason}",
            status,
            retry_at=_retry_at(response.headers, now),
        )
    if code in TOKEN_CODES:
        message = f"the access token was refused: {reason}; create a new long-lived token"
        return Verdict(Outcome.AUTH, message, status)
    if code in PERMISSION_CODES:
        return Verdict(Outcome.AUTH, f"a permission is missing: {reason}", status)
    if error.get("is_transient") or code in DOWNTIME_CODES:
        return Verdict(Outcome.PLATFORM_FAILED, f"Meta failed: {reason}", status)
    return Verdict(Outcome.REJECTED, reason, status)


def _retry_at(headers: Mapping[str, str], now: datetime) -> datetime:
    """The usage headers' estimate, else ``Retry-After``, else :data:`DEFAULT_WAIT`."""
    wait = usage_wait(headers)
    if wait is not None:
        return now + wait
    return parse_retry_at(headers, now) or now + DEFAULT_WAIT


def usage_wait(headers: Mapping[str, str]) -> timedelta | None:
    """The longest ``estimated_time_to_regain_access`` (minutes) in the usage headers.

    ``X-Business-Use-Case-Usage`` maps an object id to a list of entries;
    ``X-App-Usage`` and ``X-Page-Usage`` are one flat object. None when no
    header gives a positive estimate.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    minutes = [
        estimate
        for name in USAGE_HEADERS
        for estimate in _estimates(lowered.get(name.lower(), ""))
        if estimate > 0
    ]
    return timedelta(minutes=max(minutes)) if minutes else None


def usage_entries(header: str) -> list[Mapping[str, object]]:
    """The usage objects of one header: the flat one, or each of a BUC header's lists."""
    try:
        usage = json.loads(header) if header else None
    except ValueError:
        return []
    if not isinstance(usage, dict):
        return []
    entries: list[Mapping[str, object]] = [usage]
    for value in usage.values():
        if isinstance(value, list):
            entries.extend(entry for entry in value if isinstance(entry, dict))
    return entries


def _estimates(header: str) -> list[float]:
    found = []
    for entry in usage_entries(header):
        estimate = entry.get("estimated_time_to_regain_access")
        if isinstance(estimate, int | float) and not isinstance(estimate, bool):
            found.append(float(estimate))
    return found
