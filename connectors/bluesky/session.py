"""XRPC calls and the session: login, refresh, and the error names of answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar, Unpack

import requests

from connectors.bluesky.constants import _RENEW
from connectors.bluesky.settings import BlueskySettings
from connectors.bluesky.shapes import Session
from connectors.errors import AuthError
from connectors.http import (
    HttpClient,
    HttpConnector,
    Kind,
    Outcome,
    RequestOptions,
    Verdict,
    answer_field,
    describe_fields,
)
from connectors.payload import JSONObject, Payload, read_model

_P = TypeVar("_P", bound=Payload)


def _error_name(response: requests.Response) -> str:
    """The XRPC ``error`` name of an error response, or ``""``."""
    return answer_field(response, "error")


#: ``Name: message`` from an XRPC error body.
_describe = describe_fields("error", "message")


class BlueskyXrpc(HttpConnector[BlueskySettings]):
    """Authenticated XRPC calls of one account, renewing its session when refused."""

    _session: Session | None = None

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
        **options: Unpack[RequestOptions],
    ) -> requests.Response:
        """An authenticated call; an expired or invalid token is renewed and the call made again.

        Args:
            method: HTTP method.
            nsid: the XRPC method, e.g. ``com.atproto.repo.createRecord``.
            kind: what the call does (see :class:`~connectors.http.Kind`).
            ok: error statuses the caller handles itself.
            **options: passed to ``requests``.
        """
        response = self._authed(method, nsid, kind, ok, options)
        if self._token_refused(response):
            self._renew_session()
            response = self._authed(method, nsid, kind, ok, options)
            if self._token_refused(response):
                raise self._auth_error(f"a fresh session was refused ({_describe(response)})")
        if not response.ok and response.status_code not in ok:
            raise self.http.failure(response, kind)
        return response

    def _authed(
        self, method: str, nsid: str, kind: Kind, ok: Sequence[int], options: RequestOptions
    ) -> requests.Response:
        token = self._current_session().access_jwt
        headers = {**(options.get("headers") or {}), "Authorization": f"Bearer {token}"}
        sent: RequestOptions = {**options, "headers": headers}
        return self.http.request(method, self._url(nsid), kind=kind, ok=(400, 401, *ok), **sent)

    @staticmethod
    def _token_refused(response: requests.Response) -> bool:
        return response.status_code in (400, 401) and _error_name(response) in _RENEW

    def _current_session(self) -> Session:
        """The session in use: in memory, else saved in the state, else a new one."""
        if self._session is None:
            saved = read_model(Session, self.state.load().get("session"))
            if saved is not None and self._usable(saved):
                self._remember(saved)
            else:
                self._create_session()
        assert self._session is not None
        return self._session

    def _usable(self, saved: Session) -> bool:
        settings = self.settings
        return saved.identifier == settings.handle and saved.service == settings.service

    def _remember(self, session: Session, *, save: bool = False) -> None:
        self.http.add_secret(session.access_jwt)
        self.http.add_secret(session.refresh_jwt)
        self._session = session
        if save:
            saved = session.model_dump(by_alias=True, exclude_none=True)
            self.state.save({**self.state.load(), "session": saved})

    def _store(self, response: requests.Response) -> None:
        body = self._read_answer(response, Session, Kind.HARMLESS_WRITE)
        settings = self.settings
        change = {"handle": body.handle or settings.handle, "identifier": settings.handle}
        session = body.model_copy(update={**change, "service": settings.service})
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
        refresh = (self._session.refresh_jwt if self._session else None) or ""
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

    def _object(self, response: requests.Response, kind: Kind = Kind.READ) -> JSONObject:
        """The JSON object of ``response``."""
        return self.http.json_object(response, kind)

    def _read_answer(
        self, response: requests.Response, answer: type[_P], kind: Kind = Kind.READ
    ) -> _P:
        """The JSON object of ``response`` read as ``answer``."""
        return self.http.read(self.http.json_object(response, kind), answer, kind)

    def _required(self, value: str | None, key: str, kind: Kind = Kind.READ) -> str:
        """``value``, which the answer must have had under ``key``."""
        if not value:
            raise self.http.unreadable(f"the answer has no {key!r}", kind)
        return value
