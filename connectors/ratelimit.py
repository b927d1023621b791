"""When a rate limit ends: ``Retry-After`` and its cousins, and per-route buckets."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests

from connectors.outcomes import Outcome, Verdict

__all__ = ["RateBuckets", "parse_retry_at", "retry_after_seconds"]


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
    for name in ("retry-after", "x-ratelimit-reset-after"):
        if name in lowered:
            retry = _parse_delay(lowered[name], now)
            if retry:
                return retry
    for name in ("x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset"):
        if name in lowered:
            value = lowered[name]
            retry = _parse_instant(value, now) or _parse_delay(value, now)
            if retry:
                return retry
    return None


def retry_after_seconds(value: object) -> float | None:
    """A ``retry_after`` number from a JSON body, or None when it is not one."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


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
