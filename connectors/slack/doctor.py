"""``diagnose()`` for Slack: the bot's workspace, its scopes, its place in the channel.

- ``auth.test`` (https://docs.slack.dev/reference/methods/auth.test), a read: whose
  token it is. Every Web API answer names the token's scopes in ``x-oauth-scopes``
  (https://docs.slack.dev/authentication/tokens), so the missing ones can be named.
- ``conversations.info``: the channel exists, whether it is private (its read scopes
  are ``groups:…`` then) and whether the bot is a member (it must be, to post).

Slack sends no rate-limit headers before a 429; the headroom is not known.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.diagnosis import Diagnosis, missing
from connectors.http import HttpConnector, Kind
from connectors.slack.settings import SlackSettings

__all__ = ["SlackDoctor", "needed_scopes"]


def needed_scopes(private: bool) -> dict[str, str]:
    """Scope → what crosspost uses it for, for a public or a private channel."""
    kind = "groups" if private else "channels"
    return {
        "chat:write": "publish and retract messages",
        "files:write": "attach images",
        "reactions:read": "collect reactions",
        f"{kind}:read": "read the channel's member count",
        f"{kind}:history": "find a message after an uncertain publish",
    }


class SlackDoctor(HttpConnector[SlackSettings]):
    """``diagnose`` of :class:`connectors.slack.SlackConnector`."""

    def diagnose(self) -> Diagnosis:
        """The bot and workspace, the scopes it lacks, whether it is in the channel.

        Raises:
            AuthError: the token is refused (``invalid_auth``, ``token_revoked``…).
            RateLimited, Rejected, Transient.
        """
        response = self.http.request("GET", "auth.test", kind=Kind.READ)
        who = self.http.json_object(response, Kind.READ)
        header = response.headers.get("x-oauth-scopes")
        scopes = sorted(s.strip() for s in header.split(",") if s.strip()) if header else None
        params = {"channel": self.settings.channel}
        answer = self.http.json_object(
            self.http.request("GET", "conversations.info", kind=Kind.READ, params=params), Kind.READ
        )
        found = answer.get("channel")
        channel: Mapping[str, object] = found if isinstance(found, dict) else {}
        problems = []
        if scopes is not None:
            problems += missing(scopes, needed_scopes(bool(channel.get("is_private"))))
        if channel.get("is_member") is False:
            problems.append("the bot is not in the channel: invite it (/invite @app) to post there")
        notes = ["Slack sends no rate-limit headroom before it limits"]
        if scopes is None:
            notes.append("Slack did not list the token's scopes")
        return Diagnosis(
            identity=f"bot {who.get('user') or who.get('bot_id')} in {who.get('team')}",
            problems=tuple(problems),
            scopes=tuple(scopes) if scopes is not None else None,
            notes=tuple(notes),
            details={"channel": f"#{channel.get('name') or self.settings.channel}"},
        )
