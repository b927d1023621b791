"""XRPC calls and the session: login, refresh, and the error names of answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import requests

from connectors.base import (
    AuthError,
)
from connectors.bluesky.constants import _RENEW
from connectors.bluesky.settings import BlueskySettings
from connectors.http import HttpClient, HttpConnector, Kind, Outcome, Verdict, describe_object


def _error_name(response: requests.Response) -> str:
    """The XRPC ``error`` name of an error response, or ``""``."""
    try:
        body = response.json()
    except ValueError:
        return ""
    name = body.get("error") if isinstance(body, dict) else None
    return name if isinstance(name, str) else ""


@describe_object
def _describe(response: requests.Response, body: Mapping[str, Any]) -> str:
    """``Name: message`` from an XRPC error body."""
    parts = [str(body[key]) for key in ("error", "message") if body.get(key)]
    return ": ".join(parts) or str(body)[:200]


class BlueskyXrpc(HttpConnector[BlueskySettings]):
    """Authenticated XRPC calls of one account, renewing its session when refused."""

    _session: dict[str, str] | None = None

    def _make_client(self) -> HttpClient:
        password = self.settings.app_password.get_secret_value()
        return HttpClient(
            self.name,
            self.account,
            base_url=self.settings.service,
            secrets=[password],
            describe=_describe,
            classify=self.classify,
        )

    # -- XRPC and the session -------------------------------------------------

    def _url(self, nsid: str, base: str | None = None) -> str:
        return f"{base or self.settings.service}/xrpc/{nsid}"

    def _xrpc(
        self,
        method: str,
        nsid: str,
        *,
        kind: Kind,
        ok: Sequence[int] = (),
        **kwargs: Any,
    ) -> requests.Response:
        """An authenticated call; an expired or invalid token is renewed and the call made again.

        Args:
            method: HTTP method.
            nsid: the XRPC method, e.g. ``com.atproto.repo.createRecord``.
            kind: what the call does (see :class:`~connectors.http.Kind`).
            ok: error statuses the caller handles itself.
            **kwargs: passed to ``requests``.
        """
        response = self._authed(method, nsid, kind, ok, kwargs)
        if self._token_refused(response):
            self._renew_session()
            response = self._authed(method, nsid, kind, ok, kwargs)
            if self._token_refused(response):
                raise self._auth_error(f"a fresh session was refused ({_describe(response)})")
        if not response.ok and response.status_code not in ok:
            raise self.http.failure(response, kind)
        return response

    def _authed(
        self, method: str, nsid: str, kind: Kind, ok: Sequence[int], kwargs: Mapping[str, Any]
    ) -> requests.Response:
        token = self._current_session()["accessJwt"]
        headers = {**kwargs.get("headers", {}), "Authorization": f"Bearer {token}"}
        return self.http.request(
            method,
            self._url(nsid),
            kind=kind,
            ok=(400, 401, *ok),
            **{**kwargs, "headers": headers},
        )

    @staticmethod
    def _token_refused(response: requests.Response) -> bool:
        return response.status_code in (400, 401) and _error_name(response) in _RENEW

    def _current_session(self) -> dict[str, str]:
        """The session in use: in memory, else saved in the state, else a new one."""
        if self._session is None:
            saved = self.state.load().get("session")
            if isinstance(saved, dict) and self._usable(saved):
                self._remember({str(k): str(v) for k, v in saved.items()})
            else:
                self._create_session()
        assert self._session is not None
        return self._session

    def _usable(self, saved: Mapping[str, Any]) -> bool:
        settings = self.settings
        return (
            all(isinstance(saved.get(k), str) for k in ("accessJwt", "refreshJwt", "did"))
            and saved.get("identifier") == settings.handle
            and saved.get("service") == settings.service
        )

    def _remember(self, session: dict[str, str], *, save: bool = False) -> None:
        self.http.add_secret(session["accessJwt"])
        self.http.add_secret(session["refreshJwt"])
        self._session = session
        if save:
            self.state.save({**self.state.load(), "session": session})

    def _store(self, response: requests.Response) -> None:
        body = self._object(response, Kind.HARMLESS_WRITE)
        session = {key: self._text(body, key) for key in ("accessJwt", "refreshJwt", "did")}
        session["handle"] = str(body.get("handle") or self.settings.handle)
        session["identifier"] = self.settings.handle
        session["service"] = self.settings.service
        self._remember(session, save=True)

    def _create_session(self) -> None:
        """Log in with the app password (rate-limited to 30 per 5 minutes: reuse sessions)."""
        settings = self.settings
        body = {
            "identifier": settings.handle,
            "password": settings.app_password.get_secret_value(),
        }
        response = self.http.request(
            "POST",
            self._url("com.atproto.server.createSession"),
            kind=Kind.HARMLESS_WRITE,
            ok=(400, 401),
            json=body,
        )
        if response.status_code in (400, 401):
            raise self._auth_error(f"Bluesky refused the app password ({_describe(response)})")
        self.log.info("created a new session")
        self._store(response)

    def _renew_session(self) -> None:
        """Refresh the session; if the refresh token is refused too, log in again."""
        refresh = (self._session or {}).get("refreshJwt", "")
        response = self.http.request(
            "POST",
            self._url("com.atproto.server.refreshSession"),
            kind=Kind.HARMLESS_WRITE,
            ok=(400, 401),
            headers={"Authorization": f"Bearer {refresh}"},
        )
        if response.ok:
            self.log.info("refreshed the session")
            self._store(response)
            return
        self.log.info("refresh refused (%s); logging in again", _error_name(response))
        self._session = None
        self._create_session()

    def _auth_error(self, reason: str) -> AuthError:
        handle = self.settings.handle
        message = (
            f"cannot sign in as {handle}: {reason}. Create a new app password in Bluesky "
            f"(Settings → Privacy and security → App passwords) and set it as app_password "
            f"of account {self.account!r}"
        )
        return self.http.error(AuthError, message)

    def classify(self, response: requests.Response) -> Verdict | None:
        """XRPC error names: an expired or invalid token is a refused credential."""
        if response.status_code == 400 and _error_name(response) in _RENEW:
            return Verdict(Outcome.AUTH, f"session refused: {_describe(response)}", 400)
        return None

    def _object(self, response: requests.Response, kind: Kind = Kind.READ) -> dict[str, Any]:
        return self.http.json_object(response, kind)

    def _text(self, body: Mapping[str, Any], key: str, kind: Kind = Kind.READ) -> str:
        value = body.get(key)
        if not isinstance(value, str) or not value:
            raise self.http.unreadable(f"the answer has no {key!r}", kind)
        return value
