"""The Threads token: long-lived (60 days), refreshed before it runs out, kept in the state.

``GET /refresh_access_token?grant_type=th_refresh_token&access_token=…`` answers
``{"access_token", "token_type": "bearer", "expires_in": 5183944}``; the token
must be at least 24 hours old and not expired. The refreshed token is saved in
the account's state (never in the database) together with a fingerprint of the
configured one, so a token the user puts in the settings later wins.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta

from connectors.base import ConnectorError
from connectors.graph import ContainerConnector, number
from connectors.http import Kind
from connectors.threads.settings import ThreadsSettings

__all__ = ["REFRESH_RETRY", "ThreadsToken"]

#: After a refresh that failed (a token younger than 24 h, Meta down), try again this much later.
REFRESH_RETRY = timedelta(hours=12)
_KEY = "token"


class ThreadsToken(ContainerConnector[ThreadsSettings]):
    """The Threads client: the token in use, and its refresh."""

    def _api_root(self) -> str:
        return f"https://{self.settings.host}/v1.0"

    def _seed(self) -> str:
        configured = self.settings.access_token.get_secret_value().encode()
        return hashlib.sha256(configured).hexdigest()[:16]

    def _saved(self, data: Mapping[str, object]) -> dict[str, str]:
        """What the state holds for the configured token; empty when it was made for another."""
        saved = data.get(_KEY)
        if not isinstance(saved, dict) or saved.get("seed") != self._seed():
            return {}
        return {str(k): str(v) for k, v in saved.items() if isinstance(v, str)}

    def _access_token(self) -> str:
        """The refreshed token when there is one, renewed first when it is due."""
        saved = self._saved(self.state.load())
        if self._due(saved):
            saved = self._saved(self.state.update(self._refresh_if_due))
        return saved.get("access_token") or self.settings.access_token.get_secret_value()

    def _due(self, saved: Mapping[str, str]) -> bool:
        """Whether to try a refresh now: expiry unknown or near, and no recent failed try."""
        now = self.http.clock()
        tried = _time(saved.get("refresh_tried_at"))
        if tried is not None and now - tried < REFRESH_RETRY:
            return False
        expires = _time(saved.get("expires_at"))
        return expires is None or expires - now <= timedelta(days=self.settings.refresh_days)

    def _refresh_if_due(self, data: dict[str, object]) -> None:
        """Under the state's lock: refresh unless another thread or process just did."""
        saved = self._saved(data)
        if not self._due(saved):
            return
        current = saved.get("access_token") or self.settings.access_token.get_secret_value()
        now = self.http.clock()
        try:
            token, lifetime = self._refreshed(current)
        except ConnectorError as error:
            # The token in hand may still work; the request that follows will say.
            self.log.warning("could not refresh the Threads token (%s); trying later", error)
            data[_KEY] = {**saved, "seed": self._seed(), "refresh_tried_at": now.isoformat()}
            return
        self.log.info("refreshed the Threads token (valid %d days)", lifetime.days)
        data[_KEY] = {
            "seed": self._seed(),
            "access_token": token,
            "expires_at": (now + lifetime).isoformat(),
            "refreshed_at": now.isoformat(),
        }

    def _refreshed(self, current: str) -> tuple[str, timedelta]:
        """Trade ``current`` for a new 60-day token."""
        self.http.add_secret(current)
        # A GET that changes nothing anyone sees: it fails like a read (never Unknown).
        kind = Kind.READ
        response = self.http.request(
            "GET",
            f"https://{self.settings.host}/refresh_access_token",
            kind=kind,
            params={"grant_type": "th_refresh_token", "access_token": current},
        )
        body = self.http.json_object(response, kind)
        token, seconds = body.get("access_token"), number(body.get("expires_in"))
        if not isinstance(token, str) or not token or seconds is None:
            raise self.http.unreadable("the refresh answer has no access_token or expires_in", kind)
        self.http.add_secret(token)
        return token, timedelta(seconds=seconds)


def _time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
