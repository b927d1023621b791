"""The ``accounts:`` entry of a Reddit account: a "script" app, one user, one subreddit."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from connectors.base import ConnectorSettings
from connectors.http import crosspost_version

#: Submission kinds crosspost sends (``image``/``video`` need Reddit's media upload flow).
PostKind = Literal["self", "link"]
KINDS: frozenset[str] = frozenset({"self", "link"})
#: Subreddit names: 3–21 letters, digits or underscores (a few old ones have 2).
_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
#: Reddit usernames: 3–20 letters, digits, ``_`` or ``-``.
_USERNAME = re.compile(r"^[A-Za-z0-9_-]{3,20}$")


class RedditSettings(ConnectorSettings):
    """The ``accounts:`` entry of a Reddit account.

    Attributes:
        client_id: the "script" app's id (under its name at reddit.com/prefs/apps).
        client_secret: the app's secret.
        username: the Reddit user the app belongs to (a developer of the app).
        password: that user's password (accounts with two-factor sign-in cannot use it).
        subreddit: where posts go, without ``r/``.
        kind: ``self`` (text post) or ``link`` (the content's link, with the text as body).
        flair_id: a flair template id, when the subreddit requires flair.
        flair_text: flair text (for editable flair templates), at most 64 characters.
        send_replies: whether replies reach the user's inbox (the inbox reads them).
        nsfw: mark posts NSFW.
        spoiler: mark every post a spoiler (a content warning does it for one post).
        resubmit: post a link again even when it was submitted to the subreddit before.
        subscribers: report the subreddit's subscribers as followers (else the user's own).
        ignore_media: leave media out instead of refusing a post that has some.
        app_name: the app's name in the User-Agent Reddit requires.
    """

    # Validation errors would otherwise echo the whole entry, password included.
    model_config = ConfigDict(hide_input_in_errors=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    username: str
    password: SecretStr
    subreddit: str
    kind: PostKind = "self"
    flair_id: str | None = Field(default=None, min_length=1)
    flair_text: str | None = Field(default=None, min_length=1, max_length=64)
    send_replies: bool = True
    nsfw: bool = False
    spoiler: bool = False
    resubmit: bool = False
    subscribers: bool = False
    ignore_media: bool = False
    app_name: str = Field(default="crosspost", pattern=r"^[A-Za-z0-9._-]{1,40}$")

    @field_validator("subreddit")
    @classmethod
    def _subreddit_name(cls, value: str) -> str:
        return _name(
            value,
            r"^/?r/",
            _SUBREDDIT,
            "a subreddit name such as python (3–21 letters, digits or _)",
        )

    @field_validator("username")
    @classmethod
    def _user_name(cls, value: str) -> str:
        return _name(
            value,
            r"^/?u(ser)?/",
            _USERNAME,
            "a username such as club_bot (3–20 letters, digits, _ or -)",
        )

    @field_validator("client_secret", "password")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    def user_agent(self) -> str:
        """``<platform>:<app id>:<version> (by /u/<username>)``, the form Reddit asks for."""
        return f"python:{self.app_name}:{crosspost_version()} (by /u/{self.username})"


def _name(value: str, prefix: str, pattern: re.Pattern[str], what: str) -> str:
    """``value`` without its ``r/`` or ``u/`` and slashes, checked against ``pattern``."""
    name = re.sub(prefix, "", value.strip()).rstrip("/")
    if not pattern.fullmatch(name):
        raise ValueError(f"must be {what}")
    return name
