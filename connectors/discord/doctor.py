"""``diagnose()`` for Discord: the bot (or webhook), its permissions in the channel.

Read-only calls (https://discord.com/developers/docs/resources/):

- webhook mode: ``GET /webhooks/{id}/{token}`` (the webhook exists, and its channel);
- bot mode: ``GET /users/@me``, ``GET /channels/{id}``, the bot's member object and the
  server's roles, from which the bot's permissions in the channel are computed as
  https://discord.com/developers/docs/topics/permissions#permission-overwrites says;
  ``GET /applications/@me`` says whether the Message Content intent is on (without it
  the inbox reads member messages without their text, mentions of the bot excepted).

Every answer carries ``X-RateLimit-*`` headers; the headroom shown is the last call's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import requests

from connectors.diagnosis import Diagnosis, rate_headroom
from connectors.discord.reading import DiscordReading
from connectors.http import Kind
from connectors.payload import JSONObject

__all__ = ["NEEDED_PERMISSIONS", "DiscordDoctor", "channel_permissions"]

ADMINISTRATOR = 1 << 3
#: Permission bit → its name in Discord's settings and what crosspost uses it for.
NEEDED_PERMISSIONS = {
    1 << 10: ("View Channel", "see the channel"),
    1 << 11: ("Send Messages", "publish and answer"),
    1 << 14: ("Embed Links", "show link cards"),
    1 << 15: ("Attach Files", "attach images"),
    1 << 16: ("Read Message History", "collect reactions, find posts and read the inbox"),
}
#: ``GATEWAY_MESSAGE_CONTENT`` and ``GATEWAY_MESSAGE_CONTENT_LIMITED`` application flags.
_MESSAGE_CONTENT = (1 << 19) | (1 << 18)


def _bits(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _overwrite(permissions: int, allow: int, deny: int) -> int:
    return (permissions & ~deny) | allow


def channel_permissions(
    guild_id: str,
    member_roles: Sequence[str],
    roles: Sequence[Mapping[str, object]],
    overwrites: Sequence[Mapping[str, object]],
    user_id: str,
) -> int:
    """The permission bits of a member in a channel: roles, then the channel's overwrites."""
    role_bits = {str(r.get("id")): _bits(r.get("permissions")) for r in roles}
    base = role_bits.get(guild_id, 0)
    for role in member_roles:
        base |= role_bits.get(role, 0)
    if base & ADMINISTRATOR:
        return ~0
    by_id = {str(o.get("id")): o for o in overwrites}
    everyone = by_id.get(guild_id, {})
    base = _overwrite(base, _bits(everyone.get("allow")), _bits(everyone.get("deny")))
    allow = deny = 0
    for role in member_roles:
        found = by_id.get(role, {})
        allow, deny = allow | _bits(found.get("allow")), deny | _bits(found.get("deny"))
    base = _overwrite(base, allow, deny)
    own = by_id.get(user_id, {})
    return _overwrite(base, _bits(own.get("allow")), _bits(own.get("deny")))


class DiscordDoctor(DiscordReading):
    """``diagnose`` of :class:`connectors.discord.DiscordConnector`."""

    def diagnose(self) -> Diagnosis:
        """The bot or webhook, the permissions it lacks in the channel, the rate headroom.

        Raises:
            AuthError: the token or webhook is refused, or the bot cannot see the channel.
            RateLimited, Rejected, Transient.
        """
        if self._webhook is not None:
            return self._diagnose_webhook()
        me, _ = self._get("/users/@me", "GET /users/@me", "@me")
        channel_id = self._channel()
        channel, _ = self._get(f"/channels/{channel_id}", "GET /channels", channel_id)
        guild = str(channel.get("guild_id") or self.settings.guild_id or "")
        bot = str(me.get("id") or "")
        problems = self._missing_permissions(guild, bot, channel) if guild else []
        app, last = self._get("/applications/@me", "GET /applications/@me", "@me")
        notes = []
        if not _bits(app.get("flags")) & _MESSAGE_CONTENT:
            notes.append(
                "the Message Content intent is off: the inbox reads members' messages "
                "without their text (mentions of the bot excepted)"
            )
        return Diagnosis(
            identity=f"bot {me.get('username')}",
            problems=tuple(problems),
            notes=tuple(notes),
            rate=rate_headroom(last.headers),
            details={"channel": f"#{channel.get('name') or channel_id}", "server": guild},
        )

    def _get(self, path: str, route: str, major: str) -> tuple[JSONObject, requests.Response]:
        response = self._send("GET", path, route, major, kind=Kind.READ)
        return self.http.json_object(response, Kind.READ), response

    def _missing_permissions(
        self, guild: str, bot: str, channel: Mapping[str, object]
    ) -> list[str]:
        member, _ = self._get(f"/guilds/{guild}/members/{bot}", "GET /guilds/members", guild)
        response = self._send(
            "GET", f"/guilds/{guild}/roles", "GET /guilds/roles", guild, kind=Kind.READ
        )
        roles = self.http.json(response, Kind.READ)
        granted = channel_permissions(
            guild,
            [str(r) for r in _listed(member.get("roles"))],
            [r for r in _listed(roles) if isinstance(r, dict)],
            [o for o in _listed(channel.get("permission_overwrites")) if isinstance(o, dict)],
            bot,
        )
        return [
            f"the bot lacks {name} in this channel (needed to {purpose})"
            for bit, (name, purpose) in NEEDED_PERMISSIONS.items()
            if not granted & bit
        ]

    def _diagnose_webhook(self) -> Diagnosis:
        assert self._webhook is not None
        hook_id, token = self._webhook
        hook, response = self._get(f"/webhooks/{hook_id}/{token}", "GET /webhooks", hook_id)
        return Diagnosis(
            identity=f"webhook {hook.get('name') or hook_id}",
            notes=("a webhook needs no permissions, but cannot read its channel back",),
            rate=rate_headroom(response.headers),
            details={
                "channel": str(hook.get("channel_id") or ""),
                "server": str(hook.get("guild_id") or ""),
            },
        )
