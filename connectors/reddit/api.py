"""Talking to Reddit: the sign-in of a script app, the request budget, the envelope.

A script app signs in with the password grant and gets a bearer token that lasts
``expires_in`` seconds (an hour, or a day lately). The token is kept in the
account's state and renewed when it is about to expire, or once when Reddit
answers 401 (a token revoked early); renewing cannot post anything, so it is a
harmless write. Every answer of ``oauth.reddit.com`` carries the request budget
(``X-Ratelimit-Remaining``/``-Reset``/``-Used``): when it is spent, requests are
refused here, before they are sent, until the reset.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from pydantic import ValidationError

from connectors.base import AuthError, Rejected
from connectors.http import HttpClient, HttpConnector, Kind, Outcome, Verdict
from connectors.reddit.answers import API_URL, TOKEN_URL, Token, describe, envelope_verdict
from connectors.reddit.settings import RedditSettings

#: Renew the token this long before Reddit says it expires.
_EXPIRY_MARGIN = timedelta(minutes=2)


@dataclass
class RequestBudget:
    """What Reddit's ``X-Ratelimit-*`` headers said last: requests left until the reset."""

    remaining: float | None = None
    reset_at: datetime | None = None

    def remember(
        self, headers: requests.structures.CaseInsensitiveDict[str], now: datetime
    ) -> None:
        """Note the budget an answer announced (answers without the headers change nothing)."""
        try:
            remaining = float(headers["X-Ratelimit-Remaining"])
            reset = float(headers["X-Ratelimit-Reset"])
        except (KeyError, ValueError):
            return
        self.remaining, self.reset_at = remaining, now + timedelta(seconds=reset)

    def spent_until(self, now: datetime) -> datetime | None:
        """The reset, while no request is left before it; else None."""
        if self.remaining is None or self.reset_at is None:
            return None
        return self.reset_at if self.remaining < 1 and self.reset_at > now else None


class RedditApi(HttpConnector[RedditSettings]):
    """Signed-in calls to ``oauth.reddit.com`` for one account."""

    base_url = API_URL
    #: The request budget of this account (one app and one user share one budget).
    budget: RequestBudget
    _token: str | None = None
    _expires: datetime | None = None

    def _make_client(self) -> HttpClient:
        settings = self.settings
        client = HttpClient(
            self.name,
            self.account,
            base_url=self.base_url,
            headers={"User-Agent": settings.user_agent()},
            secrets=[
                settings.client_secret.get_secret_value(),
                settings.password.get_secret_value(),
            ],
            describe=describe,
            classify=self.classify,
        )
        self.budget = RequestBudget()
        client.session.hooks["response"].append(self._note_budget)
        return client

    def classify(self, response: requests.Response) -> Verdict | None:
        """Reddit's ``json.errors`` (HTTP 200), ``reason`` bodies and token refusals."""
        return envelope_verdict(response)

    def _note_budget(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        if response.url.startswith(API_URL):
            self.budget.remember(response.headers, self.http.clock())

    # -- calls ----------------------------------------------------------------

    def _api(
        self, method: str, path: str, kind: Kind, ok: tuple[int, ...] = (), **kwargs: Any
    ) -> requests.Response:
        """One signed-in call; a refused token is renewed once and the call made again.

        Args:
            ok: statuses besides 2xx the caller handles itself (401 is never one).

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown (by ``kind``).
        """
        kwargs["params"] = {**kwargs.get("params", {}), "raw_json": "1"}
        response = self._signed(method, path, kind, ok, kwargs)
        if response.status_code == 401:
            self.log.info("Reddit refused the access token; signing in again")
            self._forget_token()
            response = self._signed(method, path, kind, ok, kwargs)
            if response.status_code == 401:
                raise self.http.failure(response, kind)
        return response

    def _api_json(self, method: str, path: str, kind: Kind, **kwargs: Any) -> dict[str, Any]:
        """The JSON object a signed-in call answers."""
        return self.http.json_object(self._api(method, path, kind, **kwargs), kind)

    def _signed(
        self, method: str, path: str, kind: Kind, ok: tuple[int, ...], kwargs: dict[str, Any]
    ) -> requests.Response:
        self._refuse_when_spent(kind)
        headers = {**kwargs.get("headers", {}), "Authorization": f"bearer {self._access_token()}"}
        return self.http.request(
            method, path, kind=kind, ok=(401, *ok), **{**kwargs, "headers": headers}
        )

    def _refuse_when_spent(self, kind: Kind) -> None:
        until = self.budget.spent_until(self.http.clock())
        if until is not None:
            message = "Reddit's request budget is spent (X-Ratelimit-Remaining 0); not sending"
            raise self.http.failure_for(
                Verdict(Outcome.RATE_LIMITED, message, retry_at=until), kind
            )

    # -- the token ------------------------------------------------------------

    def _access_token(self) -> str:
        """The token in use: in memory, else saved for these settings, renewed when due."""
        if self._token is None:
            self._load_saved_token()
        due = self._expires is None or self._expires - _EXPIRY_MARGIN <= self.http.clock()
        if self._token is None or due:
            self._sign_in()
        assert self._token is not None
        self.http.add_secret(self._token)
        return self._token

    def _load_saved_token(self) -> None:
        saved = self.state.load()
        token, expires = saved.get("access_token"), saved.get("expires_at")
        if not (isinstance(token, str) and isinstance(expires, str)):
            return
        if saved.get("seed") != self._seed():
            return  # saved for another app, user or password
        try:
            self._expires = datetime.fromisoformat(expires)
        except ValueError:
            return
        self._token = token

    def _seed(self) -> str:
        """Who a saved token is for: a new app, user or password makes it unusable."""
        settings = self.settings
        who = "\x1f".join(
            (settings.client_id, settings.username, settings.password.get_secret_value())
        )
        return hashlib.sha256(who.encode()).hexdigest()[:16]

    def _forget_token(self) -> None:
        self._token = self._expires = None
        self.state.update(lambda data: data.pop("access_token", None))

    def _sign_in(self) -> None:
        """The password grant; the token and its expiry are saved for the next run.

        Raises:
            AuthError: Reddit refused the app or the user (never retried).
            RateLimited, Transient: Reddit could not answer now.
        """
        settings = self.settings
        form = {
            "grant_type": "password",
            "username": settings.username,
            "password": settings.password.get_secret_value(),
        }
        auth = (settings.client_id, settings.client_secret.get_secret_value())
        kind = Kind.HARMLESS_WRITE  # a token, never a post: safe to ask again
        try:
            response = self.http.request("POST", TOKEN_URL, kind=kind, data=form, auth=auth)
        except (AuthError, Rejected) as error:
            raise self._refused(error) from None
        try:
            token = Token.model_validate(self.http.json_object(response, kind))
        except ValidationError:
            raise self.http.unreadable("Reddit's token answer has no access_token", kind) from None
        self.http.add_secret(token.access_token)
        self._token = token.access_token
        self._expires = self.http.clock() + timedelta(seconds=token.expires_in)
        saved = {
            "access_token": token.access_token,
            "expires_at": self._expires.isoformat(),
            "scope": token.scope,
            "seed": self._seed(),
        }
        self.state.update(lambda data: data.update(saved))
        self.log.info("signed in to Reddit as /u/%s", settings.username)

    def _refused(self, error: AuthError | Rejected) -> AuthError:
        if error.status == 401:  # HTTP Basic with the app's id and secret failed
            message = "Reddit refused the app's client_id or client_secret"
            return self.error(AuthError, f"{message} ({error.message})", error.status)
        if isinstance(error, AuthError):
            return error
        return self.error(AuthError, f"Reddit refused the sign-in ({error.message})", error.status)
