"""The ``accounts:`` entry of an e-mail (SMTP) newsletter account."""

from __future__ import annotations

import enum
import ipaddress
import re
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import ConnectorSettings
from connectors.email.addresses import address_problem

__all__ = ["EmailSettings", "Security", "placeholders"]

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
#: What a subject may name: the content's title and the day it is sent (YYYY-MM-DD).
SUBJECT_NAMES = frozenset({"title", "date"})
#: The longest unsubscribe value: it goes on one header line (RFC 5322: 998 characters).
_LONGEST_UNSUBSCRIBE = 800


class Security(enum.StrEnum):
    """How the connection to the SMTP server is protected."""

    #: Plain connection upgraded with STARTTLS before anything else (port 587).
    STARTTLS = "starttls"
    #: TLS from the first byte, "implicit TLS" (port 465).
    SSL = "ssl"
    #: No TLS at all: only for a relay on this machine (127.0.0.1, ::1, localhost).
    NONE = "none"

    @property
    def default_port(self) -> int:
        """The port this security usually runs on."""
        return {Security.STARTTLS: 587, Security.SSL: 465, Security.NONE: 25}[self]


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of ``template``."""
    return set(_PLACEHOLDER.findall(template))


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _only(template: str, allowed: frozenset[str], field: str) -> str:
    unknown = sorted(placeholders(template) - allowed)
    if unknown:
        names = ", ".join("{" + name + "}" for name in sorted(allowed))
        raise ValueError(f"{field}: unknown placeholder {{{unknown[0]}}} (known: {names})")
    return template


class EmailSettings(ConnectorSettings):
    """The ``accounts:`` entry of a newsletter sent through an SMTP server.

    Attributes:
        host: the SMTP server (your provider's submission server, or a local relay).
        port: defaults to 587 for ``starttls``, 465 for ``ssl``, 25 for ``none``.
        security: ``starttls``, ``ssl`` or ``none`` (``none`` only for a loopback host).
        username: the SMTP login, when the server wants one.
        password: ``${VAR}``; sent only over TLS (or to a loopback relay).
        from_address: the sender (``From:`` and the envelope sender).
        from_name: the name shown with it.
        reply_to: where replies go, when not to ``from_address``.
        recipients: a text file (one address a line, ``Name <address>`` allowed, ``#``
            comments) or a CSV with an ``email`` column and an optional ``name`` one;
            relative to the schedule's folder.
        subject: the subject line; ``{title}`` is the content's title, ``{date}`` the day.
        unsubscribe_url: an https URL for one-click unsubscribe (RFC 8058); ``{email}``
            becomes the recipient's address, percent-encoded.
        unsubscribe_mailto: an address (and ``?subject=…``) that unsubscribes by mail.
        unsubscribe_text: the footer link's words when ``unsubscribe_url`` is set.
        max_per_minute: messages sent in any one minute, at most.
        timeout: seconds to wait for the server at each step.
        ca_file: a CA bundle to trust instead of the system's (a relay with its own CA).
        base_dir: set by the core to the schedule's folder, not by users.
    """

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Security = Security.STARTTLS
    username: str | None = Field(default=None, min_length=1)
    password: SecretStr | None = None
    from_address: str
    from_name: str = ""
    reply_to: str | None = None
    recipients: Path
    subject: str = Field(default="{title}", min_length=1)
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    unsubscribe_text: str = Field(default="Unsubscribe", min_length=1)
    max_per_minute: int = Field(default=60, ge=1, le=10_000)
    timeout: float = Field(default=30.0, gt=0, le=300)
    ca_file: Path | None = None
    base_dir: Path | None = Field(default=None, repr=False)

    @property
    def effective_port(self) -> int:
        """The port to connect to."""
        return self.port or self.security.default_port

    @field_validator("from_address", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and (problem := address_problem(value)):
            raise ValueError(problem)
        return value

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("a subject is one line")
        return _only(value, SUBJECT_NAMES, "subject")

    @field_validator("unsubscribe_url")
    @classmethod
    def _unsubscribe_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("https://") or any(c in value for c in " <>\r\n"):
            raise ValueError("expected an https:// URL without spaces (RFC 8058 one-click)")
        if len(value) > _LONGEST_UNSUBSCRIBE:
            raise ValueError(f"longer than {_LONGEST_UNSUBSCRIBE} characters")
        return _only(value, frozenset({"email"}), "unsubscribe_url")

    @field_validator("unsubscribe_mailto")
    @classmethod
    def _unsubscribe_mailto(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.removeprefix("mailto:")
        address = value.split("?", 1)[0]
        if (problem := address_problem(address)) or any(c in value for c in "<>\r\n"):
            raise ValueError(problem or "expected an address, optionally with ?subject=…")
        if len(value) > _LONGEST_UNSUBSCRIBE:
            raise ValueError(f"longer than {_LONGEST_UNSUBSCRIBE} characters")
        return _only(value, frozenset({"email"}), "unsubscribe_mailto")

    @model_validator(mode="after")
    def _secure_enough(self) -> Self:
        if self.security is Security.NONE and not _is_loopback(self.host):
            raise ValueError(
                f"security: none sends everything in clear; only allowed for a relay on this "
                f"machine (127.0.0.1, ::1, localhost), not {self.host} (use starttls or ssl)"
            )
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together (set both, or neither)")
        return self
