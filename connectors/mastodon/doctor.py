"""``diagnose()`` for Mastodon: the token's account, its scopes, the server's limits.

Read-only calls only:

- ``GET /api/v2/instance``: the server's limits (the core stores them for ``check``).
- ``GET /api/v1/accounts/verify_credentials``: whose token it is (``read:accounts``);
  its ``X-RateLimit-*`` headers give the headroom (300 calls per 5 minutes per token).
- ``GET /api/v1/apps/verify_credentials``: the token's app and, from Mastodon 4.3 on,
  its ``scopes`` (https://docs.joinmastodon.org/entities/Application/#scopes).
- Where the scopes are not listed: ``GET /api/v1/notifications?limit=1`` shows whether
  ``read:notifications`` was granted; write scopes cannot be seen without writing.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from connectors.diagnosis import Diagnosis, missing, rate_headroom
from connectors.http import Kind
from connectors.mastodon.reading import MastodonReading

__all__ = ["NEEDED_SCOPES", "MastodonDoctor"]

#: Scope → what crosspost uses it for (the access_token setting documents the same list).
NEEDED_SCOPES = {
    "write:statuses": "publish, answer and retract statuses",
    "write:media": "attach images",
    "read:statuses": "collect reactions and find a status after an uncertain publish",
    "read:accounts": "read follower counts and lists",
    "read:notifications": "read mentions and replies into the inbox",
}


def _granted(scopes: Iterable[str]) -> set[str]:
    """What ``scopes`` grant: ``read`` and ``write`` stand for every ``read:…``/``write:…``."""
    granted = set(scopes)
    for scope in NEEDED_SCOPES:
        if scope.split(":")[0] in granted:
            granted.add(scope)
    return granted


class MastodonDoctor(MastodonReading):
    """``diagnose`` of :class:`connectors.mastodon.MastodonConnector`."""

    def diagnose(self) -> Diagnosis:
        """Who the token is, which needed scopes it lacks, and the rate headroom.

        Raises:
            AuthError: the token is refused (401); a missing scope is a problem instead.
            RateLimited, Rejected, Transient.
        """
        self._prepare()
        host = urlsplit(self.settings.instance).hostname or self.settings.instance
        problems: list[str] = []
        response = self.http.request(
            "GET", "/api/v1/accounts/verify_credentials", kind=Kind.READ, ok=(403,)
        )
        rate = rate_headroom(response.headers)
        if response.status_code == 403:
            identity = f"a token of {host}"
            problems += missing((), {"read:accounts": NEEDED_SCOPES["read:accounts"]})
        else:
            body = self.http.json_object(response, Kind.READ)
            identity = f"@{body.get('acct') or body.get('username')}@{host}"
        scopes, notes = self._scopes()
        if scopes is not None:
            problems += [p for p in missing(_granted(scopes), NEEDED_SCOPES) if p not in problems]
        else:
            problems += self._probe_notifications()
        return Diagnosis(
            identity=identity,
            problems=tuple(problems),
            scopes=tuple(scopes) if scopes is not None else None,
            notes=tuple(notes),
            rate=rate,
            details=self._server_details(),
        )

    def _scopes(self) -> tuple[list[str] | None, list[str]]:
        """The token's scopes as the server lists them (4.3+), else None and why."""
        response = self.http.request(
            "GET", "/api/v1/apps/verify_credentials", kind=Kind.READ, ok=(403, 404)
        )
        body: object = self.http.json(response, Kind.READ) if response.ok else None
        scopes = body.get("scopes") if isinstance(body, dict) else None
        if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
            return sorted(scopes), []
        return None, [
            "the server does not list the token's scopes (Mastodon before 4.3 and some "
            "compatible servers): write:statuses and write:media show only when used"
        ]

    def _probe_notifications(self) -> list[str]:
        response = self.http.request(
            "GET", "/api/v1/notifications", kind=Kind.READ, params={"limit": "1"}, ok=(403,)
        )
        if response.status_code == 403:
            return missing((), {"read:notifications": NEEDED_SCOPES["read:notifications"]})
        return []

    def _server_details(self) -> dict[str, str]:
        limits = self.effective_limits
        return {
            "server": self.settings.instance,
            "max characters": str(limits.max_length),
            "media per status": str(limits.max_media),
        }
