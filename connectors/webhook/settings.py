"""The ``accounts:`` entry of a webhook: where to POST, how to sign, what to send."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_core.core_schema import ValidationInfo

from connectors.base import ConnectorSettings
from connectors.webhook.payload import BodyTemplate, BodyTemplateError
from connectors.webhook.signing import decode_secret

#: RFC 9110 ``token``: what a header name may be made of.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: Headers crosspost writes itself; settings may not replace them.
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)


class WebhookSettings(ConnectorSettings):
    """The ``accounts:`` entry of a webhook.

    Attributes:
        templates_dir: set by the core to the project's templates folder, not by users.
        base_dir: set by the core to the schedule's folder, not by users.
        url: where each post is POSTed (``https://``, or ``http://`` on a network you trust).
        secret: ``whsec_`` + base64 secret to sign with (Standard Webhooks); unsigned without.
        body_template: a template in the templates folder that writes the JSON body;
            the documented ``post.published`` payload without.
        headers: sent with every request (values are masked in logs and errors).
        idempotency_header: a header that repeats the ``webhook-id``; null for none.
        timeout: seconds to wait for the receiver's answer.
    """

    # Validation errors would otherwise echo the whole entry, secret included.
    model_config = ConfigDict(hide_input_in_errors=True)

    templates_dir: Path | None = Field(default=None, repr=False)
    base_dir: Path | None = Field(default=None, repr=False)
    url: str
    secret: SecretStr | None = None
    body_template: str | None = Field(default=None, min_length=1)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    idempotency_header: str | None = "Idempotency-Key"
    timeout: float = Field(default=30.0, gt=0, le=120)

    _body: BodyTemplate | None = PrivateAttr(default=None)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// address such as https://hooks.example")
        if parts.fragment:
            raise ValueError("must not have a #fragment (it is never sent)")
        return value.strip()

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_secret(value.get_secret_value().strip())
            return SecretStr(value.get_secret_value().strip())
        return value

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a header name")
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"{name} is written by crosspost itself")
            if any(c in text for c in "\r\n\0"):
                raise ValueError(f"the value of {name} has a line break")
        return value

    @field_validator("idempotency_header")
    @classmethod
    def _idempotency_name(cls, value: str | None) -> str | None:
        if value is not None and not _HEADER_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a header name")
        if value is not None and value.lower() in RESERVED_HEADERS:
            raise ValueError(f"{value} is written by crosspost itself")
        return value

    @field_validator("body_template")
    @classmethod
    def _loads(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            _load(value, info.data.get("templates_dir"), info.data.get("base_dir"))
        return value

    @model_validator(mode="after")
    def _keep_template(self) -> Self:
        """The template as the files are now: a later edit reaches it only through a reload."""
        if self.body_template is not None:
            self._body = _load(self.body_template, self.templates_dir, self.base_dir)
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, object]]:
        """The address shown by its origin only: hook URLs often carry a token."""
        for name, value in super().__repr_args__():
            yield name, (origin(self.url) if name == "url" else value)

    def body(self) -> BodyTemplate | None:
        """The body template, or None for the documented payload."""
        return self._body

    def header_names(self) -> set[str]:
        """Lower-case names of the configured headers (for clashes with the idempotency one)."""
        return {name.lower() for name in self.headers}


def origin(url: str) -> str:
    """``scheme://host[:port]``, and ``/…`` when a path or query is hidden."""
    parts = urlsplit(url)
    hidden = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{hidden}"


def _load(name: str, templates_dir: Path | None, base_dir: Path | None) -> BodyTemplate:
    if templates_dir is None:
        raise ValueError("needs the project's templates folder (set by crosspost)")
    try:
        return BodyTemplate(templates_dir, name, base_dir)
    except BodyTemplateError as exc:
        raise ValueError(str(exc)) from None
