"""Ghost Admin API tokens: a short-lived HS256 JWT signed with the admin key's secret.

https://docs.ghost.org/admin-api/#token-authentication: header ``kid`` = the key's
id, payload ``iat``, ``exp`` (at most five minutes later) and ``aud: /admin/``, signed
with the secret decoded from hex, sent as ``Authorization: Ghost <token>``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt

#: Ghost refuses tokens that live longer than five minutes.
LIFETIME = timedelta(minutes=5)
#: A token is replaced this long before it would expire (clock drift, slow requests).
RENEW_BEFORE = timedelta(minutes=1)


def admin_token(key_id: str, secret: str, now: datetime) -> str:
    """A token for the Admin API, valid from ``now`` for :data:`LIFETIME`."""
    issued = int(now.timestamp())
    claims = {"iat": issued, "exp": issued + int(LIFETIME.total_seconds()), "aud": "/admin/"}
    return jwt.encode(claims, bytes.fromhex(secret), algorithm="HS256", headers={"kid": key_id})
