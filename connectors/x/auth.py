"""Signing X requests: OAuth 1.0a, or OAuth 2.0 with a refresh token that rotates."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from requests_oauthlib import OAuth1

from connectors.errors import AuthError, Rejected
from connectors.http import HttpClient, HttpConnector, Kind
from connectors.payload import read_model
from connectors.x.answers import (
    _EXPIRY_MARGIN,
    TOKEN_URL,
    SavedTokens,
    Token,
    _describe,
    saved_tokens,
)
from connectors.x.settings import XSettings


class XAuth(HttpConnector[XSettings]):
    """The client and credentials of one X account."""

    def _make_client(self) -> HttpClient:
        settings = self.settings
        secrets = [
            secret.get_secret_value()
            for secret in (
                settings.client_secret,
                settings.refresh_token,
                *settings.oauth1_keys(),
            )
            if secret is not None
        ]
        client = HttpClient(
            self.name,
            self.account,
            base_url=self.base_url,
            secrets=secrets,
            describe=_describe,
            classify=self.classify,
        )
        if not settings.uses_oauth2:
            keys = [key.get_secret_value() for key in settings.oauth1_keys() if key is not None]
            client.session.auth = OAuth1(keys[0], keys[1], keys[2], keys[3])
        return client

    def _now(self) -> datetime:
        return self.http.clock()

    def _auth_headers(self) -> dict[str, str]:
        """The bearer header for OAuth 2.0 (renewed when due); OAuth 1.0a signs itself."""
        if not self.settings.uses_oauth2:
            return {}
        saved = saved_tokens(self.state.load())
        token = saved.access_token
        expires = saved.expires_at
        due = not expires or datetime.fromisoformat(expires) - _EXPIRY_MARGIN <= self._now()
        if not token or due or not self._state_matches_settings(saved):
            token = self._refresh()
        self.http.add_secret(token)
        return {"Authorization": f"Bearer {token}"}

    def _seed(self) -> str:
        assert self.settings.refresh_token is not None
        seed = self.settings.refresh_token.get_secret_value().encode()
        return hashlib.sha256(seed).hexdigest()[:16]

    def _state_matches_settings(self, saved: SavedTokens) -> bool:
        """False once the user puts a new refresh token in the settings (re-authorised)."""
        return saved.seed == self._seed()

    def _refresh(self) -> str:
        """Trade the refresh token for a new pair and save both at once.

        Raises:
            AuthError: X refused the refresh token; the account must be re-authorised.
            Transient: X could not be reached.
        """
        settings = self.settings
        assert settings.client_id is not None and settings.refresh_token is not None
        state = self.state.load()
        saved = saved_tokens(state)
        if self._state_matches_settings(saved) and saved.refresh_token:
            refresh = saved.refresh_token
        else:
            refresh = settings.refresh_token.get_secret_value()
        self.http.add_secret(refresh)
        form = {"grant_type": "refresh_token", "refresh_token": refresh}
        form["client_id"] = settings.client_id
        secret = settings.client_secret
        auth = (settings.client_id, secret.get_secret_value()) if secret else None
        body = read_model(Token, self._token_request(form, auth))
        if body is None:
            raise self._reauthorise("the token answer had no access_token")
        access, renewed = body.access_token, body.refresh_token or refresh
        lifetime = 7200 if body.expires_in is None else body.expires_in
        self.http.add_secret(access)
        self.http.add_secret(renewed)
        expires_at = self._now() + timedelta(seconds=lifetime)
        self.state.save(
            {
                **state,
                "access_token": access,
                "refresh_token": renewed,
                "expires_at": expires_at.isoformat(),
                "seed": self._seed(),
                "scope": body.scope or "",  # what crosspost doctor shows
            }
        )
        self.log.info("renewed the OAuth 2.0 access token")
        return access

    def _token_request(self, form: dict[str, str], auth: tuple[str, str] | None) -> object:
        try:
            # No post can come of a token request; it is safe to try again.
            kind = Kind.HARMLESS_WRITE
            response = self.http.request("POST", TOKEN_URL, kind=kind, data=form, auth=auth)
            body = self.http.json(response, kind)
        except (AuthError, Rejected) as error:
            raise self._reauthorise(error.message) from None
        if not isinstance(body, dict):
            raise self._reauthorise("the token answer was not an object")
        return body

    def _reauthorise(self, reason: str) -> AuthError:
        return self.error(
            AuthError,
            f"X refused to renew the access token of account {self.account!r} ({reason}); "
            "authorise the app again with the offline.access scope and put the new "
            "refresh_token in the account settings",
        )
