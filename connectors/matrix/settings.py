"""The ``accounts:`` entry of a Matrix room."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import ConnectorSettings

#: A room id (``!opaque``, with or without ``:server``) or an alias (``#name:server``).
_ROOM_RE = re.compile(r"^(![^\s/]+|#[^\s:]+:[^\s]+)$")
#: A full user id ``@name:server`` or a bare localpart ``name``.
_USER_RE = re.compile(r"^(@[^\s:]+:[^\s]+|[a-z0-9._=/+\-]+)$")
#: A loopback homeserver may be plain HTTP (a test or a server on the same machine).
_LOOPBACK_RE = re.compile(r"^http://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$")


class MatrixSettings(ConnectorSettings):
    """The ``accounts:`` entry of one Matrix room.

    Give either ``access_token``, or ``user`` and ``password``: with a password,
    crosspost logs in once as the device ``device_id`` and keeps the token in its
    state file, so every resend comes from the same device (transaction ids are
    remembered per device).

    Attributes:
        homeserver: the client-server API origin, e.g. ``https://matrix.example.org``.
        room: the room id (``!…``) or an alias (``#town:example.org``) resolved once per run.
        access_token: a token of the account that posts (e.g. a bot's).
        user: ``@bot:example.org`` or its localpart, for a password login.
        password: that account's password.
        device_id: the device the password login uses, the same every time.
        msgtype: ``m.text`` (default) or ``m.notice`` (how bots are expected to speak).
        inbox_stream: the daemon holds a ``/sync`` of the room open, so that a member's
            message is read as it arrives, not at the next poll.
    """

    homeserver: str
    room: str
    access_token: SecretStr | None = None
    user: str | None = None
    password: SecretStr | None = None
    device_id: str = Field(default="CROSSPOST", pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    msgtype: Literal["m.text", "m.notice"] = "m.text"
    inbox_stream: bool = False

    @field_validator("homeserver")
    @classmethod
    def _valid_homeserver(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not (re.match(r"^https://[^/\s]+$", value) or _LOOPBACK_RE.match(value)):
            raise ValueError("must be an https:// origin such as https://matrix.example.org")
        return value

    @field_validator("room")
    @classmethod
    def _valid_room(cls, value: str) -> str:
        value = value.strip()
        if not _ROOM_RE.match(value):
            raise ValueError("must be a room id (!…) or a room alias (#name:server)")
        return value

    @field_validator("user")
    @classmethod
    def _valid_user(cls, value: str | None) -> str | None:
        if value is not None and not _USER_RE.match(value.strip()):
            raise ValueError("must be a user id (@name:server) or its localpart")
        return None if value is None else value.strip()

    @field_validator("access_token", "password")
    @classmethod
    def _no_spaces(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> MatrixSettings:
        with_password = self.user is not None or self.password is not None
        if self.access_token is not None and with_password:
            raise ValueError("give access_token, or user and password, not both")
        if self.access_token is None and (self.user is None or self.password is None):
            raise ValueError("needs access_token, or user and password")
        return self
