"""The client-server API of one account: errors, the session and the room.

- Errors: https://spec.matrix.org/v1.16/client-server-api/#standard-error-response
  and #rate-limiting (``retry_after_ms``; ``Retry-After`` since v1.10).
- Login and refresh: https://spec.matrix.org/v1.16/client-server-api/#post_matrixclientv3login
- Aliases: https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientv3directoryroomroomalias
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Unpack
from urllib.parse import quote

import requests

from connectors.base import AuthError, ConnectorSettings, ConnectorState
from connectors.client import RequestOptions
from connectors.http import (
    HttpClient,
    HttpConnector,
    Kind,
    Outcome,
    Verdict,
    answer_field,
    describe_fields,
    retry_after_seconds,
)
from connectors.matrix.body import JsonObject, txn_id
from connectors.matrix.settings import MatrixSettings

__all__ = ["CLIENT", "MatrixApi", "errcode"]

CLIENT = "/_matrix/client/v3"
#: Credentials refused or missing, or no right to act in the room.
_AUTH = frozenset(
    {"M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_USER_DEACTIVATED", "M_USER_LOCKED"}
)
#: A token that a new one (refresh or login on the same device) may replace.
_RENEW = frozenset({"M_UNKNOWN_TOKEN"})


def errcode(response: requests.Response) -> str:
    """The ``errcode`` of a Matrix error answer, or ``""``."""
    return answer_field(response, "errcode")


#: ``M_CODE: message`` from a Matrix error body.
_describe = describe_fields("errcode", "error")


class MatrixApi(HttpConnector[MatrixSettings]):
    """Authenticated calls of one account in its room, renewing a password login's token."""

    def __init__(
        self, account: str, settings: ConnectorSettings, state: ConnectorState | None = None
    ) -> None:
        super().__init__(account, settings, state)
        #: The password login's session (token, device, refresh token), once known.
        self._login: dict[str, str] | None = None
        self._user_id: str | None = None
        self._room_id: str | None = None

    def _make_client(self) -> HttpClient:
        settings = self.settings
        secrets = [s.get_secret_value() for s in (settings.access_token, settings.password) if s]
        token = settings.access_token.get_secret_value() if settings.access_token else None
        return HttpClient(
            self.name,
            self.account,
            base_url=settings.homeserver,
            headers={"Authorization": f"Bearer {token}"} if token else {},
            secrets=secrets,
            describe=_describe,
            classify=self.classify,
        )

    def classify(self, response: requests.Response) -> Verdict | None:
        """Matrix ``errcode``s; statuses the spec leaves to HTTP (5xx) stay with it."""
        status = response.status_code
        code = errcode(response)
        if not code or status < 400 or status >= 500:
            return None
        reason = _describe(response)
        if code == "M_LIMIT_EXCEEDED" or status == 429:
            # Retry-After (newer servers) is read by the client; else the body's milliseconds.
            after = None
            if "Retry-After" not in response.headers:
                milliseconds = retry_after_seconds(response.json().get("retry_after_ms"))
                after = None if milliseconds is None else milliseconds / 1000
            return Verdict(Outcome.RATE_LIMITED, f"rate limited: {reason}", status, after)
        if code in _AUTH:
            return Verdict(Outcome.AUTH, f"refused: {reason}", status)
        return Verdict(Outcome.REJECTED, reason, status)

    # -- calls -----------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        kind: Kind,
        ok: Sequence[int] = (),
        **options: Unpack[RequestOptions],
    ) -> requests.Response:
        """An authenticated call; a password login's refused token is renewed once.

        Args:
            method: HTTP method.
            path: under the homeserver, e.g. ``/_matrix/client/v3/account/whoami``.
            kind: what the call does (see :class:`~connectors.http.Kind`).
            ok: error statuses the caller handles itself.
            **options: passed to ``requests``.
        """
        response = self._authed(method, path, kind, ok, options)
        if self._renewable(response):
            self._renew()
            response = self._authed(method, path, kind, ok, options)
        if not response.ok and response.status_code not in ok:
            raise self.http.failure(response, kind)
        return response

    def _authed(
        self, method: str, path: str, kind: Kind, ok: Sequence[int], options: RequestOptions
    ) -> requests.Response:
        headers = dict(options.get("headers") or {})
        if self.settings.access_token is None:
            headers["Authorization"] = f"Bearer {self._session()['access_token']}"
        sent: RequestOptions = {**options, "headers": headers}
        return self.http.request(method, path, kind=kind, ok=(401, *ok), **sent)

    def _renewable(self, response: requests.Response) -> bool:
        return (
            response.status_code == 401
            and self.settings.access_token is None
            and errcode(response) in _RENEW
        )

    def _json(self, response: requests.Response, kind: Kind = Kind.READ) -> JsonObject:
        return self.http.json_object(response, kind)

    def _text(self, body: Mapping[str, object], key: str, kind: Kind = Kind.READ) -> str:
        value = body.get(key)
        if not isinstance(value, str) or not value:
            raise self.http.unreadable(f"the answer has no {key!r}", kind)
        return value

    # -- the session of a password login ----------------------------------------

    def _session(self) -> dict[str, str]:
        """The token in use: in memory, else saved in the state, else a new login."""
        session = self._login
        if session is None:
            saved = self.state.load().get("session")
            if isinstance(saved, dict) and self._usable(saved):
                session = {str(k): str(v) for k, v in saved.items()}
                self._remember(session)
            else:
                session = self._log_in()
        return session

    def _usable(self, saved: Mapping[str, object]) -> bool:
        settings = self.settings
        return (
            isinstance(saved.get("access_token"), str)
            and saved.get("user") == settings.user
            and saved.get("homeserver") == settings.homeserver
            and saved.get("device_id") == settings.device_id
        )

    def _remember(self, session: dict[str, str], *, save: bool = False) -> None:
        self.http.add_secret(session["access_token"])
        self.http.add_secret(session.get("refresh_token", ""))
        self._login = session
        if save:
            self.state.update(lambda data: data.update(session=session))

    def _log_in(self) -> dict[str, str]:
        """Log in with the password as the fixed device (its transaction ids carry over)."""
        settings = self.settings
        assert settings.user is not None and settings.password is not None
        body = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": settings.user},
            "password": settings.password.get_secret_value(),
            "device_id": settings.device_id,
            "initial_device_display_name": "crosspost",
            "refresh_token": True,
        }
        response = self.http.request(
            "POST", f"{CLIENT}/login", kind=Kind.HARMLESS_WRITE, ok=(400, 401, 403), json=body
        )
        if response.status_code in (400, 401, 403):
            raise self._auth_error(f"the homeserver refused the password ({_describe(response)})")
        self.log.info("logged in as device %s", settings.device_id)
        return self._keep(response)

    def _keep(self, response: requests.Response) -> dict[str, str]:
        answer = self._json(response, Kind.HARMLESS_WRITE)
        session = {
            "access_token": self._text(answer, "access_token", Kind.HARMLESS_WRITE),
            "user_id": str(answer.get("user_id") or ""),
            "user": str(self.settings.user),
            "homeserver": self.settings.homeserver,
            "device_id": self.settings.device_id,
        }
        refresh = answer.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            session["refresh_token"] = refresh
        elif self._login and self._login.get("refresh_token"):
            session["refresh_token"] = self._login["refresh_token"]
        self._remember(session, save=True)
        return session

    def _renew(self) -> None:
        """Refresh the token; when the refresh token is refused too, log in again."""
        refresh = (self._login or {}).get("refresh_token")
        if refresh:
            response = self.http.request(
                "POST",
                f"{CLIENT}/refresh",
                kind=Kind.HARMLESS_WRITE,
                ok=(400, 401, 403),
                json={"refresh_token": refresh},
            )
            if response.ok:
                self.log.info("refreshed the access token")
                self._keep(response)
                return
        self.log.info("the access token was refused; logging in again as the same device")
        self._login = None
        self._log_in()

    def _auth_error(self, reason: str) -> AuthError:
        message = (
            f"cannot sign in to {self.settings.homeserver}: {reason}. Check user and password "
            f"of account {self.account!r} (or give an access_token)"
        )
        return self.http.error(AuthError, message)

    # -- who and where ------------------------------------------------------------

    def user_id(self) -> str:
        """The account's full user id (``@bot:example.org``), asked once."""
        if self._user_id is None:
            login = self._session() if self.settings.access_token is None else {}
            if login.get("user_id"):
                self._user_id = login["user_id"]
            else:
                path = f"{CLIENT}/account/whoami"
                self._user_id = self._text(
                    self._json(self._call("GET", path, kind=Kind.READ)), "user_id"
                )
        return self._user_id

    def room_id(self) -> str:
        """The room's id: as written, or the alias resolved once per run.

        Room ids are opaque: nothing is read out of them (in room version 12 they
        have no server part at all).
        """
        room = self.settings.room
        if room.startswith("!"):
            return room
        if self._room_id is not None:
            return self._room_id
        path = f"{CLIENT}/directory/room/{quote(room, safe='')}"
        answer = self._json(self._call("GET", path, kind=Kind.READ))
        self._room_id = self._text(answer, "room_id")
        return self._room_id

    def room_path(self, *parts: str, api: str = CLIENT) -> str:
        """``<api>/rooms/<room id>/<parts…>``, each part quoted as one path segment."""
        quoted = "/".join(quote(part, safe="") for part in (self.room_id(), *parts))
        return f"{api}/rooms/{quoted}"

    def send_message(self, content: JsonObject, key: str) -> str:
        """PUT an ``m.room.message`` at the key's txn id: a resend returns the first event's id."""
        path = self.room_path("send", "m.room.message", txn_id(key))
        response = self._call("PUT", path, kind=Kind.KEYED_WRITE, json=content)
        return self._text(self._json(response, Kind.KEYED_WRITE), "event_id", Kind.KEYED_WRITE)

    def server_name(self) -> str:
        """The account's server, from its user id (user ids, unlike room ids, name it)."""
        return self.user_id().partition(":")[2]
