"""Discord's numbers, codes and patterns, shared by the modules of the connector."""

from __future__ import annotations

import hashlib
import re

from connectors.base import STANDARD_CAPABILITIES, Capability

API = "https://discord.com/api/v10"
WEB = "https://discord.com/channels"
#: Request size Discord accepts for a message with its files.
MAX_REQUEST_BYTES = 25 * 1024 * 1024
POLL_QUESTION_MAX = 300
POLL_MAX_HOURS = 32 * 24
EMBED_TITLE_MAX = 256
NONCE_LENGTH = 25
MENTION_KINDS = frozenset({"users", "roles", "everyone"})
#: Every error status; ``_send`` maps them itself so it can read Discord's body first.
_PERMISSION_CODES = frozenset({50001, 50013})
_UNKNOWN_WEBHOOK = 10015
_UNKNOWN_MESSAGE = 10008
_WEBHOOK_URL_RE = re.compile(
    r"^https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api(?:/v\d+)?"
    r"/webhooks/(?P<id>\d+)/(?P<token>[\w-]+)/?$"
)
_SNOWFLAKE_RE = re.compile(r"^\d{1,20}$")
#: Messages per ``GET /channels/{id}/messages`` page (Discord's maximum).
INBOX_PAGE = 100
#: Pages read per ``fetch_inbox`` call when catching up from a cursor.
INBOX_PAGES = 5
#: Message types a member writes (DEFAULT, REPLY); the rest are system messages.
_MEMBER_TYPES = frozenset({0, 19})
_FORWARD = 1
#: Milliseconds from the Unix epoch to Discord's (snowflakes count from 2015-01-01).
DISCORD_EPOCH_MS = 1_420_070_400_000

_BOT_CAPABILITIES = STANDARD_CAPABILITIES | {
    Capability.POLLS,
    Capability.IDEMPOTENCY_KEY,
    Capability.INBOX,
    Capability.REPLY,
}
#: A webhook cannot read its channel: no nonce, no reconciliation, no inbox, no replies.
_WEBHOOK_CAPABILITIES = _BOT_CAPABILITIES - {
    Capability.IDEMPOTENCY_KEY,
    Capability.RECONCILE,
    Capability.INBOX,
    Capability.REPLY,
}


def nonce_for(idempotency_key: str) -> str:
    """The ``nonce`` sent for ``idempotency_key``: stable, at most 25 characters."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:NONCE_LENGTH]
