"""``diagnose()`` for X: whose credentials, what they may do, the rate headroom.

- ``GET /2/users/me`` (https://docs.x.com/x-api/users/get-my-user), a read; with OAuth
  2.0 the access token is renewed first when due (a harmless write). Its
  ``x-rate-limit-*`` headers give the headroom of that endpoint, and for OAuth 1.0a
  its ``x-access-level`` says whether the token may write (``read-write``).
- OAuth 2.0 scopes are the ``scope`` X answered with at the last token renewal.
"""

from __future__ import annotations

from datetime import datetime

from connectors.diagnosis import Diagnosis, missing, rate_headroom
from connectors.http import Kind
from connectors.x.auth import XAuth

__all__ = ["NEEDED_SCOPES", "XDoctor"]

#: OAuth 2.0 scope → what crosspost uses it for.
NEEDED_SCOPES = {
    "tweet.write": "publish and answer posts",
    "tweet.read": "collect reactions and find a post after an uncertain publish",
    "users.read": "read follower counts",
    "offline.access": "renew the access token without a person",
    "media.write": "attach images",
}


class XDoctor(XAuth):
    """``diagnose`` of :class:`connectors.x.XConnector`."""

    def diagnose(self) -> Diagnosis:
        """The user of the credentials, missing write access or scopes, the rate headroom.

        Raises:
            AuthError: the credentials (or the refresh token) are refused.
            RateLimited, Rejected, Transient.
        """
        headers = self._auth_headers()  # OAuth 2.0: renewed first when due
        response = self.http.request("GET", "/2/users/me", kind=Kind.READ, headers=headers)
        data = self.http.json_object(response, Kind.READ).get("data")
        username = data.get("username") if isinstance(data, dict) else None
        problems, notes = self._permissions(response.headers.get("x-access-level"))
        scopes: tuple[str, ...] | None = None
        if self.settings.uses_oauth2:
            saved = self.state.load().get("scope")
            if isinstance(saved, str) and saved.strip():
                scopes = tuple(sorted(saved.split()))
                problems += missing(scopes, NEEDED_SCOPES)
            else:
                notes.append("X did not say the token's scopes at its last renewal")
        problems += self._daily_limit()
        return Diagnosis(
            identity=f"@{username}" if username else f"X user {self.account}",
            problems=tuple(problems),
            scopes=scopes,
            notes=tuple(notes),
            rate=rate_headroom(response.headers),
            details={"authentication": "OAuth 2.0" if self.settings.uses_oauth2 else "OAuth 1.0a"},
        )

    @staticmethod
    def _permissions(level: str | None) -> tuple[list[str], list[str]]:
        if level is None:
            return [], []
        if "write" not in level:
            return [
                f"the access token may only read (x-access-level: {level}): give the app "
                "Read and write permission, then make a new access token and secret"
            ], []
        return [], [f"access level: {level}"]

    def _daily_limit(self) -> list[str]:
        until = self.state.load().get("daily_limit_until")
        if isinstance(until, str) and datetime.fromisoformat(until) > self._now():
            return [f"the 24-hour posting limit is used up until {until}"]
        return []
