"""Standard Webhooks v1 signatures: HMAC-SHA256 over ``{id}.{timestamp}.{body}``.

Spec: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
(section "Signature scheme"). The secret is written ``whsec_`` + base64 of 24 to 64
random bytes; the HMAC key is the decoded bytes, not the text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["SECRET_PREFIX", "decode_secret", "sign"]

SECRET_PREFIX = "whsec_"
#: The spec's bounds on the secret's size, in bytes.
_MIN_BYTES, _MAX_BYTES = 24, 64


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_…`` secret.

    Raises:
        ValueError: not ``whsec_`` + base64 of 24 to 64 bytes (the message never
            repeats the secret).
    """
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("must start with whsec_ (a Standard Webhooks secret)")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be whsec_ followed by base64") from None
    if not _MIN_BYTES <= len(key) <= _MAX_BYTES:
        raise ValueError(
            f"must hold {_MIN_BYTES} to {_MAX_BYTES} random bytes, not {len(key)} "
            "(e.g. whsec_ followed by the output of: openssl rand -base64 32)"
        )
    return key


def sign(key: bytes, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` value: ``v1,`` + base64 of the HMAC-SHA256 of the message."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")
